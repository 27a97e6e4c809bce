"""Persistent state of the chat side, one module per domain:

* :mod:`bot.store.schema`: the tables and column types (Alembic reads them too);
* :mod:`bot.store.feeds`: feeds and their polling state;
* :mod:`bot.store.entries`: seen entries and stored cards;
* :mod:`bot.store.subscriptions`: who gets what;
* :mod:`bot.store.chat_feeds`: feeds added from chats and the chats that own them;
* :mod:`bot.store.outbox`: queued, leased, sent and failed items, and the delivery log;
* :mod:`bot.store.slack_installs`: Slack workspaces the app is installed in, OAuth states;
* :mod:`bot.store.ops`: health checks, outbox and failure summaries, alert conditions;
* :mod:`bot.store.workers`: running workers (heartbeats) and chat updates already answered;
* :mod:`bot.store.summaries`: LLM summaries shared by restarts and workers.

:class:`SqlStore` combines them over one SQLAlchemy async engine; the same SQL runs on SQLite
(aiosqlite, the default) and PostgreSQL (asyncpg). Its consumers depend on the small Protocols
in :mod:`bot.ports` (what the command core, the poller and delivery each need), not on this
class. All datetimes are timezone-aware UTC.

Writes that must land together go through one transaction::

    async with store.transaction() as tx:
        stored = await tx.record_entries(feed_id, entries, now)   # seen entries + cards
        await tx.enqueue(rows, now)                               # their outbox rows
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.models import (
    MODES,
    ChatRef,
    FeedRecord,
    OutboxItem,
    PollSuccess,
    QueueRow,
    SentRecord,
    StoredCard,
    Subscription,
)
from bot.ports import CommandStore, DeliveryStore, PollerStore
from bot.store.chat_feeds import SqlChatFeeds, feed_audience
from bot.store.entries import ParsedCards, SqlEntries, insert_entries
from bot.store.feeds import SqlFeeds, write_poll_successes
from bot.store.ops import SqlOps
from bot.store.outbox import SqlOutbox, insert_outbox
from bot.store.schema import (
    UTCDateTime,
    cards_t,
    delivery_log_t,
    entry_key,
    feeds_t,
    llm_summaries_t,
    metadata,
    outbox_t,
    seen_entries_t,
    subscriptions_t,
)
from bot.store.slack_installs import SqlSlackInstalls
from bot.store.subscriptions import SqlSubscriptions
from bot.store.summaries import SqlSummaries
from bot.store.workers import SqlWorkers
from digests.models import Card

# The command core's view of the store, under the name it had before the split.
SubscriptionStore = CommandStore

__all__ = [
    "MODES",
    "ChatRef",
    "CommandStore",
    "DeliveryStore",
    "FeedRecord",
    "OutboxItem",
    "PollerStore",
    "QueueRow",
    "SentRecord",
    "SqlStore",
    "StoreTransaction",
    "StoredCard",
    "Subscription",
    "SubscriptionStore",
    "UTCDateTime",
    "async_database_url",
    "cards_t",
    "delivery_log_t",
    "entry_key",
    "feeds_t",
    "llm_summaries_t",
    "metadata",
    "open_store",
    "outbox_t",
    "seen_entries_t",
    "subscriptions_t",
]

_UPGRADE_LOCK = 0x6469676573  # "diges": the advisory lock key of schema upgrades


def async_database_url(url: str) -> str:
    """``DATABASE_URL`` with the async driver this store runs on.

    Hosting platforms hand out ``postgres://`` or ``postgresql://`` URLs, and people write
    ``sqlite:///file.db``; those name no driver (or SQLAlchemy's synchronous default), so they
    are pointed at asyncpg and aiosqlite. A URL that names a driver is left as it is.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    drivers = {"postgres": "postgresql+asyncpg", "postgresql": "postgresql+asyncpg",
               "sqlite": "sqlite+aiosqlite"}  # fmt: skip
    return f"{drivers.get(scheme.lower(), scheme)}://{rest}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets readers (the command core, other connections) go on while delivery writes, and
    # with synchronous=NORMAL a commit no longer waits for an fsync: a power cut may lose the
    # last commits, never corrupt the file. The outbox already tolerates losing the last
    # "sent" records (those messages are sent again), so the trade is the same one.
    # In-memory databases answer "memory" and stay as they are.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # SQLite has one writer at a time; with feeds polled concurrently, writers queue up
    # behind each other (and behind card building holding the GIL) for longer than the
    # driver's default 5 s before "database is locked".
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@dataclass(frozen=True, slots=True)
class StoreTransaction:
    """Writes that commit together or not at all (see :meth:`SqlStore.transaction`)."""

    conn: AsyncConnection
    dialect: str

    async def record_entries(
        self, feed_id: int, entries: Sequence[tuple[str, Card | None]], now: datetime
    ) -> list[StoredCard]:
        """Mark entries seen and store their cards; returns the cards new to the store."""
        return await insert_entries(self.conn, self.dialect, feed_id, entries, now)

    async def enqueue(self, items: Sequence[QueueRow], now: datetime) -> int:
        """Queue outbox rows; pairs already queued are left alone. Returns how many are new."""
        return await insert_outbox(self.conn, self.dialect, items, now)

    async def feed_audience(self, feed_id: int) -> frozenset[int] | None:
        """The subscriptions a chat feed's cards may go to (its owners), read in this
        transaction; ``None`` for the operator's feeds, whose cards go to everyone."""
        return await feed_audience(self.conn, feed_id)

    async def record_poll_successes(self, polls: Sequence[PollSuccess]) -> None:
        """The feeds' polls went through (:meth:`SqlFeeds.record_poll_successes`), committed
        with the entries they recorded."""
        await write_poll_successes(self.conn, polls)

    async def hold_feed(self, feed_id: int, claim_token: str | None) -> bool:
        """Fencing for a poll's writes: True while ``claim_token`` still holds the feed, and
        then the feed's row stays locked until this transaction ends, so no other worker can
        take the feed over before the poll's entries and outbox rows are in. False (the
        caller rolls back) when the lease was taken over. No token: not fenced."""
        if claim_token is None:
            return True
        result = await self.conn.execute(
            sa.update(feeds_t)
            .where(feeds_t.c.id == feed_id, feeds_t.c.claim_token == claim_token)
            .values(claim_token=claim_token)
        )
        return bool(result.rowcount)


class SqlStore(
    SqlFeeds,
    SqlChatFeeds,
    SqlEntries,
    SqlSubscriptions,
    SqlOutbox,
    SqlWorkers,
    SqlOps,
    SqlSlackInstalls,
    SqlSummaries,
):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.parsed_cards = ParsedCards()
        if self.dialect == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)

    @classmethod
    def from_url(cls, url: str) -> SqlStore:
        url = async_database_url(url)
        return cls(create_async_engine(url, pool_pre_ping=not url.startswith("sqlite")))

    async def upgrade(self) -> None:
        """Alembic upgrade to the newest schema."""
        from bot.migrations import upgrade_to_head

        async with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                # Workers starting together must not create the same tables at once; the lock
                # is released when this transaction ends.
                await conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK}
                )
            await conn.run_sync(upgrade_to_head)

    async def close(self) -> None:
        await self.engine.dispose()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[StoreTransaction]:
        """One database transaction: committed when the block ends, rolled back if it raises.

        The poller writes seen entries, their cards and their outbox rows through one of
        these: an entry recorded as seen is never looked at again, so were its outbox rows
        written apart, a crash between the two would lose those cards for good.
        """
        async with self.engine.begin() as conn:
            yield StoreTransaction(conn, self.dialect)


@contextlib.asynccontextmanager
async def open_store(url: str, *, upgrade: bool = True) -> AsyncIterator[SqlStore]:
    """The store at ``url`` (schema upgraded unless told not to), closed on the way out.

    Every command-line entry point gets its store here, as the worker does.
    """
    store = SqlStore.from_url(url)
    try:
        if upgrade:
            await store.upgrade()
        yield store
    finally:
        await store.close()
