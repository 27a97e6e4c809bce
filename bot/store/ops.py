"""What operators ask of the store: is it reachable and current, how the outbox and recent
deliveries look, the alert conditions, and queueing an alert to the admin chats."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.models import AlertState, ChatRef
from bot.store._sql import SqlBase, insert_ignore
from bot.store.outbox import insert_outbox
from bot.store.schema import (
    UTCDateTime,
    alerts_t,
    cards_t,
    delivery_log_t,
    outbox_t,
    subscriptions_t,
)
from digests.models import Card

__all__ = ["SqlOps", "head_revision"]


def head_revision() -> str | None:
    """The newest Alembic revision this code ships."""
    from alembic.script import ScriptDirectory

    from bot.migrations import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


class SqlOps(SqlBase):
    async def ping(self) -> None:
        """Raises when the database cannot be reached."""
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (None before the first upgrade)."""
        async with self.engine.connect() as conn:
            try:
                result = await conn.execute(sa.text("SELECT version_num FROM alembic_version"))
            except sa.exc.DBAPIError:
                return None
            return result.scalar()

    async def outbox_by_platform(self, now: datetime) -> dict[str, tuple[int, float | None]]:
        """Per platform: pending items, and how long the oldest due one has waited (seconds,
        None when nothing is due)."""
        pending = (outbox_t.c.status == "pending") & subscriptions_t.c.active.is_(True)
        counts = (
            sa.select(subscriptions_t.c.platform, sa.func.count())
            .join(subscriptions_t, subscriptions_t.c.id == outbox_t.c.subscription_id)
            .where(pending)
            .group_by(subscriptions_t.c.platform)
        )
        oldest = (
            sa.select(
                subscriptions_t.c.platform, sa.func.min(outbox_t.c.not_before, type_=UTCDateTime)
            )
            .join(subscriptions_t, subscriptions_t.c.id == outbox_t.c.subscription_id)
            .where(pending, outbox_t.c.not_before <= now)
            .group_by(subscriptions_t.c.platform)
        )
        async with self.engine.connect() as conn:
            by_platform: dict[str, tuple[int, float | None]] = {
                p: (int(n), None) for p, n in await conn.execute(counts)
            }
            for platform, due in await conn.execute(oldest):
                age = max(0.0, (now - due).total_seconds()) if due else None
                by_platform[platform] = (by_platform.get(platform, (0, None))[0], age)
        return by_platform

    async def recent_failures(self, since: datetime) -> list[tuple[str, str, int]]:
        """``(outcome, reason, items)`` of deliveries that failed or found the chat gone since
        ``since``, the most frequent first."""
        items = sa.func.sum(delivery_log_t.c.item_count)
        stmt = (
            sa.select(delivery_log_t.c.outcome, delivery_log_t.c.detail, items)
            .where(delivery_log_t.c.at >= since, delivery_log_t.c.outcome.in_(("failed", "gone")))
            .group_by(delivery_log_t.c.outcome, delivery_log_t.c.detail)
            .order_by(items.desc())
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [(outcome, detail or "", int(n or 0)) for outcome, detail, n in rows]

    async def alert_states(self) -> dict[str, AlertState]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(alerts_t))).all()
        return {row.key: _alert(row) for row in rows}

    async def save_alert_states(
        self, states: Iterable[AlertState], *, drop: Sequence[str] = ()
    ) -> None:
        rows = [
            {
                "key": s.key[:300],
                "kind": s.kind,
                "active": s.active,
                "since": s.since,
                "notified": s.notified,
                "last_sent_at": s.last_sent_at,
                "detail": (s.detail or "")[:2000] or None,
            }
            for s in states
        ]
        async with self.engine.begin() as conn:
            if drop:
                await conn.execute(sa.delete(alerts_t).where(alerts_t.c.key.in_(list(drop))))
            if rows:
                await conn.execute(_upsert_alerts(self.dialect), rows)

    async def queue_alert(self, chats: Sequence[ChatRef], card: Card, now: datetime) -> int:
        """Queue ``card`` (an alert: a card of no feed) to each admin chat, through the outbox
        like any card. A chat with no subscription gets an inactive one, which receives
        alerts but no digests. Returns how many items were queued."""
        if not chats:
            return 0
        key = hashlib.sha256(
            f"{card.title}\n{card.summary}\n{now.isoformat()}".encode()
        ).hexdigest()
        async with self.engine.begin() as conn:
            card_id = (
                await conn.execute(
                    sa.insert(cards_t)
                    .values(feed_id=None, entry_key=key, data=card.to_dict(), created_at=now)
                    .returning(cards_t.c.id)
                )
            ).scalar_one()
            rows = []
            for chat in chats:
                sub_id = await _subscription_id(conn, self.dialect, chat, now)
                rows.append((sub_id, card_id, now))
            return await insert_outbox(conn, self.dialect, rows, now)


def _upsert_alerts(dialect: str) -> Any:
    """Insert or update by key in one statement. Workers starting at the same moment save the
    same alert (``worker:<host>``); a delete-then-insert raced there on PostgreSQL (both
    deleted nothing, the second insert hit the key) and the worker exited."""
    from sqlalchemy.dialects import postgresql, sqlite

    columns = ("kind", "active", "since", "notified", "last_sent_at", "detail")
    if dialect == "postgresql":
        pg = postgresql.insert(alerts_t)
        return pg.on_conflict_do_update(
            index_elements=[alerts_t.c.key], set_={c: pg.excluded[c] for c in columns}
        )
    lite = sqlite.insert(alerts_t)
    return lite.on_conflict_do_update(
        index_elements=[alerts_t.c.key], set_={c: lite.excluded[c] for c in columns}
    )


async def _subscription_id(conn: Any, dialect: str, chat: ChatRef, now: datetime) -> int:
    key = (
        (subscriptions_t.c.platform == chat.platform)
        & (subscriptions_t.c.chat_id == chat.chat_id)
        & (subscriptions_t.c.thread == chat.thread)
    )
    found = (await conn.execute(sa.select(subscriptions_t.c.id).where(key))).scalar()
    if found is not None:
        return int(found)
    insert = insert_ignore(dialect, subscriptions_t, ["platform", "chat_id", "thread"]).values(
        platform=chat.platform,
        chat_id=chat.chat_id,
        thread=chat.thread,
        title="admin",
        filters=[],
        active=False,
        deactivated_reason="admin chat: alerts only",
        created_at=now,
        updated_at=now,
    )
    await conn.execute(insert)
    return int((await conn.execute(sa.select(subscriptions_t.c.id).where(key))).scalar_one())


def _alert(row: Any) -> AlertState:
    return AlertState(
        key=row.key,
        kind=row.kind,
        active=bool(row.active),
        since=row.since,
        notified=bool(row.notified),
        last_sent_at=row.last_sent_at,
        detail=row.detail,
    )
