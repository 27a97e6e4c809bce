"""The ``subscriptions`` table: who gets which cards, how and when; and the row mapping the
outbox's claim shares."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.clock import utcnow
from bot.matching import IndexedSubscription
from bot.models import ChatRef, Subscription
from bot.store._sql import SqlBase, insert_ignore
from bot.store.schema import outbox_t, subscriptions_t

__all__ = ["SUBSCRIPTION_COLUMNS", "SqlSubscriptions", "subscription_from_values"]

# Positional column list for the hot queries: tuple indexing instead of per-row mapping
# look-ups.
SUBSCRIPTION_COLUMNS = (
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
    subscriptions_t.c.thread,
    subscriptions_t.c.language,
)


def subscription_from_values(values: Sequence[Any]) -> Subscription:
    """A :class:`Subscription` from values in ``SUBSCRIPTION_COLUMNS`` order."""
    (sub_id, platform, chat_id, title, filters, mode, daily, tz, active, reason, created, thread,
     language) = values[: len(SUBSCRIPTION_COLUMNS)]  # fmt: skip
    return Subscription(
        id=sub_id,
        chat=ChatRef(platform, chat_id, thread or ""),
        language=language,
        title=title,
        filters=tuple(filters or ()),
        mode=mode,
        daily_time=daily,
        timezone=tz,
        active=bool(active),
        deactivated_reason=reason,
        created_at=created,
    )


# What the poller's subscription index needs of a subscription (IndexedSubscription's fields).
_INDEXED_COLUMNS = (
    subscriptions_t.c.id,
    subscriptions_t.c.platform,
    subscriptions_t.c.filters,
    subscriptions_t.c.mode,
    subscriptions_t.c.daily_time,
    subscriptions_t.c.timezone,
)


def _select_subscriptions() -> sa.Select[Any]:
    return sa.select(*SUBSCRIPTION_COLUMNS)


def _key(chat: ChatRef) -> sa.ColumnElement[bool]:
    return (
        (subscriptions_t.c.platform == chat.platform)
        & (subscriptions_t.c.chat_id == chat.chat_id)
        & (subscriptions_t.c.thread == chat.thread)
    )


class SqlSubscriptions(SqlBase):
    # Bumped by every write through this store: the poller's subscription index rebuilds when
    # it moves (or when the table's fingerprint does, for writes by other processes).
    subscriptions_revision: int = 0
    # Ids of the subscriptions written through this store since the index last asked
    # (bot.subscription_sync): those rows alone are read again.
    _subscription_changes: set[int] | None = None

    def _changed(self, *ids: int) -> None:
        self.subscriptions_revision += 1
        if self._subscription_changes is None:
            self._subscription_changes = set()
        self._subscription_changes.update(ids)

    def take_subscription_changes(self) -> set[int]:
        """The ids written through this store since the last call (and forgets them)."""
        changes, self._subscription_changes = self._subscription_changes or set(), set()
        return changes

    async def get_subscription(self, chat: ChatRef) -> Subscription | None:
        stmt = _select_subscriptions().where(_key(chat))
        async with self.engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        return subscription_from_values(row) if row else None

    async def save_subscription(self, sub: Subscription) -> Subscription:
        """Insert or update by (platform, chat id, thread); returns the stored subscription."""
        now = utcnow()
        values = {
            "title": sub.title,
            "filters": list(sub.filters),
            "mode": sub.mode,
            "daily_time": sub.daily_time,
            "timezone": sub.timezone,
            "active": sub.active,
            "deactivated_reason": sub.deactivated_reason,
            "language": sub.language,
            "updated_at": now,
        }
        key = _key(sub.chat)
        async with self.engine.begin() as conn:
            insert = insert_ignore(
                self.dialect, subscriptions_t, ["platform", "chat_id", "thread"]
            ).values(
                platform=sub.chat.platform,
                chat_id=sub.chat.chat_id,
                thread=sub.chat.thread,
                created_at=now,
                **values,
            )
            created = (await conn.execute(insert.returning(subscriptions_t.c.id))).first()
            if created is None:
                await conn.execute(sa.update(subscriptions_t).where(key).values(values))
            row = (await conn.execute(_select_subscriptions().where(key))).one()
        self._changed(row[0])
        return subscription_from_values(row)

    async def active_subscriptions(self) -> list[Subscription]:
        stmt = (
            _select_subscriptions()
            .where(subscriptions_t.c.active.is_(True))
            .order_by(subscriptions_t.c.id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [subscription_from_values(r) for r in rows]

    async def indexed_subscriptions(self) -> list[IndexedSubscription]:
        """What the poller's subscription index needs of every active subscription: only the
        columns it reads, no :class:`Subscription` objects (100,000 of them cost seconds)."""
        stmt = (
            sa.select(*_INDEXED_COLUMNS)
            .where(subscriptions_t.c.active.is_(True))
            .order_by(subscriptions_t.c.id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [IndexedSubscription(i, p, tuple(f or ()), m, d, tz) for i, p, f, m, d, tz in rows]

    async def changed_subscriptions(
        self, ids: Collection[int], since: datetime | None
    ) -> tuple[list[IndexedSubscription], list[int]]:
        """Subscriptions among ``ids`` or updated at or after ``since``: ``(the active ones,
        the ids of the others)``; an id in ``ids`` no longer stored counts as inactive."""
        wanted: list[sa.ColumnElement[bool]] = []
        if ids:
            wanted.append(subscriptions_t.c.id.in_(sorted(ids)))
        if since is not None:
            wanted.append(subscriptions_t.c.updated_at >= since)
        if not wanted:
            return [], []
        stmt = sa.select(*_INDEXED_COLUMNS, subscriptions_t.c.active).where(sa.or_(*wanted))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        active = [
            IndexedSubscription(i, p, tuple(f or ()), m, d, tz)
            for i, p, f, m, d, tz, on in rows
            if on
        ]
        found = {row[0] for row in rows}
        inactive = [row[0] for row in rows if not row[-1]] + [i for i in ids if i not in found]
        return active, inactive

    async def subscriptions_fingerprint(self) -> tuple[Any, ...]:
        """``(newest id, newest updated_at)``: moves when a subscription is added or written
        (every write sets ``updated_at``). Two index look-ups, not a scan: asked every cycle."""
        newest_id = sa.select(sa.func.max(subscriptions_t.c.id)).scalar_subquery()
        newest_update = sa.select(sa.func.max(subscriptions_t.c.updated_at)).scalar_subquery()
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(newest_id, newest_update))).one()
        return (row[0], row[1])

    async def active_subscription_count(self) -> int:
        stmt = sa.select(sa.func.count()).where(subscriptions_t.c.active.is_(True))
        async with self.engine.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def deactivate_subscription(
        self, subscription_id: int, reason: str, now: datetime, *, cancel: bool = False
    ) -> int:
        """Deactivate and drop its pending items with the reason; returns how many were
        dropped. ``cancel``: the user unsubscribed, so the items are ``cancelled``, not
        ``failed`` (nothing went wrong)."""
        self._changed(subscription_id)
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
                .values(
                    status="cancelled" if cancel else "failed",
                    last_error=reason,
                    claimed_until=None,
                    claim_token=None,
                )
            )
        return int(result.rowcount or 0)

    async def deactivate_chat(self, platform: str, chat_id: str, reason: str, now: datetime) -> int:
        """Deactivate every subscription of a chat (each of its topics too), as when the bot
        was removed from it; returns how many subscriptions were active."""
        async with self.engine.connect() as conn:
            ids = (
                (
                    await conn.execute(
                        sa.select(subscriptions_t.c.id).where(
                            subscriptions_t.c.platform == platform,
                            subscriptions_t.c.chat_id == chat_id,
                            subscriptions_t.c.active.is_(True),
                        )
                    )
                )
                .scalars()
                .all()
            )
        for subscription_id in ids:
            await self.deactivate_subscription(subscription_id, reason, now)
        return len(ids)

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
        self._changed(subscription_id)
        async with self.engine.begin() as conn:
            old = (
                await conn.execute(
                    _select_subscriptions().where(subscriptions_t.c.id == subscription_id)
                )
            ).first()
            if old is None:
                return None
            old_sub = subscription_from_values(old)
            if old_sub.chat.chat_id == chat_id:
                return old_sub
            target = _select_subscriptions().where(
                _key(ChatRef(old_sub.chat.platform, chat_id, old_sub.chat.thread))
            )
            existing = (await conn.execute(target)).first()
            if existing is None:
                await conn.execute(
                    sa.update(subscriptions_t)
                    .where(subscriptions_t.c.id == subscription_id)
                    .values(chat_id=chat_id, updated_at=now)
                )
                return subscription_from_values((await conn.execute(target)).one())
            new_id = existing[0]
            self._changed(new_id)
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
        return subscription_from_values(existing)
