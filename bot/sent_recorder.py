"""Write-behind of "sent" records: delivery's senders add a record per message, and one
background task writes them in batches (one UPDATE of the items + one INSERT of their log rows).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.models import SentRecord

__all__ = ["SentRecorder", "SentStore"]


class SentStore(Protocol):
    async def record_sent(self, records: Sequence[SentRecord]) -> None: ...


class SentRecorder:
    """Buffers "sent" records and writes them in batches, off the senders' path.

    Why the trade: one transaction per message (two, with its log row) cost ~4 ms of CPU on
    SQLite and capped delivery at a few hundred messages/s; one transaction per
    ``max_items`` messages costs about as much as one. The price is a bounded window: a
    message that went out but whose record is still buffered when the process dies is sent
    again after its lease runs out. That window is the same one every outbox has between a
    send and its record (a crash right after ``send`` returns); buffering stretches it to
    about ``max_delay`` seconds or ``max_items`` sends (plus one write in progress), and
    :meth:`close` (which :meth:`Delivery.run` always reaches, on SIGTERM too) writes whatever
    is left, so a clean shutdown repeats nothing. Nothing queued can be lost: an unrecorded
    item is still pending.

    Writes happen in one background task so that a sender never waits for the database,
    unless the store falls behind by ``_BACKLOG`` batches: then senders wait (back-pressure
    keeps the window bounded).
    """

    _BACKLOG = 4

    def __init__(self, store: SentStore, *, max_items: int, max_delay: float) -> None:
        self._store = store
        self._max_items = max(1, max_items)
        self._max_delay = max(0.0, max_delay)
        self._buffer: list[SentRecord] = []
        self._items = 0
        # One write at a time, claims included (Delivery takes it too): SQLite has one writer,
        # and two connections contending wait in its busy handler, which sleeps for
        # milliseconds at a time.
        self.lock = asyncio.Lock()
        self._waiting = asyncio.Event()  # a record is buffered: the delay runs
        self._due = asyncio.Event()  # write now: full, or closing
        self._closing = False
        self._writer: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SentRecorder:
        self._writer = asyncio.create_task(self._write_when_due(), name="delivery-recorder")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def add(
        self,
        subscription_id: int,
        item_ids: list[int],
        at: datetime,
        claim_token: str | None = None,
        *,
        wait: bool = False,
    ) -> None:
        """Buffer one sent message; with ``wait``, return once it is written (together with
        whatever else is buffered by then: concurrent senders share the commit)."""
        self._buffer.append(SentRecord(subscription_id, tuple(item_ids), at, claim_token))
        self._items += len(item_ids)
        if wait:
            await self.flush()
            return
        if not self._waiting.is_set():
            self._waiting.set()
        if self._items >= self._max_items:
            self._due.set()
            if self._items >= self._max_items * self._BACKLOG:
                await self.flush()

    async def flush(self) -> None:
        async with self.lock:
            batch, self._buffer, self._items = self._buffer, [], 0
            if not batch:
                return
            try:
                await self._store.record_sent(batch)
            except BaseException:
                # Keep them for the next flush (close() tries again); until then the items
                # are pending and leased, so no other worker sends them.
                self._buffer[:0] = batch
                self._items += sum(len(r.item_ids) for r in batch)
                raise

    async def _write_when_due(self) -> None:
        while not self._closing:
            await self._waiting.wait()
            # The first record waiting starts the clock; a full buffer or close() cuts it short.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._due.wait(), self._max_delay)
            self._waiting.clear()
            self._due.clear()
            await self.flush()

    async def close(self) -> None:
        """Write everything buffered; the writer task ends (never cancelled mid-write)."""
        self._closing = True
        self._due.set()
        self._waiting.set()
        writer, self._writer = self._writer, None
        try:
            if writer is not None:
                await writer
        finally:
            await self.flush()
