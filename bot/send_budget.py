"""One send budget per bot token, shared by every worker.

Telegram allows about 30 messages a second per bot, whatever the number of processes sending
for it; each worker pacing on its own (``bot.pacing.Pacer``) would send N times that. So with
a shared database the global rate is booked in one place:

* :class:`PostgresBudget`: the generic cell rate algorithm (the same as
  :func:`bot.pacing.gcra_reserve`) kept as one row per key in ``send_budget``; a booking is one
  ``UPDATE ... RETURNING`` in autocommit on the database's clock, so workers on several hosts
  agree without synchronised clocks. At a high rate a worker books a block of consecutive
  slots per ``UPDATE`` (one UPDATE of one hot row per message capped the rate and queued the
  workers on its row lock); at 25/s a block is one slot;
* :class:`RedisBudget` (when ``REDIS_URL`` is set): the same algorithm as a Lua script on
  Redis (the ``limits`` library's moving window was tried first; see the class).

The per-chat pace (1 s per private chat, 3 s per group) needs no shared state: a chat is served
by one worker at a time (its lease), and its next free time travels with the lease
(``DeliveryStore.release_chats``).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

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


_LATE = 0.05  # seconds after its slot that a send still counts as on time
# Slots booked per round trip to the shared store: as many as fit in ``_BLOCK_SECONDS`` of the
# rate, at most ``_MAX_BLOCK``. At 25/s that is one (a slot is 40 ms); at a high rate one
# round trip books many, instead of one UPDATE of the same row per message.
_BLOCK_SECONDS = 0.02
_MAX_BLOCK = 64


class _Gcra:
    """What both shared budgets do around their one booking statement: each worker books
    slots in blocks of consecutive ones and hands them out to its senders in order.

    A slot is booked for this worker alone, so a slot left unused (the worker had nothing
    more to send, or woke too late for it) simply lapses: the rate is never exceeded, a
    little of it is wasted (at most one block, ``_BLOCK_SECONDS``)."""

    interval: float
    tolerance: float
    block: int
    sleep: Callable[[float], Awaitable[object]]

    def _start(self, rate: float, burst: int, sleep: Callable[[float], Awaitable[object]]) -> None:
        self.interval = 1.0 / rate
        self.tolerance = self.interval * max(0, burst - 1)
        self.block = max(1, min(_MAX_BLOCK, int(_BLOCK_SECONDS / self.interval)))
        self.sleep = sleep
        self._slots: dict[str, deque[float]] = {}  # booked, unused: when, on time.monotonic()
        self._booking: dict[str, asyncio.Lock] = {}

    async def _book(self, key: str, count: int) -> tuple[float, float]:
        """Book ``count`` consecutive slots: ``(new TAT, now)`` on the shared store's clock."""
        raise NotImplementedError

    async def acquire(self, key: str) -> None:
        while True:
            due = await self._next_slot(key)
            wait = due - time.monotonic()
            if wait > 0:
                await self.sleep(wait)
            # A worker that wakes well after its slot (a stalled event loop, a busy CPU) would
            # send together with the slots after it, and the platform counts arrivals: the
            # slot is lost and another one taken. (A sleep always overshoots a little: at high
            # rates one slot is less than that.)
            if time.monotonic() - due <= max(self.interval, _LATE):
                return

    async def _next_slot(self, key: str) -> float:
        """This worker's next booked slot under ``key`` (a block is booked when none is left),
        on the monotonic clock; slots already too late for use lapse."""
        slots = self._slots.setdefault(key, deque())
        async with self._booking.setdefault(key, asyncio.Lock()):
            while slots and time.monotonic() - slots[0] > max(self.interval, _LATE):
                slots.popleft()
            if not slots:
                new_tat, now = await self._book(key, self.block)
                here = time.monotonic()  # the store read its clock before: never early
                first = new_tat - self.block * self.interval
                for n in range(self.block):
                    start = max(now, first + n * self.interval - self.tolerance)
                    slots.append(here + start - now)
            return slots.popleft()


class PostgresBudget(_Gcra):
    """GCRA on a ``send_budget`` row: ``burst`` sends back to back, then one per 1/``rate`` s.

    ``burst`` is 1 by default: a burst at the start of a second plus the network's jitter was
    enough for the platform to count more than its limit in one second."""

    def __init__(
        self,
        engine: AsyncEngine,
        rate: float,
        *,
        burst: int = 1,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.engine = engine
        self._start(rate, burst, sleep)
        self._known: set[str] = set()
        self._statement = sa.text(
            "UPDATE send_budget SET tat = GREATEST(tat, n.t) + :interval "
            "FROM (SELECT extract(epoch FROM clock_timestamp())::float8 AS t) AS n "
            "WHERE key = :key RETURNING tat, n.t"
        )

    async def _book(self, key: str, count: int) -> tuple[float, float]:
        if key not in self._known:
            async with self.engine.begin() as conn:
                stmt = insert_ignore("postgresql", send_budget_t, ["key"]).values(key=key, tat=0.0)
                await conn.execute(stmt)
            self._known.add(key)
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            booked = {"interval": self.interval * count, "key": key}
            row = (await conn.execute(self._statement, booked)).one()
        return float(row[0]), float(row[1])

    async def aclose(self) -> None:
        return None


# GCRA on one Redis key, on the Redis server's clock; returns the new TAT and "now".
_REDIS_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local new = math.max(tat, now) + tonumber(ARGV[1])
redis.call('SET', KEYS[1], tostring(new), 'EX', 3600)
return {tostring(new), tostring(now)}
"""


class RedisBudget(_Gcra):
    """The same GCRA as :class:`PostgresBudget`, as one Lua script on Redis.

    ``limits``' moving window (the first choice) lets ``rate`` sends through at once at each
    window's start; with three workers the platform saw up to 30/s in places and answered
    429 (13-17 per 250 messages at 25/s, ``bench/scale.py``); this spaces every send.
    """

    def __init__(
        self,
        url: str,
        rate: float,
        *,
        burst: int = 1,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        import coredis

        self._client = coredis.Redis.from_url(url, decode_responses=True)
        self._start(rate, burst, sleep)

    async def _book(self, key: str, count: int) -> tuple[float, float]:
        answer: Any = await self._client.eval(
            _REDIS_GCRA, keys=[f"digestbot:budget:{key}"], args=[repr(self.interval * count)]
        )
        return float(answer[0]), float(answer[1])

    async def aclose(self) -> None:
        self._client.connection_pool.disconnect()


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
