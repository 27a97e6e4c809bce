"""Feeds added from chats (``/addfeed``): ``feed_owners`` holds which subscriptions (a chat,
or a forum topic of one) own which feed. One feed row, many owners: a feed already known to
the bot is shared, never fetched twice. A feed a chat added (``origin = "chat"``) reaches its
owners only; the operator's feeds (feeds file, command line) reach everyone, whoever else
also added them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import ChatFeedAdded, FeedRecord
from bot.store._sql import SqlBase, insert_ignore
from bot.store.feeds import FEED_COLUMNS, feed_from_row
from bot.store.schema import CHAT_ORIGIN, feed_owners_t, feeds_t

__all__ = ["CHAT_ORIGIN", "ChatFeedAdded", "SqlChatFeeds", "feed_audience", "hidden_feed_ids"]


class SqlChatFeeds(SqlBase):
    async def add_chat_feed(
        self, subscription_id: int, url: str, *, name: str | None, limit: int, now: datetime
    ) -> ChatFeedAdded:
        """Make ``subscription_id`` an owner of the feed at ``url`` (created as a chat feed,
        named ``name``, when the bot has none there), unless it owns ``limit`` feeds already.
        One transaction."""
        async with self.engine.begin() as conn:
            existing = await _feed_by_url(conn, url)
            if existing is not None and await _owns(conn, subscription_id, existing.id):
                return ChatFeedAdded("already", existing, await _owned(conn, subscription_id))
            owned = await _owned(conn, subscription_id)
            if owned >= limit:
                return ChatFeedAdded("limit", None, owned)
            created = False
            if existing is None:
                stmt = insert_ignore(self.dialect, feeds_t, ["url"]).values(
                    url=url, name=name, topics=[], added_at=now, error_count=0,
                    initialized=False, origin=CHAT_ORIGIN,
                )  # fmt: skip
                created = (await conn.execute(stmt.returning(feeds_t.c.id))).first() is not None
                existing = await _feed_by_url(conn, url)
                assert existing is not None
            await conn.execute(
                insert_ignore(self.dialect, feed_owners_t, ["feed_id", "subscription_id"]).values(
                    feed_id=existing.id, subscription_id=subscription_id, added_at=now
                )
            )
        return ChatFeedAdded("added" if created else "shared", existing, owned + 1)

    async def chat_feeds(self, subscription_id: int) -> list[FeedRecord]:
        """The feeds ``subscription_id`` owns, in the order it added them (``/feeds`` numbers
        them so)."""
        stmt = (
            sa.select(*FEED_COLUMNS)
            .join(feed_owners_t, feed_owners_t.c.feed_id == feeds_t.c.id)
            .where(feed_owners_t.c.subscription_id == subscription_id)
            .order_by(feed_owners_t.c.added_at, feeds_t.c.id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [feed_from_row(r) for r in rows]

    async def remove_chat_feed(self, subscription_id: int, feed_id: int) -> tuple[bool, bool]:
        """``(removed, stopped)``: the chat no longer owns the feed, and the feed itself was
        deleted (polling stops) because it was a chat feed and that was its last owner. The
        operator's feeds stay whoever leaves."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                sa.delete(feed_owners_t).where(
                    feed_owners_t.c.subscription_id == subscription_id,
                    feed_owners_t.c.feed_id == feed_id,
                )
            )
            if not result.rowcount:
                return False, False
            orphan = await conn.execute(
                sa.delete(feeds_t).where(
                    feeds_t.c.id == feed_id,
                    feeds_t.c.origin == CHAT_ORIGIN,
                    ~sa.exists().where(feed_owners_t.c.feed_id == feed_id),
                )
            )
        return True, bool(orphan.rowcount)

    async def remove_operator_feed(self, url: str) -> str | None:
        """The operator drops a feed (feeds file, ``digestbot feeds remove``): ``"removed"``,
        or ``"kept for chats"`` when chats added it too (it becomes theirs alone), ``None``
        when there is no such feed."""
        async with self.engine.begin() as conn:
            feed = await _feed_by_url(conn, url)
            if feed is None:
                return None
            owners = await conn.scalar(
                sa.select(sa.func.count()).where(feed_owners_t.c.feed_id == feed.id)
            )
            if owners:
                await conn.execute(
                    sa.update(feeds_t).where(feeds_t.c.id == feed.id).values(origin=CHAT_ORIGIN)
                )
                return "kept for chats"
            await conn.execute(sa.delete(feeds_t).where(feeds_t.c.id == feed.id))
        return "removed"

    async def feed_owner_count(self, feed_id: int) -> int:
        async with self.engine.connect() as conn:
            count = await conn.scalar(
                sa.select(sa.func.count()).where(feed_owners_t.c.feed_id == feed_id)
            )
        return int(count or 0)


async def _feed_by_url(conn: AsyncConnection, url: str) -> FeedRecord | None:
    row = (await conn.execute(sa.select(*FEED_COLUMNS).where(feeds_t.c.url == url))).first()
    return feed_from_row(row) if row else None


async def _owns(conn: AsyncConnection, subscription_id: int, feed_id: int) -> bool:
    found = await conn.scalar(
        sa.select(feed_owners_t.c.feed_id).where(
            feed_owners_t.c.subscription_id == subscription_id,
            feed_owners_t.c.feed_id == feed_id,
        )
    )
    return found is not None


async def _owned(conn: AsyncConnection, subscription_id: int) -> int:
    count = await conn.scalar(
        sa.select(sa.func.count()).where(feed_owners_t.c.subscription_id == subscription_id)
    )
    return int(count or 0)


async def feed_audience(conn: AsyncConnection, feed_id: int) -> frozenset[int] | None:
    """``None`` when the feed's cards go to every matching subscription (the operator's
    feeds); else the subscriptions that own it, the only ones its cards may go to."""
    origin = await conn.scalar(sa.select(feeds_t.c.origin).where(feeds_t.c.id == feed_id))
    if origin != CHAT_ORIGIN:
        return None
    owners = await conn.execute(
        sa.select(feed_owners_t.c.subscription_id).where(feed_owners_t.c.feed_id == feed_id)
    )
    return frozenset(owners.scalars())


def hidden_feed_ids(viewer: Any) -> Any:
    """The chat feeds ``viewer`` (a subscription id, or a bound parameter holding one; -1:
    nobody's) does not own: their cards stay out of its ``/digest``."""
    owned_by_viewer = sa.exists().where(
        feed_owners_t.c.feed_id == feeds_t.c.id, feed_owners_t.c.subscription_id == viewer
    )
    return sa.select(feeds_t.c.id).where(feeds_t.c.origin == CHAT_ORIGIN, ~owned_by_viewer)
