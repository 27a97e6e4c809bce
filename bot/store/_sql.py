"""What every table module of the store shares: the engine handle, dialect-specific
insert-or-ignore, and chunking for statements with many bound parameters."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.schema import UTCDateTime

if TYPE_CHECKING:
    from bot.store.entries import ParsedCards

__all__ = [
    "CHUNK",
    "SqlBase",
    "chunks",
    "insert_ignore",
    "lease_free",
    "lease_now",
    "lease_until",
    "log",
    "once",
]

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


def lease_now(dialect: str, now: datetime) -> Any:
    """ "Now" for leases: the database's clock on PostgreSQL, so that workers on hosts whose
    clocks disagree agree on when a lease ends (a worker whose clock runs ahead would
    otherwise take live leases, one whose clock runs behind would hold dead ones); the
    caller's ``now`` on SQLite (one worker, one clock)."""
    if dialect == "postgresql":
        return sa.func.now()
    return sa.literal(now, UTCDateTime())


def lease_until(dialect: str, now: datetime, seconds: float) -> Any:
    """``seconds`` after :func:`lease_now`: when a lease taken (or a pace set) now ends."""
    if dialect == "postgresql":
        return sa.func.now() + sa.literal(timedelta(seconds=seconds), sa.Interval())
    return now + timedelta(seconds=seconds)


def lease_free(table: sa.Table, dialect: str, now: datetime, dead_before: datetime | None) -> Any:
    """The row's lease may be taken: never taken, run out, or held by a worker whose
    heartbeat stopped before ``dead_before`` (a dead worker's leases need not run out first).

    Both on :func:`lease_now`'s clock: ``dead_before`` counts as ``now - dead_before``
    seconds before it (heartbeats are written on that clock too, see
    :meth:`bot.store.workers.SqlWorkers.heartbeat`). A holder with no heartbeat row
    (``--once``, tests) is only ever waited out.
    """
    from bot.store.schema import workers_t

    at = lease_now(dialect, now)
    free = [table.c.claimed_until.is_(None), table.c.claimed_until < at]
    if dead_before is not None:
        silent_since = lease_until(dialect, now, -(now - dead_before).total_seconds())
        free.append(
            sa.exists().where(
                workers_t.c.id == table.c.claimed_by, workers_t.c.seen_at < silent_since
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
    parsed_cards: ParsedCards
