"""Group commit for a poll cycle's new-entry writes: many feeds' results, one transaction.

Each feed with new entries has writes that must commit together (its seen entries, their
cards, their outbox rows, and the poll's success that ends its lease). Committed one feed at a
time, a cycle of 1,000 such feeds on SQLite spent most of its wall time queued on the writer
lock, every statement inside it waiting its turn on an event loop busy with fetches and cards.
:class:`GroupWriter` runs one writer task: feeds hand it their writes and wait; it takes
everything handed in since its last commit (up to ``max_batch``) and commits it as one
transaction. Nothing waits on a timer: while one batch commits, the next one gathers.

Every guarantee of the one-feed transaction holds per feed:

* a feed's entries, cards, outbox rows and poll success commit together or not at all (they
  are in the same transaction, and a batch commits whole or not at all);
* fencing: each feed's lease is checked and its row held (:meth:`hold_feed`) before its
  writes; a feed whose lease was taken over writes nothing and its poller gets
  :class:`~bot.poller.LeaseLost`, the others in the batch go on;
* one bad feed never sinks the others: when a batch fails, its feeds are written again one
  transaction each, and only the one that fails again gets the error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.models import PollSuccess
from bot.ports import QueueTransaction

__all__ = ["FeedWrite", "GroupWriter", "LeaseLost"]

T = TypeVar("T")


class LeaseLost(Exception):
    """Another worker took over the feed's lease (this one stalled past it)."""


@dataclass(frozen=True, slots=True)
class FeedWrite(Generic[T]):
    """One feed's share of a batch: ``write(tx)`` runs after the feed's lease is checked and
    may run twice (a failed batch is written again feed by feed), so it only writes through
    ``tx``; ``success`` is recorded in the same transaction."""

    url: str
    feed_id: int
    claim_token: str | None
    write: Callable[[QueueTransaction], Awaitable[T]]
    success: PollSuccess


async def write_batch(tx: QueueTransaction, jobs: list[FeedWrite[T]]) -> list[T | LeaseLost]:
    """The jobs' writes in the caller's transaction; a job whose lease was lost gets
    :class:`LeaseLost` in its place and writes nothing."""
    results: list[T | LeaseLost] = []
    for job in jobs:
        if await tx.hold_feed(job.feed_id, job.claim_token):
            results.append(await job.write(tx))
        else:
            results.append(LeaseLost(job.url))
    held = [
        job.success for job, r in zip(jobs, results, strict=True) if not isinstance(r, LeaseLost)
    ]
    if held:
        await tx.record_poll_successes(held)
    return results


class GroupWriter:
    """``async with GroupWriter(begin, writing) as writer: result = await writer.submit(job)``

    ``begin()`` opens one transaction (``store.transaction``); ``writing()`` is held around
    each commit (the poller's serialisation with its other writes on SQLite). On the way out
    the writer commits what is still handed in, then stops.
    """

    def __init__(
        self,
        begin: Callable[[], contextlib.AbstractAsyncContextManager[QueueTransaction]],
        writing: Callable[[], contextlib.AbstractAsyncContextManager[None]],
        *,
        max_batch: int = 200,
    ) -> None:
        self._begin = begin
        self._writing = writing
        self.max_batch = max(1, max_batch)
        self._pending: list[tuple[FeedWrite[object], asyncio.Future[object]]] = []
        self._inflight: list[tuple[FeedWrite[object], asyncio.Future[object]]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # commits made (for tests and the bench)

    async def __aenter__(self) -> GroupWriter:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aexit__(self, *_: object) -> None:
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def submit(self, job: FeedWrite[T]) -> T:
        """Hand in one feed's writes; returns what ``job.write`` returned once committed.
        Raises :class:`LeaseLost`, or what the job's own transaction raised."""
        if self._task is None or self._task.done():
            raise RuntimeError("GroupWriter is not running")
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._pending.append((job, future))  # type: ignore[arg-type]
        self._wake.set()
        return await future  # type: ignore[return-value]

    async def _run(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._pending:
                    self._inflight = self._pending[: self.max_batch]
                    del self._pending[: self.max_batch]
                    await self._commit(self._inflight)
                    self._inflight = []
                if self._closing:
                    return
        except BaseException as exc:  # nobody may wait forever on a writer that is gone
            for _, future in self._inflight + self._pending:
                _settle(future, RuntimeError(f"poll writer stopped: {exc!r}"))
            raise

    async def _commit(self, batch: list[tuple[FeedWrite[object], asyncio.Future[object]]]) -> None:
        jobs = [job for job, _ in batch]
        try:
            async with self._writing(), self._begin() as tx:
                results = await write_batch(tx, jobs)
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            # One feed's writes failed and rolled the batch back: each on its own, so that
            # only that feed fails.
            for item in batch:
                await self._commit([item])
            return
        self.batches += 1
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result)


def _settle(future: asyncio.Future[object], outcome: object) -> None:
    if future.done():  # its poll was cancelled meanwhile: the writes stand (they committed)
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
