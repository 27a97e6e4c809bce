"""The ``feeds`` table: which feeds exist, when each is due, how its last poll went."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.clock import utcnow
from bot.models import FeedRecord
from bot.store._sql import SqlBase, insert_ignore
from bot.store.schema import feeds_t

__all__ = ["SqlFeeds"]


class SqlFeeds(SqlBase):
    async def add_feed(
        self,
        url: str,
        *,
        name: str | None = None,
        topics: Sequence[str] = (),
        summary_mode: str | None = None,
    ) -> tuple[FeedRecord, bool]:
        """``(feed, created)``; an existing feed gets the name, topics and summary mode given,
        if any."""
        now = utcnow()
        async with self.engine.begin() as conn:
            stmt = insert_ignore(self.dialect, feeds_t, ["url"]).values(
                url=url,
                name=name,
                topics=list(topics),
                added_at=now,
                error_count=0,
                initialized=False,
                summary_mode=summary_mode,
            )
            created = (await conn.execute(stmt.returning(feeds_t.c.id))).first() is not None
            if not created and (name is not None or topics or summary_mode is not None):
                values: dict[str, Any] = {}
                if name is not None:
                    values["name"] = name
                if topics:
                    values["topics"] = list(topics)
                if summary_mode is not None:
                    values["summary_mode"] = summary_mode
                await conn.execute(sa.update(feeds_t).where(feeds_t.c.url == url).values(values))
            row = (await conn.execute(sa.select(feeds_t).where(feeds_t.c.url == url))).one()
        return feed_from_row(row), created

    async def get_feed(self, url: str) -> FeedRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(feeds_t).where(feeds_t.c.url == url))).first()
        return feed_from_row(row) if row else None

    async def list_feeds(self) -> list[FeedRecord]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(feeds_t).order_by(feeds_t.c.id))).all()
        return [feed_from_row(r) for r in rows]

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
        return [feed_from_row(r) for r in rows]

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


def feed_from_row(row: Any) -> FeedRecord:
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
        summary_mode=m["summary_mode"],
    )
