"""Fixtures of the chat-core tests: a real store (SQLite in a temp file; PostgreSQL when
``DIGESTBOT_TEST_POSTGRES_URL`` is set), the real taxonomy, fake senders and feeds."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import App
from bot.commands import CommandCore
from bot.filters import TaxonomyCatalog
from bot.settings import Settings
from bot.store import SqlStore
from digests.config import CONFIG_DIR
from digests.topics import Taxonomy
from tests.bot.fakes import FakeAdapter, FakeClock, FakeSender

POSTGRES_URL = os.environ.get("DIGESTBOT_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return Taxonomy.load(CONFIG_DIR / "topics.toml")


@pytest.fixture
def catalog(taxonomy: Taxonomy) -> TaxonomyCatalog:
    return TaxonomyCatalog(taxonomy)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[SqlStore]:
    sql = SqlStore.from_url(db_url)
    await sql.upgrade()
    yield sql
    await sql.close()


@pytest.fixture
def core(store: SqlStore, catalog: TaxonomyCatalog, clock: FakeClock) -> CommandCore:
    return CommandCore(store, catalog, clock=clock)


def make_settings(db_url: str, tmp_path: Path, **values: object) -> Settings:
    base: dict[str, object] = {
        "database_url": db_url,
        "feeds_file": tmp_path / "no-feeds.toml",
        "poll_interval": 600,
        "allow_private_addresses": True,  # feeds and pages are servers on 127.0.0.1
    }
    base.update(values)
    return Settings(_env_file=None, **base)  # type: ignore[arg-type, call-arg]


def open_app(
    tmp_path: Path,
    sender: FakeSender,
    clock: FakeClock,
    transport: httpx.AsyncBaseTransport,
    **kw: object,
) -> App:
    """An App on a temp SQLite file with one fake chat platform, pacing off: enter it with
    ``async with``."""
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}", tmp_path)
    return App(
        settings,
        fetch_transport=transport,
        adapters=[FakeAdapter(sender)],
        clock=clock,
        pacing=False,
        **kw,  # type: ignore[arg-type]
    )


async def create_schema() -> str:
    """A fresh schema in the test PostgreSQL (dropped by :func:`drop_schema`)."""
    assert POSTGRES_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    return schema


def store_in_schema(schema: str) -> SqlStore:
    """A store (with its own engine, like a separate worker process) on ``schema``."""
    assert POSTGRES_URL
    engine = create_async_engine(
        POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}}
    )
    return SqlStore(engine)


async def postgres_schema_store() -> tuple[SqlStore, str]:
    schema = await create_schema()
    return store_in_schema(schema), schema


async def drop_schema(schema: str) -> None:
    assert POSTGRES_URL
    admin = create_async_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()
