"""Worker roles, identity and the console default when several workers share a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import build_adapters
from bot.commands import CommandCore
from bot.errors import SetupError
from bot.workers import parse_roles, update_lock_key
from tests.bot.conftest import make_settings


@pytest.mark.parametrize(
    ("text", "roles"),
    [
        ("poll,deliver,updates", ("poll", "deliver", "updates")),
        (" Poll , deliver ", ("poll", "deliver")),
        ("updates,updates", ("updates",)),
    ],
)
def test_roles_are_parsed(text: str, roles: tuple[str, ...]) -> None:
    assert parse_roles(text) == roles


@pytest.mark.parametrize("text", ["", "poll,send", ","])
def test_unknown_roles_say_what_to_use(text: str) -> None:
    with pytest.raises(SetupError, match="poll, deliver, updates"):
        parse_roles(text)


def test_the_update_lock_key_is_per_token_and_fits_a_bigint() -> None:
    a, b = update_lock_key("telegram", "1:a"), update_lock_key("telegram", "1:b")
    assert a != b and -(2**63) <= a < 2**63


def test_console_only_on_sqlite(tmp_path: Path, core: CommandCore) -> None:
    sqlite = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path)
    shared = make_settings("postgresql+asyncpg://u@db.example/digests", tmp_path)
    assert [a.platform for a in build_adapters(sqlite, core)] == ["console"]
    # A token-less worker on a shared database never subscribes its terminal there.
    assert build_adapters(shared, core) == []
