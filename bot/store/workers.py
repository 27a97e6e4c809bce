"""The ``workers`` and ``handled_updates`` tables: who is running, and which chat updates were
answered already.

Each worker writes a heartbeat row every few seconds (``bot.workers.Heartbeat``); a worker
whose heartbeat stopped is dead, and its leases on feeds and chats can be taken at once
(:func:`bot.store._sql.lease_free`) instead of when they run out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from bot.clock import utcnow
from bot.models import WorkerRecord
from bot.store._sql import SqlBase, insert_ignore, lease_now, lease_until
from bot.store.schema import chat_leases_t, feeds_t, handled_updates_t, workers_t

__all__ = ["SqlWorkers"]


class SqlWorkers(SqlBase):
    async def heartbeat(
        self,
        worker_id: str,
        *,
        host: str,
        pid: int,
        roles: Sequence[str],
        now: datetime,
        holds_updates: bool = False,
    ) -> None:
        """This worker is alive at ``now`` (its row is created on the first beat).

        On PostgreSQL the database's clock is written, not ``now``: the others compare it with
        that clock to tell a dead worker (:func:`bot.store._sql.lease_free`)."""
        at = lease_now(self.dialect, now)
        values = {"seen_at": at, "roles": ",".join(roles), "holds_updates": holds_updates}
        async with self.engine.begin() as conn:
            updated = await conn.execute(
                sa.update(workers_t).where(workers_t.c.id == worker_id).values(values)
            )
            if not updated.rowcount:
                stmt = insert_ignore(self.dialect, workers_t, ["id"]).values(
                    id=worker_id, host=host[:255], pid=pid, started_at=at, **values
                )
                await conn.execute(stmt)

    async def remove_worker(self, worker_id: str) -> None:
        """A clean exit: the row goes, and every lease the worker still holds is freed."""
        free = {"claimed_until": None, "claim_token": None, "claimed_by": None}
        async with self.engine.begin() as conn:
            for table in (feeds_t, chat_leases_t):
                await conn.execute(
                    sa.update(table).where(table.c.claimed_by == worker_id).values(free)
                )
            await conn.execute(sa.delete(workers_t).where(workers_t.c.id == worker_id))

    async def list_workers(self) -> list[WorkerRecord]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(workers_t).order_by(workers_t.c.started_at))).all()
        return [
            WorkerRecord(
                id=r.id,
                host=r.host,
                pid=r.pid,
                roles=tuple(filter(None, r.roles.split(","))),
                holds_updates=bool(r.holds_updates),
                started_at=r.started_at,
                seen_at=r.seen_at,
            )
            for r in rows
        ]

    async def leases_clock(self, now: datetime) -> datetime:
        """The time on the clock that heartbeats and leases are written with: the database's
        on PostgreSQL (see :func:`bot.store._sql.lease_now`), ``now`` on SQLite. Ages shown
        against heartbeats are measured on it, or a host whose clock is off by a minute would
        report every worker a minute late (or dead)."""
        if self.dialect != "postgresql":
            return now
        async with self.engine.connect() as conn:
            at = (await conn.execute(sa.select(sa.func.now()))).scalar_one()
        return at if isinstance(at, datetime) else now

    async def lease_counts(self, now: datetime) -> dict[str, tuple[int, int]]:
        """worker id -> (feeds, chats) it holds a running lease on (on the leases' clock)."""
        counts: dict[str, list[int]] = {}
        async with self.engine.connect() as conn:
            for index, table in enumerate((feeds_t, chat_leases_t)):
                stmt = (
                    sa.select(table.c.claimed_by, sa.func.count())
                    .where(
                        table.c.claimed_by.is_not(None),
                        table.c.claimed_until >= lease_now(self.dialect, now),
                    )
                    .group_by(table.c.claimed_by)
                )
                for worker, n in (await conn.execute(stmt)).all():
                    counts.setdefault(worker, [0, 0])[index] = int(n)
        return {worker: (feeds, chats) for worker, (feeds, chats) in counts.items()}

    async def forget_dead_workers(self, now: datetime, silent_for: float) -> int:
        """Rows of workers not seen for ``silent_for`` seconds (long dead: their leases are
        free), on the heartbeats' clock."""
        before = lease_until(self.dialect, now, -silent_for)
        async with self.engine.begin() as conn:
            result = await conn.execute(sa.delete(workers_t).where(workers_t.c.seen_at < before))
        return int(result.rowcount or 0)

    async def claim_update(
        self, platform: str, update_id: int, now: datetime | None = None
    ) -> bool:
        """True the first time ``update_id`` is seen: the caller answers it. False when some
        worker had it already (handed out again after the previous consumer died)."""
        stmt = insert_ignore(self.dialect, handled_updates_t, ["platform", "update_id"])
        async with self.engine.begin() as conn:
            result = await conn.execute(
                stmt.values(platform=platform, update_id=update_id, at=now or utcnow()).returning(
                    handled_updates_t.c.update_id
                )
            )
            return result.first() is not None

    async def forget_updates(self, before: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.delete(handled_updates_t).where(handled_updates_t.c.at < before))
