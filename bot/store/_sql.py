"""What every table module of the store shares: the engine handle, dialect-specific
insert-or-ignore, and chunking for statements with many bound parameters."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["CHUNK", "SqlBase", "chunks", "insert_ignore", "lease_free", "log", "once"]

log = logging.getLogger("bot.store")

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


def lease_free(table: sa.Table, now: datetime, dead_before: datetime | None) -> Any:
    """The row's lease may be taken: never taken, run out, or held by a worker whose
    heartbeat stopped before ``dead_before`` (a dead worker's leases need not run out first).

    A holder with no heartbeat row (``--once``, tests) is only ever waited out.
    """
    from bot.store.schema import workers_t

    free = [table.c.claimed_until.is_(None), table.c.claimed_until < now]
    if dead_before is not None:
        free.append(
            sa.exists().where(
                workers_t.c.id == table.c.claimed_by, workers_t.c.seen_at < dead_before
            )
        )
    return sa.or_(*free)


def once(pick: sa.Select[Any], name: str) -> sa.CTE:
    """``pick`` evaluated once per statement, as a materialized CTE.

    ``UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`` may run the
    sub-select again for each row it scans: the rows the statement itself just locked are
    skipped then, and the next n are taken too, so the LIMIT did not hold (one claim took
    every due chat). A materialized CTE is computed once.
    """
    return pick.cte(name).prefix_with("MATERIALIZED", dialect="postgresql")


class SqlBase:
    """The state the table mixins of :class:`bot.store.SqlStore` share."""

    engine: AsyncEngine
    dialect: str
