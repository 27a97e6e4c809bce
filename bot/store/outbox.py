"""The ``outbox`` and ``delivery_log`` tables: what is queued for whom, leased by which
worker, sent, retried or failed.

Chats are leased (``chat_leases``: ``claimed_until`` + ``claim_token``), and their items
stamped with the lease's token, so that a dead worker's chats are taken again when its lease
runs out; see :meth:`SqlOutbox.claim_due`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import OutboxItem, QueueRow, SentRecord
from bot.store._sql import SqlBase, chunks, insert_ignore, lease_free, lease_until, log, once
from bot.store.schema import cards_t, chat_leases_t, delivery_log_t, outbox_t, subscriptions_t
from bot.store.subscriptions import SUBSCRIPTION_COLUMNS, subscription_from_values
from digests.models import Card

__all__ = ["SqlOutbox", "insert_outbox"]

_ADDING_CHAT_LEASES = 0x6469676368  # "digch": the advisory lock of adding chat lease rows
_UNLEASED: dict[str, Any] = {"claimed_until": None, "claim_token": None, "claimed_by": None}

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
    many rows were new.

    One card can go to tens of thousands of subscriptions, so the rows take each database's
    fast path: one ``INSERT ... SELECT FROM unnest(arrays)`` on PostgreSQL, an executemany of
    one prepared statement on SQLite (no per-row SQL compilation, no RETURNING).
    """
    if not items:
        return 0
    if dialect == "postgresql":
        return await _insert_outbox_postgres(conn, items, now)
    if dialect == "sqlite":
        return await _insert_outbox_sqlite(conn, items, now)
    raise NotImplementedError(f"digestbot supports SQLite and PostgreSQL, not {dialect}")


_PG_BULK_OUTBOX = sa.text(
    "INSERT INTO outbox (subscription_id, card_id, not_before, status, attempts, created_at) "
    "SELECT s, c, nb, 'pending', 0, :now "
    "FROM unnest(CAST(:subs AS integer[]), CAST(:cards AS integer[]), "
    "CAST(:not_before AS timestamptz[])) AS rows(s, c, nb) "
    "ON CONFLICT (subscription_id, card_id) DO NOTHING"
).bindparams(sa.bindparam("now", type_=sa.DateTime(timezone=True)))


async def _insert_outbox_postgres(
    conn: AsyncConnection, items: Sequence[QueueRow], now: datetime
) -> int:
    queued = 0
    for chunk in chunks(items, 50_000):
        result = await conn.execute(
            _PG_BULK_OUTBOX,
            {
                "subs": [s for s, _, _ in chunk],
                "cards": [c for _, c, _ in chunk],
                "not_before": [nb for _, _, nb in chunk],
                "now": now,
            },
        )
        queued += int(result.rowcount or 0)
    return queued


_SQLITE_BULK_OUTBOX = (
    "INSERT OR IGNORE INTO outbox "
    "(subscription_id, card_id, not_before, status, attempts, created_at) "
    "VALUES (?, ?, ?, 'pending', 0, ?)"
)


async def _insert_outbox_sqlite(
    conn: AsyncConnection, items: Sequence[QueueRow], now: datetime
) -> int:
    # The column type's own conversion, so that the stored text is what SQLAlchemy writes.
    to_db = outbox_t.c.not_before.type.bind_processor(conn.dialect)
    assert to_db is not None
    created = to_db(now)
    rows = [(s, c, to_db(nb), created) for s, c, nb in items]
    before = await _total_changes(conn)
    await conn.exec_driver_sql(_SQLITE_BULK_OUTBOX, rows)
    return await _total_changes(conn) - before


async def _total_changes(conn: AsyncConnection) -> int:
    # executemany's rowcount is not reliable through every driver layer; SQLite's own
    # counter of changed rows is.
    return int((await conn.exec_driver_sql("SELECT total_changes()")).scalar_one())


class SqlOutbox(SqlBase):
    _claims_short = True  # the last claim took fewer chats than asked (or none was made)

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
        self,
        now: datetime,
        *,
        lease_seconds: float,
        limit: int,
        platforms: Iterable[str],
        worker_id: str | None = None,
        dead_before: datetime | None = None,
        chats: int | None = None,
    ) -> list[OutboxItem]:
        """Lease up to ``chats`` chats with due items on ``platforms``, and up to ``limit`` of
        their due pending items, for this worker.

        The lease is per chat (a ``chat_leases`` row), not per item nor per subscription: a
        chat's items, across all its forum topics, are served by one worker at a time, in
        order and at the chat's pace, and a claim locks only the chats it takes (``SKIP
        LOCKED`` on PostgreSQL: it never waits for another worker's claim or records). Chats
        least recently served come first. The items are stamped with the lease's token, which
        every later write about them must show (fencing: see :meth:`record_sent`). A dead
        worker's chats come back when its lease runs out (on the database's clock on
        PostgreSQL), or at once when its heartbeat stopped before ``dead_before``.
        """
        platforms = list(platforms)
        if not platforms:
            return []
        token = str(uuid.uuid4())
        until = lease_until(self.dialect, now, lease_seconds)
        item_due = sa.and_(outbox_t.c.status == "pending", outbox_t.c.not_before <= now)
        # Alerts (cards of no feed, see bot.alerts) reach admin chats whether or not they
        # subscribe to digests; everything else needs an active subscription.
        due_alert = sa.exists().where(
            outbox_t.c.subscription_id == subscriptions_t.c.id,
            item_due,
            cards_t.c.id == outbox_t.c.card_id,
            cards_t.c.feed_id.is_(None),
        )
        # The subscriptions with something due come from the due items (one range of the
        # (status, not_before) index) and their chats are listed once per claim, as
        # materialized CTEs: on fresh tables the planner probed every chat's subscriptions'
        # items per row (one claim of 600 chats took 36 s).
        due_subs = once(
            sa.select(outbox_t.c.subscription_id).where(item_due).distinct(), "due_subs"
        )
        wanted = sa.and_(
            subscriptions_t.c.id.in_(sa.select(due_subs.c.subscription_id)),
            subscriptions_t.c.platform.in_(platforms),
            sa.or_(subscriptions_t.c.active.is_(True), due_alert),
        )
        due_chats = once(
            sa.select(subscriptions_t.c.platform, subscriptions_t.c.chat_id)
            .where(wanted)
            .distinct(),
            "due_chats",
        )
        leases = chat_leases_t
        of_chat = sa.and_(
            subscriptions_t.c.platform == leases.c.platform,
            subscriptions_t.c.chat_id == leases.c.chat_id,
        )
        if self._claims_short:
            # A chat's first due item needs its lease row; looked for only when the last
            # claim came back short (or at start), not by every claim of a busy queue.
            await self._add_chat_leases(wanted, of_chat)
        free_chat = sa.and_(
            lease_free(leases, self.dialect, now, dead_before),
            sa.tuple_(leases.c.platform, leases.c.chat_id).in_(
                sa.select(due_chats.c.platform, due_chats.c.chat_id)
            ),
        )
        pick = (
            sa.select(leases.c.id)
            .where(free_chat)
            .order_by(leases.c.claimed_until.asc().nulls_first(), leases.c.id)
            .limit(chats or limit)
        )
        if self.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        picked = once(pick, "picked_chats")
        lease_chats = (
            sa.update(leases)
            .where(leases.c.id.in_(sa.select(picked.c.id)), free_chat)
            .values(claimed_until=until, claim_token=token, claimed_by=worker_id)
            .returning(leases.c.id)
        )
        async with self.engine.begin() as conn:
            chat_ids = (await conn.execute(lease_chats)).scalars().all()
            self._claims_short = len(chat_ids) < (chats or limit)
            if not chat_ids:
                return []
            held = sa.select(*SUBSCRIPTION_COLUMNS, leases.c.id).where(
                of_chat, leases.c.claim_token == token, wanted
            )
            sub_rows = (await conn.execute(held)).all()
            chat_of = {row[0]: row[-1] for row in sub_rows}
            # The items of chats this worker now holds: nobody else writes them, so this
            # UPDATE waits for no one (unless a dead holder's last write is still running).
            take = (
                sa.select(outbox_t.c.id)
                .where(outbox_t.c.subscription_id.in_(list(chat_of)), item_due)
                .order_by(outbox_t.c.not_before, outbox_t.c.id)
                .limit(limit)
            )
            taken = once(take, "taken_items")
            stamp = (
                sa.update(outbox_t)
                .where(outbox_t.c.id.in_(sa.select(taken.c.id)))
                .values(claimed_until=until, claim_token=token)
                .returning(*ITEM_COLUMNS, outbox_t.c.subscription_id)
            )
            rows = sorted((await conn.execute(stamp)).all(), key=lambda r: r[0])  # queue order
            served = {chat_of[row[4]] for row in rows}
            idle = [chat for chat in chat_ids if chat not in served]
            if idle:  # the item limit left them out: free them for the next claim
                await conn.execute(sa.update(leases).where(leases.c.id.in_(idle)).values(_UNLEASED))
        # Each distinct card once, outside the claim's transaction: one card usually goes to
        # many chats, and parsing its JSON per item was most of the cost of a claim.
        cards: dict[int, Card] = {}
        async with self.engine.connect() as conn:
            for chunk in chunks(sorted({row[1] for row in rows})):
                found = await conn.execute(
                    sa.select(cards_t.c.id, cards_t.c.data).where(cards_t.c.id.in_(chunk))
                )
                cards.update((card_id, Card.from_dict(data)) for card_id, data in found)
        subs = {row[0]: subscription_from_values(row) for row in sub_rows}
        items = []
        for item_id, card_id, attempts, not_before, sub_id in rows:
            card = cards.get(card_id)
            if card is None:  # its feed was removed meanwhile (the item went with it)
                continue
            items.append(
                OutboxItem(item_id, subs[sub_id], card_id, card, attempts, not_before, token)
            )
        return items

    async def _add_chat_leases(self, wanted: Any, of_chat: Any) -> None:
        """A lease row for every chat with something due that has none yet (its first item,
        or a group that moved to a new chat id), in a transaction of its own.

        Usually none is missing: one read, no write. Else on PostgreSQL one worker at a time
        adds them (a transaction's advisory lock): workers inserting the same new rows at once
        would wait on each other's uncommitted rows, once per row; this way the next one finds
        them committed and inserts nothing."""
        missing = (
            sa.select(subscriptions_t.c.platform, subscriptions_t.c.chat_id)
            .where(wanted, ~sa.exists().where(of_chat))
            .distinct()
        )
        add = insert_ignore(self.dialect, chat_leases_t, ["platform", "chat_id"]).from_select(
            ["platform", "chat_id"], missing
        )
        async with self.engine.begin() as conn:
            if not (await conn.execute(sa.select(missing.exists()))).scalar():
                return
            if self.dialect == "postgresql":
                await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_ADDING_CHAT_LEASES)))
            await conn.execute(add)

    async def release_chats(
        self,
        claim_token: str,
        now: datetime,
        next_send_in: Mapping[tuple[str, str], float] | None = None,
    ) -> None:
        """End this worker's lease on the chats it claimed with ``claim_token``.

        ``next_send_in`` ((platform, chat id) -> seconds until the chat may get its next
        message) carries the chat's pace over to whichever worker takes it next, for all its
        topics: the chat cannot be claimed before (on the leases' clock, see
        :func:`bot.store._sql.lease_now`).
        """
        leases = chat_leases_t
        mine = leases.c.claim_token == claim_token
        async with self.engine.begin() as conn:
            for (platform, chat_id), wait in (next_send_in or {}).items():
                await conn.execute(
                    sa.update(leases)
                    .where(mine, leases.c.platform == platform, leases.c.chat_id == chat_id)
                    .values({**_UNLEASED, "claimed_until": lease_until(self.dialect, now, wait)})
                )
            await conn.execute(sa.update(leases).where(mine).values(_UNLEASED))

    async def _update_items(
        self, ids: Sequence[int], values: dict[str, Any], claim_token: str | None, what: str
    ) -> int:
        if not ids:
            return 0
        held = sa.true() if claim_token is None else outbox_t.c.claim_token == claim_token
        changed = 0
        async with self.engine.begin() as conn:
            for chunk in chunks(list(ids)):
                result = await conn.execute(
                    sa.update(outbox_t).where(outbox_t.c.id.in_(chunk), held).values(values)
                )
                changed += int(result.rowcount or 0)
        _log_stale(len(ids), changed, what)
        return changed

    async def mark_retry(
        self,
        ids: Sequence[int],
        not_before: datetime,
        error: str,
        *,
        count_attempt: bool = True,
        claim_token: str | None = None,
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
            claim_token,
            "retry",
        )

    async def mark_failed(
        self, ids: Sequence[int], error: str, now: datetime, *, claim_token: str | None = None
    ) -> None:
        await self._update_items(
            ids,
            {
                "status": "failed",
                "claimed_until": None,
                "claim_token": None,
                "attempts": outbox_t.c.attempts + 1,
                "last_error": error[:2000],
            },
            claim_token,
            "failure",
        )

    async def record_sent(self, records: Sequence[SentRecord]) -> None:
        """Record many sent messages in one transaction: one UPDATE per lease, one
        (executemany) INSERT of their log rows.

        ``sent_at`` is the latest send of the lot for all of them. Items whose chat's lease
        was taken over by another worker (their token changed) are left alone and logged.
        """
        if not records:
            return
        values = {
            "status": "sent",
            "sent_at": max(record.at for record in records),
            "claimed_until": None,
            "claim_token": None,
            "attempts": outbox_t.c.attempts + 1,
            "last_error": None,
        }
        by_token: dict[str | None, list[int]] = {}
        for record in records:
            by_token.setdefault(record.claim_token, []).extend(record.item_ids)
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
            for token, ids in by_token.items():
                held = sa.true() if token is None else outbox_t.c.claim_token == token
                changed = 0
                for chunk in chunks(ids):
                    result = await conn.execute(
                        sa.update(outbox_t).where(outbox_t.c.id.in_(chunk), held).values(values)
                    )
                    changed += int(result.rowcount or 0)
                _log_stale(len(ids), changed, "sent")
            await conn.execute(sa.insert(delivery_log_t), log_rows)

    async def release(self, ids: Sequence[int], *, claim_token: str | None = None) -> None:
        await self._update_items(
            ids, {"claimed_until": None, "claim_token": None}, claim_token, "release"
        )

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


def _log_stale(asked: int, changed: int, what: str) -> None:
    if changed < asked:
        log.warning(
            "outbox: %d of %d item(s) not recorded (%s): their chat's lease was taken over by "
            "another worker (stale claim)",
            asked - changed,
            asked,
            what,
        )
