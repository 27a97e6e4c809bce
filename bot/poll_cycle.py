"""One poll cycle's traffic control: due feeds leased in claims paced to the workers, a pool of
workers taking them one at a time, and the cycle's deadline. What one poll does is
:meth:`bot.poller.Poller.poll_feed`; this module only decides who polls what, and when to stop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.models import FeedRecord
from bot.poll_decisions import FeedReport, claim_size

__all__ = ["PollCycle"]


class PollCycle:
    """Run once: ``reports = await PollCycle(...).run()``; afterwards ``left_over`` holds the
    feeds leased but not started before the deadline (to hand back) and ``overran`` says
    whether the deadline passed.

    ``claim(limit)`` leases up to ``limit`` due feeds (empty: none left), ``poll(feed,
    deadline)`` polls one (``None``: nothing to report), ``after_poll()`` runs after each poll
    (the poller's batched writes).
    """

    def __init__(
        self,
        *,
        pool: int,
        seconds: float,
        claim: Callable[[int], Awaitable[list[FeedRecord]]],
        poll: Callable[[FeedRecord, float], Awaitable[FeedReport | None]],
        after_poll: Callable[[], Awaitable[None]],
    ) -> None:
        self.pool = max(1, pool)
        self.seconds = seconds
        self._claim = claim
        self._poll = poll
        self._after_poll = after_poll
        self.left_over: list[FeedRecord] = []
        self.overran = False
        self._done = 0
        self._reports: list[tuple[int, FeedReport]] = []
        # A claimed feed waits here until a worker is free: claims are sized to what the
        # workers got through so far (claim_size), so it waits seconds, never its lease.
        self._queue: asyncio.Queue[tuple[int, FeedRecord] | None] = asyncio.Queue(maxsize=self.pool)

    async def run(self) -> list[FeedReport]:
        """The reports in the order the feeds were claimed (earliest due first)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + self.seconds
        async with asyncio.TaskGroup() as group:
            group.create_task(self._claimer(loop, started, deadline))
            for _ in range(self.pool):
                group.create_task(self._worker(loop, deadline))
        self.overran = loop.time() >= deadline
        return [report for _, report in sorted(self._reports, key=lambda pair: pair[0])]

    async def _claimer(
        self, loop: asyncio.AbstractEventLoop, started: float, deadline: float
    ) -> None:
        claimed = 0
        while loop.time() < deadline:
            size = claim_size(self._done, loop.time() - started, self.pool)
            if not (feeds := await self._claim(size)):
                break
            for feed in feeds:
                await self._queue.put((claimed, feed))
                claimed += 1
        for _ in range(self.pool):
            await self._queue.put(None)

    async def _worker(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        while (job := await self._queue.get()) is not None:
            order, feed = job
            if loop.time() >= deadline:
                self.left_over.append(feed)  # leased, not polled: handed back by the caller
                continue
            report = await self._poll(feed, deadline)
            self._done += 1
            if report is not None:
                self._reports.append((order, report))
            await self._after_poll()
