"""The ``outbox`` and ``delivery_log`` tables: what is queued for whom, leased by which
worker, sent, retried or failed.

Items are leased (``claimed_until`` + ``claim_token``) so that a dead worker's items are taken
again when its lease runs out; see :meth:`SqlOutbox.claim_due`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import OutboxItem, QueueRow, SentRecord, Subscription
from bot.store._sql import SqlBase, chunks, insert_ignore
from bot.store.schema import cards_t, delivery_log_t, outbox_t, subscriptions_t
from bot.store.subscriptions import SUBSCRIPTION_COLUMNS, subscription_from_values
from digests.models import Card

__all__ = ["SqlOutbox", "insert_outbox"]

ITEM_COLUMNS = (
    outbox_t.c.id,
    outbox_t.c.card_id,
    outbox_t.c.attempts,
    outbox_t.c.not_before,
)


async def insert_outbox(
    conn: AsyncConnection, dialect: str, items: Sequence[QueueRow], now: datetime
) -> int:
    """Queue ``items``; a (subscription, card) pair already queued is left alone. Returns how
    many rows were new."""
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
    for chunk in chunks(rows):
        stmt = insert_ignore(dialect, outbox_t, ["subscription_id", "card_id"])
        result = await conn.execute(stmt.values(list(chunk)).returning(outbox_t.c.id))
        queued += len(result.all())
    return queued


class SqlOutbox(SqlBase):
    async def enqueue(self, items: Sequence[QueueRow], now: datetime) -> int:
        async with self.engine.begin() as conn:
            return await insert_outbox(conn, self.dialect, items, now)

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
        # Alerts (cards of no feed, see bot.alerts) reach admin chats whether or not they
        # subscribe to digests; everything else needs an active subscription.
        is_alert = (
            sa.select(cards_t.c.id)
            .where(cards_t.c.id == outbox_t.c.card_id, cards_t.c.feed_id.is_(None))
            .exists()
        )
        active_sub = (
            sa.select(subscriptions_t.c.id)
            .where(
                subscriptions_t.c.id == outbox_t.c.subscription_id,
                sa.or_(subscriptions_t.c.active.is_(True), is_alert),
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
        if self.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        claim = (
            sa.update(outbox_t)
            .where(outbox_t.c.id.in_(pick.scalar_subquery()), due)
            .values(claimed_until=now + timedelta(seconds=lease_seconds), claim_token=token)
        )
        # Items only, then each distinct card once: one card usually goes to many chats, and
        # parsing its JSON per item was most of the cost of a claim.
        fetch = (
            sa.select(*ITEM_COLUMNS, *SUBSCRIPTION_COLUMNS)
            .join(subscriptions_t, subscriptions_t.c.id == outbox_t.c.subscription_id)
            .where(outbox_t.c.claim_token == token)
            .order_by(outbox_t.c.id)
        )
        async with self.engine.begin() as conn:
            await conn.execute(claim)
            rows = (await conn.execute(fetch)).all()
            cards: dict[int, Card] = {}
            for chunk in chunks(sorted({row[1] for row in rows})):
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
                sub = subs[sub_id] = subscription_from_values(row[4:])
            items.append(OutboxItem(item_id, sub, card_id, card, attempts, not_before))
        return items

    async def _update_items(self, ids: Sequence[int], values: dict[str, Any]) -> None:
        if not ids:
            return
        async with self.engine.begin() as conn:
            for chunk in chunks(list(ids)):
                await conn.execute(
                    sa.update(outbox_t).where(outbox_t.c.id.in_(chunk)).values(values)
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
            for chunk in chunks(ids):
                await conn.execute(
                    sa.update(outbox_t).where(outbox_t.c.id.in_(chunk)).values(values)
                )
            await conn.execute(sa.insert(delivery_log_t), log_rows)

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
