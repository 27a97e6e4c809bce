"""Running several workers on one PostgreSQL: who each worker is, what it does, and which one
receives chat updates.

* :func:`parse_roles`: ``poll``, ``deliver``, ``updates`` (all by default; ``--roles`` or
  ``DIGESTBOT_ROLES`` split them);
* :class:`Heartbeat`: a row per worker, written every few seconds; a worker whose row stopped
  moving is dead, and the others take its feed and chat leases at once;
* :class:`UpdateLeader`: Telegram long polling allows one consumer per bot token, so the
  workers elect one with a PostgreSQL advisory lock held on a connection of its own. When that
  worker dies, its connection closes, the lock is released, and the next worker that asks
  (every ``retry`` seconds) starts consuming. Webhook mode and Slack need no election.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import SetupError
from bot.ports import ChatAdapter

__all__ = [
    "ROLES",
    "Heartbeat",
    "HeartbeatStore",
    "UpdateLeader",
    "answer_each_update_once",
    "exclusive_updates",
    "parse_roles",
    "update_lock_key",
    "worker_identity",
]

log = logging.getLogger(__name__)

ROLES = ("poll", "deliver", "updates")
_HOUSEKEEPING = 300.0  # seconds between two clean-ups of old worker rows and update ids


def parse_roles(text: str) -> tuple[str, ...]:
    """``"poll,deliver"`` -> ``("poll", "deliver")``; an unknown role is a setup error."""
    roles = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [role for role in roles if role not in ROLES]
    if unknown or not roles:
        raise SetupError(
            f"unknown worker role(s) {', '.join(unknown) or '(none given)'}: "
            f"use some of {', '.join(ROLES)} (DIGESTBOT_ROLES or --roles)"
        )
    return roles


def worker_identity() -> str:
    """Host, process id and a random suffix: unique even when containers reuse pids."""
    return f"{socket.gethostname()[:60]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def update_lock_key(platform: str, token: str) -> int:
    """The advisory lock key of one bot token's update consumer (a signed 64-bit int; the
    token itself never leaves the process)."""
    digest = hashlib.sha256(f"digestbot-updates:{platform}:{token}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def exclusive_updates(adapter: ChatAdapter) -> bool:
    """Only one process at a time may receive this adapter's updates (Telegram long polling:
    a second ``getUpdates`` consumer gets 409 Conflict and steals updates)."""
    return bool(getattr(adapter, "exclusive_updates", False))


class HeartbeatStore(Protocol):
    """What the heartbeat writes (``bot.store.SqlStore`` implements it)."""

    async def heartbeat(
        self,
        worker_id: str,
        *,
        host: str,
        pid: int,
        roles: Sequence[str],
        now: datetime,
        holds_updates: bool = False,
    ) -> None: ...

    async def remove_worker(self, worker_id: str) -> None: ...

    async def forget_dead_workers(self, now: datetime, silent_for: float) -> int: ...

    async def forget_updates(self, before: datetime) -> None: ...


class Heartbeat:
    """Writes this worker's row every ``every`` seconds until stopped; on a clean stop the row
    goes and the worker's leases are freed (a SIGKILLed worker's row just stops moving)."""

    def __init__(
        self,
        store: HeartbeatStore,
        worker_id: str,
        roles: Sequence[str],
        *,
        every: float,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.worker_id = worker_id
        self.roles = tuple(roles)
        self.every = every
        self.clock = clock
        self.holds_updates = False
        self._task: asyncio.Task[None] | None = None
        # Another worker takes this one's leases once its row is ``3 * every`` old. A beat
        # more than half that late (a stalled event loop, the database away) may have been
        # too late: ``epoch`` moves on and what was claimed before it is given up.
        self.epoch = 0
        self._last_ok: float | None = None
        self._late = 1.5 * every

    def lease_epoch(self) -> int | None:
        """The current epoch while the heartbeat is fresh, else None: a claim made under an
        epoch may be acted on only while this still returns that epoch."""
        if self._last_ok is None:
            return 0  # not beating (``--once``, tests): leases are only ever waited out
        if time.monotonic() - self._last_ok > self._late:
            return None
        return self.epoch

    async def beat(self) -> None:
        # The row says "alive" as of the database's clock when the write began; counting
        # freshness from before the write (not from when it returned, maybe seconds later on
        # a loaded machine) keeps this worker's view no later than the others' view of it.
        began = time.monotonic()
        await self.store.heartbeat(
            self.worker_id,
            host=socket.gethostname(),
            pid=os.getpid(),
            roles=self.roles,
            now=self.clock(),
            holds_updates=self.holds_updates,
        )
        now = time.monotonic()
        if self._last_ok is not None and now - self._last_ok > self._late:
            self.epoch += 1
            log.warning(
                "heartbeat %.1f s late: leases held before are given up (others may have "
                "taken them)",
                now - self._last_ok,
            )
        self._last_ok = began

    async def start(self) -> None:
        await self.beat()
        self._task = asyncio.create_task(self._run(), name="digestbot-heartbeat")

    async def _run(self) -> None:
        beats = 0
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.beat()
                beats += 1
                if beats % max(1, round(_HOUSEKEEPING / self.every)) == 0:
                    await self._housekeeping()
            except Exception as exc:  # the database is away: try again at the next beat
                log.warning("heartbeat not written: %s: %s", type(exc).__name__, exc)

    async def _housekeeping(self) -> None:
        """Rows of workers dead for an hour (every restart leaves one) and update ids older
        than a day (Telegram hands an update out again for at most 24 hours) go."""
        now = self.clock()
        await self.store.forget_dead_workers(now, silent_for=3600)
        await self.store.forget_updates(now - timedelta(days=1))

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            await self.store.remove_worker(self.worker_id)
        except Exception as exc:
            log.warning("worker row not removed (its leases run out instead): %s", exc)


class UpdateLeader:
    """Receives the updates of ``adapters`` while this worker holds their advisory lock."""

    def __init__(
        self,
        engine: AsyncEngine,
        key: int,
        adapters: Sequence[ChatAdapter],
        *,
        on_change: Callable[[bool], None],
        retry: float = 2.0,
    ) -> None:
        self.engine = engine
        self.key = key
        self.adapters = list(adapters)
        self.on_change = on_change
        self.retry = retry
        self.started = False  # the adapters' start() ran (stop() is the App's business)
        self.holding = False

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._hold(stop)
            except Exception as exc:
                log.warning(
                    "update lock: connection lost (%s: %s); updates paused, trying again",
                    type(exc).__name__,
                    exc,
                )
            finally:
                if self.holding:
                    await self._pause()
            await _wait(stop, self.retry)

    async def _hold(self, stop: asyncio.Event) -> None:
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            # The server notices a worker cut off from the network within ~10 s and releases
            # its lock; a killed process's socket is closed by its kernel at once.
            for name, value in (("idle", 5), ("interval", 2), ("count", 3)):
                await conn.exec_driver_sql(f"SET tcp_keepalives_{name} = {value}")
            lock = sa.text("SELECT pg_try_advisory_lock(:key)")
            while not (await conn.execute(lock, {"key": self.key})).scalar():
                if await _wait(stop, self.retry):
                    return
            await self._resume()
            while not await _wait(stop, self.retry):
                async with asyncio.timeout(max(5.0, 2 * self.retry)):
                    await conn.execute(sa.text("SELECT 1"))
            await self._pause()
            await conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})

    async def _resume(self) -> None:
        for adapter in self.adapters:
            if not self.started:
                await adapter.start()
            else:
                await adapter.resume_updates()  # type: ignore[attr-defined]
        self.started = True
        self.holding = True
        self.on_change(True)
        log.info("this worker holds the update lock: it receives the chat updates")

    async def _pause(self) -> None:
        self.holding = False
        self.on_change(False)
        for adapter in self.adapters:
            with contextlib.suppress(Exception):
                await adapter.pause_updates()  # type: ignore[attr-defined]
        log.info("update lock released: this worker no longer receives chat updates")


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` or until ``stop``; True when stopping."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


def answer_each_update_once(adapter: object, claim: Callable[[int], Awaitable[bool]]) -> None:
    """Let a Telegram adapter answer an update only if ``claim(update_id)`` says no worker had
    it yet: a consumer killed after answering but before confirming its last ``getUpdates``
    leaves those updates to the next consumer, which must not answer them again."""
    from telegram import Update
    from telegram.ext import ApplicationHandlerStop, TypeHandler

    application = getattr(adapter, "application", None)
    if application is None:
        return

    async def gate(update: object, _context: Any) -> None:
        if isinstance(update, Update) and not await claim(update.update_id):
            log.info("update %d was answered by another worker: skipped", update.update_id)
            raise ApplicationHandlerStop

    application.add_handler(TypeHandler(Update, gate), group=-1)
