"""One send budget per bot token, shared by every worker.

Telegram allows about 30 messages a second per bot, whatever the number of processes sending
for it; each worker pacing on its own (``bot.pacing.Pacer``) would send N times that. So with
a shared database the global rate is booked in one place:

* :class:`PostgresBudget`: the generic cell rate algorithm (the same as
  :func:`bot.pacing.gcra_reserve`) kept as one row per key in ``send_budget``; a booking is one
  ``UPDATE ... RETURNING`` in autocommit on the database's clock, so workers on several hosts
  agree without synchronised clocks;
* :class:`RedisBudget` (when ``REDIS_URL`` is set): the ``limits`` library's moving window on
  Redis, no more than ``rate`` sends in any one-second window.

The per-chat pace (1 s per private chat, 3 s per group) needs no shared state: a chat is served
by one worker at a time (its lease), and its next free time travels with the lease
(``DeliveryStore.release_chats``).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store._sql import insert_ignore
from bot.store.schema import send_budget_t

__all__ = ["PostgresBudget", "RedisBudget", "SendBudget", "budget_key", "shared_budget"]


class SendBudget(Protocol):
    async def acquire(self, key: str) -> None:
        """Return when one message may go out under ``key``'s budget (it is booked)."""
        ...

    async def aclose(self) -> None: ...


def budget_key(platform: str, token: str) -> str:
    """The budget's name for one bot token (the token itself is never stored)."""
    return f"{platform}:{hashlib.sha256(token.encode()).hexdigest()[:16]}"


class PostgresBudget:
    """GCRA on a ``send_budget`` row: ``burst`` sends back to back, then one per 1/``rate`` s."""

    def __init__(
        self,
        engine: AsyncEngine,
        rate: float,
        *,
        burst: int = 5,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.engine = engine
        self.interval = 1.0 / rate
        self.tolerance = self.interval * max(0, burst - 1)
        self.sleep = sleep
        self._known: set[str] = set()
        self._book = sa.text(
            "UPDATE send_budget SET tat = GREATEST(tat, n.t) + :interval "
            "FROM (SELECT extract(epoch FROM clock_timestamp())::float8 AS t) AS n "
            "WHERE key = :key RETURNING tat, n.t"
        )

    async def acquire(self, key: str) -> None:
        if key not in self._known:
            async with self.engine.begin() as conn:
                stmt = insert_ignore("postgresql", send_budget_t, ["key"]).values(key=key, tat=0.0)
                await conn.execute(stmt)
            self._known.add(key)
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            row = (await conn.execute(self._book, {"interval": self.interval, "key": key})).one()
        new_tat, now = float(row[0]), float(row[1])
        start = max(now, new_tat - self.interval - self.tolerance)
        if start > now:
            await self.sleep(start - now)

    async def aclose(self) -> None:
        return None


class RedisBudget:
    """``limits``' moving window on Redis: at most ``rate`` sends in any one second."""

    def __init__(
        self,
        url: str,
        rate: float,
        *,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        from limits import RateLimitItemPerSecond
        from limits.aio.storage import RedisStorage
        from limits.aio.strategies import MovingWindowRateLimiter

        self._storage = RedisStorage(url if url.startswith("async+") else f"async+{url}")
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._item = RateLimitItemPerSecond(max(1, round(rate)))
        self.sleep = sleep

    async def acquire(self, key: str) -> None:
        while not await self._limiter.hit(self._item, "digestbot-send", key):
            stats = await self._limiter.get_window_stats(self._item, "digestbot-send", key)
            await self.sleep(min(1.0, max(0.002, stats.reset_time - time.time())))

    async def aclose(self) -> None:
        # limits has no close of its own; its coredis client's pool holds the sockets.
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        pool = getattr(client, "connection_pool", None)
        if pool is not None:
            pool.disconnect()


def shared_budget(
    redis_url: str | None,
    store: object,
    rate: float,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> SendBudget | None:
    """The global rate shared by every worker: on Redis when ``REDIS_URL`` is set, else on a
    shared (PostgreSQL) database; a single SQLite worker paces on its own (None)."""
    if rate <= 0:
        return None
    if redis_url is not None:
        return RedisBudget(redis_url, rate, sleep=sleep)
    engine = getattr(store, "engine", None)
    if isinstance(engine, AsyncEngine) and engine.dialect.name == "postgresql":
        return PostgresBudget(engine, rate, sleep=sleep)
    return None
