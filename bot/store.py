"""Persistent state of the chat side: feeds, seen entries, cards, subscriptions, the outbox.

SQLAlchemy 2 Core over an async engine; the same SQL runs on SQLite (aiosqlite, the default)
and PostgreSQL (asyncpg). The schema is owned by Alembic (``bot/migrations``): the tables below
mirror migration ``0001`` and a test checks that they never drift apart.

Public API (all datetimes timezone-aware UTC)::

    store = SqlStore.from_url(url)          # or SqlStore(engine)
    await store.upgrade()                   # Alembic upgrade to head
    await store.close()

    # feeds
    await store.add_feed(url, name=None, topics=()) -> tuple[FeedRecord, bool]   # (feed, created)
    await store.get_feed(url) -> FeedRecord | None
    await store.list_feeds() -> list[FeedRecord]
    await store.remove_feed(url) -> bool
    await store.due_feeds(now) -> list[FeedRecord]
    await store.record_poll_success(feed_id, *, etag, last_modified, ttl_minutes, now,
                                    next_poll_at) -> None
    await store.record_poll_failure(feed_id, *, error, now, next_poll_at) -> None
    # entries and cards
    await store.unseen_entry_ids(feed_id, entry_ids) -> set[str]
    await store.record_entries(feed_id, entries: Sequence[tuple[str, Card | None]], now)
        -> list[StoredCard]              # insert-or-ignore: only the entries new to the store
    await store.latest_cards(limit, *, feed_id=None) -> list[StoredCard]
    # subscriptions
    await store.get_subscription(chat) -> Subscription | None
    await store.save_subscription(sub) -> Subscription        # upsert by (platform, chat_id)
    await store.active_subscriptions() -> list[Subscription]
    await store.deactivate_subscription(subscription_id, reason, now) -> int  # items dropped
    # outbox
    await store.enqueue(items: Sequence[tuple[int, int, datetime]], now) -> int
        # (subscription_id, card_id, not_before); a pair already queued is ignored
    await store.reschedule_pending(subscription_id, not_before) -> int
    await store.claim_due(now, *, lease_seconds, limit, platforms) -> list[OutboxItem]
    await store.mark_sent(ids, now) / mark_retry(ids, not_before, error) /
          mark_failed(ids, error, now) / release(ids)
    await store.record_sent(records: Sequence[SentRecord]) -> None
        # many sends at once: one UPDATE of the items + one INSERT of their log rows
    await store.log_delivery(subscription_id, outcome, detail, now, count=1)
    await store.move_subscription(subscription_id, chat_id, now) -> Subscription | None
        # the chat got a new id (Telegram group -> supergroup); pending items follow
    await store.outbox_counts() -> dict[str, int]

``Store`` is the Protocol the rest of ``bot/`` depends on; :class:`SqlStore` is its one
implementation.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.ports import ChatRef
from digests.models import Card

__all__ = [
    "FeedRecord",
    "OutboxItem",
    "SentRecord",
    "SqlStore",
    "Store",
    "StoredCard",
    "Subscription",
    "entry_key",
    "metadata",
]

MODES = ("instant", "hourly", "daily")

# --- plain data -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedRecord:
    id: int
    url: str
    name: str | None
    topics: tuple[str, ...]
    etag: str | None
    last_modified: str | None
    ttl_minutes: int | None
    error_count: int
    last_error: str | None
    next_poll_at: datetime | None
    last_polled_at: datetime | None
    added_at: datetime
    initialized: bool  # the first poll happened: its entries were recorded, not broadcast


@dataclass(frozen=True, slots=True)
class StoredCard:
    id: int
    feed_id: int | None
    card: Card
    created_at: datetime


# Which outbox rows (subscription id, card id, not before) the newly stored cards make; run
# inside the transaction that stores them (see SqlStore.record_entries).
QueuePlan = Callable[[list[StoredCard]], Sequence[tuple[int, int, datetime]]]


@dataclass(frozen=True, slots=True)
class Subscription:
    chat: ChatRef
    filters: tuple[str, ...] = ()  # empty: everything
    mode: str = "instant"  # instant | hourly | daily
    daily_time: str | None = None  # "HH:MM" in ``timezone``, for daily
    timezone: str = "UTC"
    active: bool = True
    deactivated_reason: str | None = None
    title: str | None = None
    id: int | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    subscription: Subscription
    card_id: int
    card: Card
    attempts: int
    not_before: datetime


@dataclass(frozen=True, slots=True)
class SentRecord:
    """One message that went out: the outbox items it carried, for :meth:`Store.record_sent`."""

    subscription_id: int
    item_ids: tuple[int, ...]
    at: datetime


def entry_key(entry_id: str) -> str:
    """A fixed-length key for an entry id (ids can be long URLs; unique indexes want bounds)."""
    return hashlib.sha256(entry_id.encode("utf-8")).hexdigest()


# --- schema -----------------------------------------------------------------------------


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on SQLite (naive storage) and PostgreSQL (timestamptz)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

feeds_t = sa.Table(
    "feeds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("url", sa.String(2048), nullable=False, unique=True),
    sa.Column("name", sa.String(300)),
    sa.Column("topics", sa.JSON, nullable=False),
    sa.Column("etag", sa.String(500)),
    sa.Column("last_modified", sa.String(100)),
    sa.Column("ttl_minutes", sa.Integer),
    sa.Column("error_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("next_poll_at", UTCDateTime),
    sa.Column("last_polled_at", UTCDateTime),
    sa.Column("added_at", UTCDateTime, nullable=False),
    sa.Column("initialized", sa.Boolean, nullable=False, server_default=sa.false()),
)

seen_entries_t = sa.Table(
    "seen_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    sa.Column("entry_key", sa.String(64), nullable=False),
    sa.Column("entry_id", sa.Text, nullable=False),
    sa.Column("seen_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("feed_id", "entry_key", name="uq_seen_entries_feed_entry"),
)

cards_t = sa.Table(
    "cards",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=True),
    sa.Column("entry_key", sa.String(64), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("published_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("feed_id", "entry_key", name="uq_cards_feed_entry"),
    sa.Index("ix_cards_created_at", "created_at"),
)

subscriptions_t = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("platform", sa.String(20), nullable=False),
    sa.Column("chat_id", sa.String(100), nullable=False),
    sa.Column("title", sa.String(300)),
    sa.Column("filters", sa.JSON, nullable=False),
    sa.Column("mode", sa.String(10), nullable=False, server_default="instant"),
    sa.Column("daily_time", sa.String(5)),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("deactivated_reason", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("platform", "chat_id", name="uq_subscriptions_platform_chat"),
)

outbox_t = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "subscription_id",
        sa.Integer,
        sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("card_id", sa.Integer, sa.ForeignKey("cards.id", ondelete="CASCADE"), nullable=False),
    sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("not_before", UTCDateTime, nullable=False),
    sa.Column("claimed_until", UTCDateTime),
    sa.Column("claim_token", sa.String(36)),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.UniqueConstraint("subscription_id", "card_id", name="uq_outbox_subscription_card"),
    sa.Index("ix_outbox_status_not_before", "status", "not_before"),
)

delivery_log_t = sa.Table(
    "delivery_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("subscription_id", sa.Integer),  # no FK: the log outlives subscriptions
    sa.Column("outcome", sa.String(20), nullable=False),  # sent | retry | failed | gone
    sa.Column("detail", sa.Text),
    sa.Column("item_count", sa.Integer, nullable=False, server_default="1"),
    sa.Column("at", UTCDateTime, nullable=False),
)


# --- the Protocol -----------------------------------------------------------------------


class SubscriptionStore(Protocol):
    """What the command core needs."""

    async def get_subscription(self, chat: ChatRef) -> Subscription | None: ...

    async def save_subscription(self, sub: Subscription) -> Subscription: ...

    async def deactivate_subscription(
        self, subscription_id: int, reason: str, now: datetime
    ) -> int: ...

    async def reschedule_pending(self, subscription_id: int, not_before: datetime) -> int: ...

    async def latest_cards(self, limit: int, *, feed_id: int | None = None) -> list[StoredCard]: ...


class Store(SubscriptionStore, Protocol):
    """Everything the worker and delivery need on top."""

    async def upgrade(self) -> None: ...

    async def close(self) -> None: ...

    async def add_feed(
        self, url: str, *, name: str | None = None, topics: Sequence[str] = ()
    ) -> tuple[FeedRecord, bool]: ...

    async def get_feed(self, url: str) -> FeedRecord | None: ...

    async def list_feeds(self) -> list[FeedRecord]: ...

    async def remove_feed(self, url: str) -> bool: ...

    async def due_feeds(self, now: datetime) -> list[FeedRecord]: ...

    async def record_poll_success(
        self,
        feed_id: int,
        *,
        etag: str | None,
        last_modified: str | None,
        ttl_minutes: int | None,
        now: datetime,
        next_poll_at: datetime,
    ) -> None: ...

    async def record_poll_failure(
        self, feed_id: int, *, error: str, now: datetime, next_poll_at: datetime
    ) -> None: ...

    async def unseen_entry_ids(self, feed_id: int, entry_ids: Iterable[str]) -> set[str]: ...

    async def record_entries(
        self,
        feed_id: int,
        entries: Sequence[tuple[str, Card | None]],
        now: datetime,
        *,
        plan: QueuePlan | None = None,
    ) -> list[StoredCard]: ...

    async def active_subscriptions(self) -> list[Subscription]: ...

    async def enqueue(self, items: Sequence[tuple[int, int, datetime]], now: datetime) -> int: ...

    async def claim_due(
        self, now: datetime, *, lease_seconds: float, limit: int, platforms: Iterable[str]
    ) -> list[OutboxItem]: ...

    async def mark_sent(self, ids: Sequence[int], now: datetime) -> None: ...

    async def mark_retry(
        self, ids: Sequence[int], not_before: datetime, error: str, *, count_attempt: bool = True
    ) -> None: ...

    async def mark_failed(self, ids: Sequence[int], error: str, now: datetime) -> None: ...

    async def record_sent(self, records: Sequence[SentRecord]) -> None: ...

    async def move_subscription(
        self, subscription_id: int, chat_id: str, now: datetime
    ) -> Subscription | None: ...

    async def release(self, ids: Sequence[int]) -> None: ...

    async def log_delivery(
        self,
        subscription_id: int | None,
        outcome: str,
        detail: str | None,
        now: datetime,
        count: int = 1,
    ) -> None: ...

    async def outbox_counts(self) -> dict[str, int]: ...


# --- SQLAlchemy implementation ------------------------------------------------------------

_LOCK = 0x6469676573  # "diges": the advisory lock key of schema upgrades
_CHUNK = 500  # rows per multi-row INSERT: well under SQLite's bound-parameter limit


def _chunks(rows: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


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
    cursor.close()


class SqlStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name
        if self._dialect == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)

    @classmethod
    def from_url(cls, url: str) -> SqlStore:
        url = async_database_url(url)
        return cls(create_async_engine(url, pool_pre_ping=not url.startswith("sqlite")))

    async def upgrade(self) -> None:
        from bot.migrations import upgrade_to_head

        async with self.engine.begin() as conn:
            if self._dialect == "postgresql":
                # Workers starting together must not create the same tables at once; the lock
                # is released when this transaction ends.
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
            await conn.run_sync(upgrade_to_head)

    async def close(self) -> None:
        await self.engine.dispose()

    # --- helpers ------------------------------------------------------------------------

    def _insert_ignore(self, table: sa.Table, index_elements: list[str]) -> Any:
        """``INSERT ... ON CONFLICT DO NOTHING`` in the engine's dialect."""
        if self._dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).on_conflict_do_nothing(index_elements=index_elements)
        if self._dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(table).on_conflict_do_nothing(index_elements=index_elements)
        raise NotImplementedError(f"digestbot supports SQLite and PostgreSQL, not {self._dialect}")

    # --- feeds --------------------------------------------------------------------------

    async def add_feed(
        self, url: str, *, name: str | None = None, topics: Sequence[str] = ()
    ) -> tuple[FeedRecord, bool]:
        now = datetime.now(UTC)
        async with self.engine.begin() as conn:
            stmt = self._insert_ignore(feeds_t, ["url"]).values(
                url=url,
                name=name,
                topics=list(topics),
                added_at=now,
                error_count=0,
                initialized=False,
            )
            created = (await conn.execute(stmt.returning(feeds_t.c.id))).first() is not None
            if not created and (name is not None or topics):
                values: dict[str, Any] = {}
                if name is not None:
                    values["name"] = name
                if topics:
                    values["topics"] = list(topics)
                await conn.execute(sa.update(feeds_t).where(feeds_t.c.url == url).values(values))
            row = (await conn.execute(sa.select(feeds_t).where(feeds_t.c.url == url))).one()
        return _feed(row), created

    async def get_feed(self, url: str) -> FeedRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(feeds_t).where(feeds_t.c.url == url))).first()
        return _feed(row) if row else None

    async def list_feeds(self) -> list[FeedRecord]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(feeds_t).order_by(feeds_t.c.id))).all()
        return [_feed(r) for r in rows]

    async def remove_feed(self, url: str) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(sa.delete(feeds_t).where(feeds_t.c.url == url))
        return bool(result.rowcount)

    async def due_feeds(self, now: datetime) -> list[FeedRecord]:
        stmt = (
            sa.select(feeds_t)
            .where(sa.or_(feeds_t.c.next_poll_at.is_(None), feeds_t.c.next_poll_at <= now))
            .order_by(feeds_t.c.id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_feed(r) for r in rows]

    async def record_poll_success(
        self,
        feed_id: int,
        *,
        etag: str | None,
        last_modified: str | None,
        ttl_minutes: int | None,
        now: datetime,
        next_poll_at: datetime,
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                sa.update(feeds_t)
                .where(feeds_t.c.id == feed_id)
                .values(
                    etag=etag,
                    last_modified=last_modified,
                    ttl_minutes=ttl_minutes,
                    error_count=0,
                    last_error=None,
                    last_polled_at=now,
                    next_poll_at=next_poll_at,
                    initialized=True,
                )
            )

    async def record_poll_failure(
        self, feed_id: int, *, error: str, now: datetime, next_poll_at: datetime
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                sa.update(feeds_t)
                .where(feeds_t.c.id == feed_id)
                .values(
                    error_count=feeds_t.c.error_count + 1,
                    last_error=error[:2000],
                    last_polled_at=now,
                    next_poll_at=next_poll_at,
                )
            )

    # --- entries and cards ----------------------------------------------------------------

    async def unseen_entry_ids(self, feed_id: int, entry_ids: Iterable[str]) -> set[str]:
        by_key = {entry_key(e): e for e in entry_ids}
        if not by_key:
            return set()
        seen: set[str] = set()
        keys = list(by_key)
        async with self.engine.connect() as conn:
            for chunk in _chunks(keys):
                stmt = sa.select(seen_entries_t.c.entry_key).where(
                    seen_entries_t.c.feed_id == feed_id, seen_entries_t.c.entry_key.in_(chunk)
                )
                seen.update((await conn.execute(stmt)).scalars())
        return {entry for key, entry in by_key.items() if key not in seen}

    async def record_entries(
        self,
        feed_id: int,
        entries: Sequence[tuple[str, Card | None]],
        now: datetime,
        *,
        plan: QueuePlan | None = None,
    ) -> list[StoredCard]:
        """Mark entries seen, store their cards and queue them (``plan``), in one transaction.

        One transaction because an entry recorded as seen is never looked at again: were the
        outbox rows written apart, a crash between the two would lose those cards for good.
        Insert-or-ignore on (feed, entry): when two workers race on the same feed, only the
        one whose insert lands gets the card back, so only that one queues it.
        """
        by_key: dict[str, tuple[str, Card | None]] = {}
        for entry_id, card in entries:
            by_key.setdefault(entry_key(entry_id), (entry_id, card))
        if not by_key:
            return []
        stored: list[StoredCard] = []
        async with self.engine.begin() as conn:
            new_keys: set[str] = set()
            rows = [
                {"feed_id": feed_id, "entry_key": k, "entry_id": e, "seen_at": now}
                for k, (e, _) in by_key.items()
            ]
            for chunk in _chunks(rows):
                stmt = self._insert_ignore(seen_entries_t, ["feed_id", "entry_key"])
                result = await conn.execute(
                    stmt.values(list(chunk)).returning(seen_entries_t.c.entry_key)
                )
                new_keys.update(result.scalars())
            for key in by_key:
                entry_id, card = by_key[key]
                if key not in new_keys or card is None:
                    continue
                stmt = self._insert_ignore(cards_t, ["feed_id", "entry_key"]).values(
                    feed_id=feed_id,
                    entry_key=key,
                    data=card.to_dict(),
                    published_at=card.published,
                    created_at=now,
                )
                card_id = (await conn.execute(stmt.returning(cards_t.c.id))).scalar()
                if card_id is not None:
                    stored.append(StoredCard(card_id, feed_id, card, now))
            if plan is not None and stored:
                await self._insert_outbox(conn, plan(stored), now)
        return stored

    async def latest_cards(self, limit: int, *, feed_id: int | None = None) -> list[StoredCard]:
        # Newest by publication date when known, then by arrival; NULL dates sort last on both.
        order_published = sa.case((cards_t.c.published_at.is_(None), 1), else_=0)
        stmt = sa.select(cards_t).order_by(
            order_published, cards_t.c.published_at.desc(), cards_t.c.id.desc()
        )
        if feed_id is not None:
            stmt = stmt.where(cards_t.c.feed_id == feed_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt.limit(limit))).all()
        return [_stored_card(r) for r in rows]

    # --- subscriptions --------------------------------------------------------------------

    async def get_subscription(self, chat: ChatRef) -> Subscription | None:
        stmt = sa.select(subscriptions_t).where(
            subscriptions_t.c.platform == chat.platform, subscriptions_t.c.chat_id == chat.chat_id
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        return _subscription(row) if row else None

    async def save_subscription(self, sub: Subscription) -> Subscription:
        now = datetime.now(UTC)
        values = {
            "title": sub.title,
            "filters": list(sub.filters),
            "mode": sub.mode,
            "daily_time": sub.daily_time,
            "timezone": sub.timezone,
            "active": sub.active,
            "deactivated_reason": sub.deactivated_reason,
            "updated_at": now,
        }
        key = (subscriptions_t.c.platform == sub.chat.platform) & (
            subscriptions_t.c.chat_id == sub.chat.chat_id
        )
        async with self.engine.begin() as conn:
            insert = self._insert_ignore(subscriptions_t, ["platform", "chat_id"]).values(
                platform=sub.chat.platform, chat_id=sub.chat.chat_id, created_at=now, **values
            )
            created = (await conn.execute(insert.returning(subscriptions_t.c.id))).first()
            if created is None:
                await conn.execute(sa.update(subscriptions_t).where(key).values(values))
            row = (await conn.execute(sa.select(subscriptions_t).where(key))).one()
        return _subscription(row)

    async def active_subscriptions(self) -> list[Subscription]:
        stmt = (
            sa.select(subscriptions_t)
            .where(subscriptions_t.c.active.is_(True))
            .order_by(subscriptions_t.c.id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_subscription(r) for r in rows]

    async def deactivate_subscription(
        self, subscription_id: int, reason: str, now: datetime
    ) -> int:
        """Deactivate and drop its pending items (as failed, with the reason)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                sa.update(subscriptions_t)
                .where(subscriptions_t.c.id == subscription_id)
                .values(active=False, deactivated_reason=reason, updated_at=now)
            )
            result = await conn.execute(
                sa.update(outbox_t)
                .where(
                    outbox_t.c.subscription_id == subscription_id,
                    outbox_t.c.status == "pending",
                )
                .values(status="failed", last_error=reason, claimed_until=None, claim_token=None)
            )
        return int(result.rowcount or 0)

    # --- outbox ---------------------------------------------------------------------------

    async def enqueue(self, items: Sequence[tuple[int, int, datetime]], now: datetime) -> int:
        async with self.engine.begin() as conn:
            return await self._insert_outbox(conn, items, now)

    async def _insert_outbox(
        self, conn: AsyncConnection, items: Sequence[tuple[int, int, datetime]], now: datetime
    ) -> int:
        rows = [
            {
                "subscription_id": s,
                "card_id": c,
                "not_before": nb,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
            }
            for s, c, nb in items
        ]
        queued = 0
        for chunk in _chunks(rows):
            stmt = self._insert_ignore(outbox_t, ["subscription_id", "card_id"])
            result = await conn.execute(stmt.values(list(chunk)).returning(outbox_t.c.id))
            queued += len(result.all())
        return queued

    async def reschedule_pending(self, subscription_id: int, not_before: datetime) -> int:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                sa.update(outbox_t)
                .where(
                    outbox_t.c.subscription_id == subscription_id,
                    outbox_t.c.status == "pending",
                    outbox_t.c.attempts == 0,  # retries keep their back-off
                )
                .values(not_before=not_before)
            )
        return int(result.rowcount or 0)

    async def claim_due(
        self, now: datetime, *, lease_seconds: float, limit: int, platforms: Iterable[str]
    ) -> list[OutboxItem]:
        """Atomically lease due pending items of active subscriptions on ``platforms``.

        The lease (``claimed_until``) keeps other workers off the items; when a worker dies its
        lease runs out and the items are taken again. The outer WHERE repeats the conditions so
        that PostgreSQL re-checks them on the row version it locks.
        """
        platforms = list(platforms)
        if not platforms:
            return []
        token = str(uuid.uuid4())
        # EXISTS looks up the subscription of each item it scans (a primary-key probe), where
        # IN (SELECT ...) listed every active subscription, twice per claim.
        active_sub = (
            sa.select(subscriptions_t.c.id)
            .where(
                subscriptions_t.c.id == outbox_t.c.subscription_id,
                subscriptions_t.c.active.is_(True),
                subscriptions_t.c.platform.in_(platforms),
            )
            .exists()
        )
        due = sa.and_(
            outbox_t.c.status == "pending",
            outbox_t.c.not_before <= now,
            sa.or_(outbox_t.c.claimed_until.is_(None), outbox_t.c.claimed_until < now),
            active_sub,
        )
        # Earliest due first, in queue order: the order of ix_outbox_status_not_before (SQLite
        # keeps equal keys in rowid order), so the scan stops after ``limit`` rows instead of
        # sorting every pending item.
        pick = (
            sa.select(outbox_t.c.id)
            .where(due)
            .order_by(outbox_t.c.not_before, outbox_t.c.id)
            .limit(limit)
        )
        if self._dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        claim = (
            sa.update(outbox_t)
            .where(outbox_t.c.id.in_(pick.scalar_subquery()), due)
            .values(claimed_until=now + timedelta(seconds=lease_seconds), claim_token=token)
        )
        # Items only, then each distinct card once: one card usually goes to many chats, and
        # parsing its JSON per item was most of the cost of a claim.
        fetch = (
            sa.select(*_ITEM_COLUMNS, *_SUBSCRIPTION_COLUMNS)
            .join(subscriptions_t, subscriptions_t.c.id == outbox_t.c.subscription_id)
            .where(outbox_t.c.claim_token == token)
            .order_by(outbox_t.c.id)
        )
        async with self.engine.begin() as conn:
            await conn.execute(claim)
            rows = (await conn.execute(fetch)).all()
            cards: dict[int, Card] = {}
            for chunk in _chunks(sorted({row[1] for row in rows})):
                found = await conn.execute(
                    sa.select(cards_t.c.id, cards_t.c.data).where(cards_t.c.id.in_(chunk))
                )
                cards.update((card_id, Card.from_dict(data)) for card_id, data in found)
        subs: dict[int, Subscription] = {}
        items = []
        for row in rows:
            item_id, card_id, attempts, not_before, sub_id = row[:5]
            card = cards.get(card_id)
            if card is None:  # its feed was removed meanwhile (the item went with it)
                continue
            sub = subs.get(sub_id)
            if sub is None:
                sub = subs[sub_id] = _subscription_from_tuple(row[4:])
            items.append(OutboxItem(item_id, sub, card_id, card, attempts, not_before))
        return items

    async def _update_items(self, ids: Sequence[int], values: dict[str, Any]) -> None:
        if not ids:
            return
        async with self.engine.begin() as conn:
            for chunk in _chunks(list(ids)):
                await conn.execute(
                    sa.update(outbox_t).where(outbox_t.c.id.in_(chunk)).values(values)
                )

    async def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        await self._update_items(
            ids,
            {
                "status": "sent",
                "sent_at": now,
                "claimed_until": None,
                "claim_token": None,
                "attempts": outbox_t.c.attempts + 1,
                "last_error": None,
            },
        )

    async def mark_retry(
        self, ids: Sequence[int], not_before: datetime, error: str, *, count_attempt: bool = True
    ) -> None:
        await self._update_items(
            ids,
            {
                "not_before": not_before,
                "claimed_until": None,
                "claim_token": None,
                "attempts": outbox_t.c.attempts + (1 if count_attempt else 0),
                "last_error": error[:2000],
            },
        )

    async def mark_failed(self, ids: Sequence[int], error: str, now: datetime) -> None:
        await self._update_items(
            ids,
            {
                "status": "failed",
                "claimed_until": None,
                "claim_token": None,
                "attempts": outbox_t.c.attempts + 1,
                "last_error": error[:2000],
            },
        )

    async def record_sent(self, records: Sequence[SentRecord]) -> None:
        """Record many sent messages in one transaction: one UPDATE, one (executemany) INSERT.

        ``sent_at`` is the latest send of the lot for all of them (a batch spans ~0.1 s).
        """
        if not records:
            return
        ids = [item_id for record in records for item_id in record.item_ids]
        values = {
            "status": "sent",
            "sent_at": max(record.at for record in records),
            "claimed_until": None,
            "claim_token": None,
            "attempts": outbox_t.c.attempts + 1,
            "last_error": None,
        }
        log_rows = [
            {
                "subscription_id": record.subscription_id,
                "outcome": "sent",
                "detail": None,
                "item_count": len(record.item_ids),
                "at": record.at,
            }
            for record in records
        ]
        async with self.engine.begin() as conn:
            for chunk in _chunks(ids):
                await conn.execute(
                    sa.update(outbox_t).where(outbox_t.c.id.in_(chunk)).values(values)
                )
            await conn.execute(sa.insert(delivery_log_t), log_rows)

    async def move_subscription(
        self, subscription_id: int, chat_id: str, now: datetime
    ) -> Subscription | None:
        """The chat now lives at ``chat_id`` (same platform): later sends go there.

        Pending items belong to the subscription, so they follow it. If the new chat already
        has a subscription of its own, that one wins (its settings were chosen there): the old
        subscription's pending cards are moved to it (unless already queued there) and the old
        subscription is deactivated. Returns the subscription now serving the chat, or None
        when ``subscription_id`` does not exist.
        """
        async with self.engine.begin() as conn:
            old = (
                await conn.execute(
                    sa.select(*_SUBSCRIPTION_COLUMNS).where(subscriptions_t.c.id == subscription_id)
                )
            ).first()
            if old is None:
                return None
            platform = old[1]
            if old[2] == chat_id:
                return _subscription_from_tuple(old)
            target = sa.select(*_SUBSCRIPTION_COLUMNS).where(
                subscriptions_t.c.platform == platform, subscriptions_t.c.chat_id == chat_id
            )
            existing = (await conn.execute(target)).first()
            if existing is None:
                await conn.execute(
                    sa.update(subscriptions_t)
                    .where(subscriptions_t.c.id == subscription_id)
                    .values(chat_id=chat_id, updated_at=now)
                )
                moved = (await conn.execute(target)).one()
                return _subscription_from_tuple(moved)
            new_id = existing[0]
            pending = (outbox_t.c.subscription_id == subscription_id) & (
                outbox_t.c.status == "pending"
            )
            queued_there = sa.select(outbox_t.c.card_id).where(outbox_t.c.subscription_id == new_id)
            await conn.execute(
                sa.update(outbox_t)
                .where(pending, outbox_t.c.card_id.not_in(queued_there.scalar_subquery()))
                .values(subscription_id=new_id)
            )
            reason = f"chat moved to {chat_id}, which has its own subscription"
            await conn.execute(
                sa.update(outbox_t)
                .where(pending)
                .values(status="failed", last_error=reason, claimed_until=None, claim_token=None)
            )
            await conn.execute(
                sa.update(subscriptions_t)
                .where(subscriptions_t.c.id == subscription_id)
                .values(active=False, deactivated_reason=reason, updated_at=now)
            )
        return _subscription_from_tuple(existing)

    async def release(self, ids: Sequence[int]) -> None:
        await self._update_items(ids, {"claimed_until": None, "claim_token": None})

    async def log_delivery(
        self,
        subscription_id: int | None,
        outcome: str,
        detail: str | None,
        now: datetime,
        count: int = 1,
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                sa.insert(delivery_log_t).values(
                    subscription_id=subscription_id,
                    outcome=outcome,
                    detail=(detail or "")[:2000] or None,
                    item_count=count,
                    at=now,
                )
            )

    async def outbox_counts(self) -> dict[str, int]:
        stmt = sa.select(outbox_t.c.status, sa.func.count()).group_by(outbox_t.c.status)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        counts = {"pending": 0, "sent": 0, "failed": 0}
        counts.update({status: int(n) for status, n in rows})
        return counts


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


# --- row mapping --------------------------------------------------------------------------


def _feed(row: Any) -> FeedRecord:
    m = row._mapping
    return FeedRecord(
        id=m["id"],
        url=m["url"],
        name=m["name"],
        topics=tuple(m["topics"] or ()),
        etag=m["etag"],
        last_modified=m["last_modified"],
        ttl_minutes=m["ttl_minutes"],
        error_count=m["error_count"],
        last_error=m["last_error"],
        next_poll_at=m["next_poll_at"],
        last_polled_at=m["last_polled_at"],
        added_at=m["added_at"],
        initialized=bool(m["initialized"]),
    )


def _stored_card(row: Any) -> StoredCard:
    m = row._mapping
    return StoredCard(m["id"], m["feed_id"], Card.from_dict(m["data"]), m["created_at"])


def _subscription(row: Any) -> Subscription:
    m = row._mapping
    return Subscription(
        id=m[subscriptions_t.c.id],
        chat=ChatRef(m[subscriptions_t.c.platform], m[subscriptions_t.c.chat_id]),
        title=m[subscriptions_t.c.title],
        filters=tuple(m[subscriptions_t.c.filters] or ()),
        mode=m[subscriptions_t.c.mode],
        daily_time=m[subscriptions_t.c.daily_time],
        timezone=m[subscriptions_t.c.timezone],
        active=bool(m[subscriptions_t.c.active]),
        deactivated_reason=m[subscriptions_t.c.deactivated_reason],
        created_at=m[subscriptions_t.c.created_at],
    )


# Positional column lists for the hot delivery queries: tuple indexing instead of
# per-row mapping look-ups.
_ITEM_COLUMNS = (
    outbox_t.c.id,
    outbox_t.c.card_id,
    outbox_t.c.attempts,
    outbox_t.c.not_before,
)
_SUBSCRIPTION_COLUMNS = (
    subscriptions_t.c.id,
    subscriptions_t.c.platform,
    subscriptions_t.c.chat_id,
    subscriptions_t.c.title,
    subscriptions_t.c.filters,
    subscriptions_t.c.mode,
    subscriptions_t.c.daily_time,
    subscriptions_t.c.timezone,
    subscriptions_t.c.active,
    subscriptions_t.c.deactivated_reason,
    subscriptions_t.c.created_at,
)


def _subscription_from_tuple(values: Sequence[Any]) -> Subscription:
    """A :class:`Subscription` from values in ``_SUBSCRIPTION_COLUMNS`` order."""
    sub_id, platform, chat_id, title, filters, mode, daily, tz, active, reason, created = values[
        : len(_SUBSCRIPTION_COLUMNS)
    ]
    return Subscription(
        id=sub_id,
        chat=ChatRef(platform, chat_id),
        title=title,
        filters=tuple(filters or ()),
        mode=mode,
        daily_time=daily,
        timezone=tz,
        active=bool(active),
        deactivated_reason=reason,
        created_at=created,
    )
