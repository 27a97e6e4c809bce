"""One poll cycle: due feeds -> new entries -> cards -> stored -> queued for matching chats.

Decisions are pure (:mod:`bot.poll_decisions`: :func:`next_poll_after_success`,
:func:`next_poll_after_failure`, :func:`split_first_poll`); :class:`Poller` does the I/O around
them. Per feed:

* entry identity is the feed's ``entry_id`` (guid/id), never a date, so an edited date does not
  make an old entry new;
* the first poll of a newly added feed records its current entries as seen and stores cards for
  the newest few (so ``/digest`` has something to show), but broadcasts nothing; only
  ``backfill_platforms`` subscribers (the built-in console subscriber) get its newest
  ``backfill_count`` cards, which is how ``digestbot run --once`` shows cards on a fresh machine;
* a feed that fails is logged, backed off exponentially and skipped; the cycle goes on;
* ``<ttl>`` is honoured: a feed is not polled more often than it asks;
* due feeds are leased a few at a time (``PollerStore.claim_due_feeds``), so with several
  workers each due feed is fetched by one of them; the poll's writes are fenced by the lease.

Feeds are polled concurrently: ``feed_concurrency`` workers take due feeds one at a time, so a
slow or hanging feed holds one worker, never the cycle (the fetcher adds the per-site bound).
Each feed's network and card work runs under the cycle's deadline (``cycle_deadline`` seconds):
a feed still at it then fails like any other and is retried with back-off; feeds not started by
then stay due for the next cycle. Unchanged feeds (304, or the same body as last time: its
digest is kept per feed) are recorded in batches and cost no parsing. Feeds with new entries
hand their writes to the cycle's :class:`~bot.poll_writes.GroupWriter`, which commits many
feeds per transaction (each feed's writes still all or nothing, fenced by its own lease).

Public API::

    Poller(store, pipeline, topic_names, *, interval, clock, first_poll_cards=5,
           max_new_cards=50, backfill_platforms=(), backfill_count=3, worker_id=None,
           lease_seconds=300, dead_after=None, feed_concurrency=50, cycle_deadline=None,
           serial_writes=False)
    await poller.poll_due() -> list[FeedReport]
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import utcnow
from bot.matching import SubscriptionIndex
from bot.metrics import Metrics
from bot.models import FeedRecord, PollSuccess, StoredCard
from bot.poll_cycle import PollCycle
from bot.poll_decisions import (
    FeedReport,
    merge_topics,
    next_poll_after_failure,
    next_poll_after_success,
    split_first_poll,
)
from bot.poll_writes import FeedWrite, GroupWriter, LeaseLost, write_batch
from bot.ports import PollerStore, QueueTransaction
from bot.schedule import plan_queue_indexed
from bot.subscription_sync import LiveIndex
from digests.errors import DigestError
from digests.models import Card, FeedEntry

__all__ = [
    "FeedReport",
    "LeaseLost",
    "Poller",
    "next_poll_after_failure",
    "next_poll_after_success",
    "split_first_poll",
]

log = logging.getLogger(__name__)

_UNCHANGED_BATCH = 500  # unchanged polls recorded per transaction


class FeedFetchLike(Protocol):
    @property
    def feed(self) -> object: ...

    @property
    def etag(self) -> str | None: ...

    @property
    def last_modified(self) -> str | None: ...

    @property
    def body_hash(self) -> str | None: ...


class Pipeline(Protocol):
    """The part of ``digests.pipeline.NewsPipeline`` the worker uses."""

    async def fetch_feed(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        body_hash: str | None = None,
        deadline: float | None = None,
    ) -> FeedFetchLike: ...

    async def cards_for_entries(
        self,
        entries: Sequence[FeedEntry],
        concurrency: int = 4,
        *,
        summary_mode: str | None = None,
        deadline: float | None = None,
    ) -> Sequence[Card | DigestError]: ...

    @property
    def feed_timeout(self) -> float: ...

    def link_card(self, entry: FeedEntry) -> Card: ...


class Poller:
    def __init__(
        self,
        store: PollerStore,
        pipeline: Pipeline,
        topic_names: Collection[str],
        *,
        interval: float,
        clock: Callable[[], datetime] = utcnow,
        first_poll_cards: int = 5,
        max_new_cards: int = 50,
        backfill_platforms: Sequence[str] = (),
        backfill_count: int = 3,
        concurrency: int = 4,
        metrics: Metrics | None = None,
        feed_concurrency: int = 50,
        cycle_deadline: float | None = None,
        serial_writes: bool = False,
        worker_id: str | None = None,
        lease_seconds: float = 300.0,
        dead_after: float | None = None,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.topic_names = tuple(topic_names)
        self._index: SubscriptionIndex | None = None
        self._live_index = LiveIndex(store, self.topic_names)
        self._index_cycle = -1
        self._cycle = 0
        self._index_lock = asyncio.Lock()
        self.interval = interval
        self.clock = clock
        self.first_poll_cards = first_poll_cards
        self.max_new_cards = max_new_cards
        self.backfill_platforms = tuple(backfill_platforms)
        self.backfill_count = backfill_count
        self.concurrency = concurrency
        self.metrics = metrics or Metrics()
        # Labelled once: the unchanged path runs for thousands of feeds per cycle.
        self._polls_not_modified = self.metrics.feed_polls.labels(outcome="not_modified")
        self._polls_ok = self.metrics.feed_polls.labels(outcome="ok")
        self._polls_failed = self.metrics.feed_polls.labels(outcome="failed")
        self.feed_concurrency = max(1, feed_concurrency)
        # A cycle should end before the next one is due.
        self.cycle_deadline = cycle_deadline or max(60.0, float(interval))
        self._unchanged: list[PollSuccess] = []
        # SQLite takes one writer at a time: concurrent polls write one after another here
        # instead of piling up on the database lock.
        self._writes: asyncio.Lock | None = asyncio.Lock() if serial_writes else None
        # During a cycle, new entries' writes are group-committed (bot.poll_writes).
        self._writer: GroupWriter | None = None
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self.dead_after = dead_after

    async def _claim(self, limit: int) -> list[FeedRecord]:
        """Lease the next ``limit`` due feeds: with several workers, each due feed goes to one.

        A few at a time, not all, so that feeds due now are shared out among the workers
        polling now instead of sitting in one worker's lease.
        """
        now = self.clock()
        # A little slack: the scheduler's jitter may wake us just before a feed falls due, and
        # skipping it would double its interval.
        slack = timedelta(seconds=min(0.2 * self.interval, 120.0))
        dead_before = None if self.dead_after is None else now - timedelta(seconds=self.dead_after)
        return await self.store.claim_due_feeds(
            now + slack,
            lease_seconds=self.lease_seconds,
            limit=limit,
            worker_id=self.worker_id,
            dead_before=dead_before,
        )

    async def poll_due(self) -> list[FeedReport]:
        """Poll every due feed, ``feed_concurrency`` at a time, until none is left or the
        cycle's deadline passes."""
        self._cycle += 1
        cycle = PollCycle(
            pool=self.feed_concurrency,
            seconds=self.cycle_deadline,
            claim=self._claim,
            poll=self._poll_guarded,
            after_poll=self._flush_unchanged_if_full,
        )
        try:
            async with GroupWriter(self.store.transaction, self._writing) as writer:
                self._writer = writer
                try:
                    reports = await cycle.run()
                finally:
                    self._writer = None
        finally:
            await self._flush_unchanged()
            await self.store.release_feeds(cycle.left_over)
        if cycle.left_over or cycle.overran:
            log.warning(
                "poll cycle deadline (%g s) passed: %d claimed feeds left for the next cycle",
                self.cycle_deadline,
                len(cycle.left_over),
            )
        return reports

    async def _poll_guarded(self, feed: FeedRecord, deadline: float) -> FeedReport | None:
        try:
            report = await self.poll_feed(feed, deadline=deadline)
        except LeaseLost:
            log.warning("feed %s: lease taken over by another worker; poll dropped", feed.url)
            return None
        except DigestError as exc:
            # The feed's own URL is on the record already: keep only the reason.
            same = getattr(exc, "url", None) == feed.url
            report = await self._failed(feed, (same and getattr(exc, "reason", None)) or str(exc))
        except TimeoutError:
            report = await self._failed(
                feed, f"not done within the poll cycle's {self.cycle_deadline:g}s deadline"
            )
        except Exception as exc:
            # A bug in one feed's handling must not starve the others; keep the trace.
            log.exception("feed %s: unexpected error", feed.url)
            report = await self._failed(feed, f"{type(exc).__name__}: {exc}")
        if report.error is None and not report.not_modified:
            log.info("%s", report)
        return report

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        if self._writes is None:
            yield
            return
        async with self._writes:
            yield

    async def _flush_unchanged_if_full(self) -> None:
        if len(self._unchanged) >= _UNCHANGED_BATCH:
            await self._flush_unchanged()

    async def _flush_unchanged(self) -> None:
        batch, self._unchanged = self._unchanged, []
        async with self._writing():
            await self.store.record_poll_successes(batch)
        if batch:  # counted a batch at a time: one locked increment each cost 1% of a poll
            self._polls_not_modified.inc(len(batch))

    async def _failed(self, feed: FeedRecord, error: str) -> FeedReport:
        now = self.clock()
        count = feed.error_count + 1
        retry_at = next_poll_after_failure(now, self.interval, count)
        async with self._writing():
            await self.store.record_poll_failure(
                feed.id, error=error, now=now, next_poll_at=retry_at, claim_token=feed.claim_token
            )
        log.warning(
            "feed %s: failed (%d in a row): %s; next try at %s",
            feed.url,
            count,
            error,
            retry_at.strftime("%Y-%m-%d %H:%M UTC"),
        )
        self._polls_failed.inc()
        return FeedReport(feed.url, error=error)

    async def poll_feed(self, feed: FeedRecord, *, deadline: float | None = None) -> FeedReport:
        """Poll one feed; the fetch and the cards must be done by ``deadline`` (loop time).

        Pages not read within the pipeline's ``feed_timeout`` of the start get their cards from
        the feed's own text: one slow site delays its feed by a bounded time, never a cycle.
        """
        pages_by = asyncio.get_running_loop().time() + self.pipeline.feed_timeout
        if deadline is not None:  # leave the cycle time to build the fallback cards
            pages_by = min(pages_by, deadline - 2.0)
        started = time.perf_counter()
        try:
            # The deadline goes down to the fetcher: one timer per request, not two.
            fetched = await self.pipeline.fetch_feed(
                feed.url,
                etag=feed.etag,
                last_modified=feed.last_modified,
                body_hash=feed.body_hash,
                deadline=deadline,
            )
        finally:  # failed fetches count: a host that times out is what the histogram shows
            self.metrics.fetch_seconds.observe(time.perf_counter() - started)
        parsed = fetched.feed
        if parsed is None:
            now = self.clock()
            self._unchanged.append(
                PollSuccess(
                    feed.id,
                    fetched.etag,
                    fetched.last_modified,
                    feed.ttl_minutes,
                    now,
                    next_poll_after_success(now, self.interval, feed.ttl_minutes),
                    feed.claim_token,
                    fetched.body_hash,
                    (fetched.etag, fetched.last_modified, fetched.body_hash)
                    != (feed.etag, feed.last_modified, feed.body_hash),
                )
            )
            if deadline is None:  # polled on its own: record it now
                await self._flush_unchanged()
            return FeedReport(feed.url, not_modified=True)
        entries: tuple[FeedEntry, ...] = parsed.entries  # type: ignore[attr-defined]
        unique = list({e.entry_id: e for e in entries}.values())
        unseen = await self.store.unseen_entry_ids(feed.id, [e.entry_id for e in unique])
        new = [e for e in unique if e.entry_id in unseen]
        first_poll = not feed.initialized
        to_build, only_seen = split_first_poll(
            new, first_poll, self.first_poll_cards, self.max_new_cards
        )
        started = time.perf_counter()
        async with asyncio.timeout_at(deadline):
            outcomes = await self.pipeline.cards_for_entries(
                to_build,
                concurrency=self.concurrency,
                summary_mode=feed.summary_mode,
                deadline=pages_by,
            )
        if to_build:
            self.metrics.card_build_seconds.observe((time.perf_counter() - started) / len(to_build))
        read = sum(isinstance(o, Card) for o in outcomes)
        self.metrics.articles_read.inc(read)
        self.metrics.articles_unreadable.inc(len(outcomes) - read)
        pairs: list[tuple[str, Card | None]] = []
        for entry, outcome in zip(to_build, outcomes, strict=True):
            if isinstance(outcome, Card):
                named = merge_topics(outcome, feed.topics, feed.name, parsed.title)  # type: ignore[attr-defined]
                pairs.append((entry.entry_id, named))
            elif first_poll:  # recorded, never broadcast: no need for a stand-in card
                log.warning("feed %s: no card for %s: %s", feed.url, entry.link, outcome)
                pairs.append((entry.entry_id, None))
            else:
                # The entry is recorded as seen either way; a headline-and-link card keeps
                # the piece from being lost to subscribers when its page cannot be read.
                log.warning(
                    "feed %s: page of %s unreadable (%s); sending headline and link",
                    feed.url,
                    entry.link,
                    outcome,
                )
                card = merge_topics(
                    self.pipeline.link_card(entry),
                    feed.topics,
                    feed.name,
                    parsed.title,  # type: ignore[attr-defined]
                )
                pairs.append((entry.entry_id, card))
        pairs.extend((e.entry_id, None) for e in only_seen)
        has_cards = any(card is not None for _, card in pairs)
        index = await self._subscription_index() if has_cards else SubscriptionIndex()
        # First poll: only the backfill subscribers.
        platforms = self.backfill_platforms if first_poll else None
        now = self.clock()
        ttl = parsed.ttl_minutes  # type: ignore[attr-defined]

        async def write(tx: QueueTransaction) -> tuple[list[StoredCard], int]:
            stored = await tx.record_entries(feed.id, pairs, now)
            # First poll: only the backfill subscribers, and only the newest few cards.
            to_queue = stored[: self.backfill_count] if first_poll else stored
            # A feed added from chats: its owners only.
            audience = await tx.feed_audience(feed.id) if to_queue else None
            rows = plan_queue_indexed(
                to_queue, index.matching, now, platforms=platforms, audience=audience
            )
            return stored, await tx.enqueue(rows, now)

        # Seen entries, their cards, their outbox rows and the poll's success commit together
        # (bot.poll_writes): an entry recorded as seen is never looked at again, so a crash in
        # between must not lose its card.
        success = PollSuccess(
            feed.id,
            fetched.etag,
            fetched.last_modified,
            ttl,
            now,
            next_poll_after_success(now, self.interval, ttl),
            feed.claim_token,
            fetched.body_hash,
        )
        job = FeedWrite(feed.url, feed.id, feed.claim_token, write, success)
        if self._writer is not None:
            stored, queued = await self._writer.submit(job)
        else:  # polled on its own: a transaction of its own
            async with self._writing(), self.store.transaction() as tx:
                [result] = await write_batch(tx, [job])
            if isinstance(result, LeaseLost):
                raise result
            stored, queued = result
        self._polls_ok.inc()
        self.metrics.cards_queued.inc(queued)
        return FeedReport(
            feed.url,
            new_entries=len(new),
            cards=len(stored),
            queued=queued,
            first_poll=first_poll,
        )

    async def _subscription_index(self) -> SubscriptionIndex:
        """The active subscriptions' index, brought up to date once per cycle: in place for
        the subscriptions that changed (bot.subscription_sync), rebuilt only now and then."""
        async with self._index_lock:
            if self._index is None or self._index_cycle != self._cycle:
                self._index = await self._live_index.current()
                self._index_cycle = self._cycle
            return self._index
