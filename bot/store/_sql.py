"""What every table module of the store shares: the engine handle, dialect-specific
insert-or-ignore, and chunking for statements with many bound parameters."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["CHUNK", "SqlBase", "chunks", "insert_ignore"]

CHUNK = 500  # rows per multi-row statement: well under SQLite's bound-parameter limit


def chunks(rows: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def insert_ignore(dialect: str, table: sa.Table, index_elements: list[str]) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` in the engine's dialect."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=index_elements)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing(index_elements=index_elements)
    raise NotImplementedError(f"digestbot supports SQLite and PostgreSQL, not {dialect}")


class SqlBase:
    """The state the table mixins of :class:`bot.store.SqlStore` share."""

    engine: AsyncEngine
    dialect: str
