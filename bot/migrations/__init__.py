"""Alembic migrations of the chat-side store, configured in code (no ``alembic.ini`` needed).

``upgrade_to_head(connection)`` runs inside :meth:`bot.store.SqlStore.upgrade` on the store's
own (async) connection, so the worker upgrades at start-up without a second engine. The
``alembic`` command line works too: ``alembic -c bot/alembic.ini upgrade head`` with
``DATABASE_URL`` set.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
