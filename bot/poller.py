"""One poll cycle: due feeds -> new entries -> cards -> stored -> queued for matching chats.

Decisions are pure (:func:`next_poll_after_success`, :func:`next_poll_after_failure`,
:func:`split_first_poll`); :class:`Poller` does the I/O around them. Per feed:

* entry identity is the feed's ``entry_id`` (guid/id), never a date, so an edited date does not
  make an old entry new;
* the first poll of a newly added feed records its current entries as seen and stores cards for
  the newest few (so ``/digest`` has something to show), but broadcasts nothing; only
  ``backfill_platforms`` subscribers (the built-in console subscriber) get its newest
  ``backfill_count`` cards, which is how ``digestbot run --once`` shows cards on a fresh machine;
* a feed that fails is logged, backed off exponentially and skipped; the cycle goes on;
* ``<ttl>`` is honoured: a feed is not polled more often than it asks.

Public API::

    Poller(store, pipeline, matches, *, interval, clock, first_poll_cards=5,
           max_new_cards=50, backfill_platforms=(), backfill_count=3)
    await poller.poll_due() -> list[FeedReport]
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import utcnow
from bot.models import FeedRecord
from bot.ports import PollerStore
from bot.schedule import exponential_backoff, plan_queue
from digests.errors import DigestError
from digests.models import Card, FeedEntry

__all__ = [
    "FeedReport",
    "Poller",
    "next_poll_after_failure",
    "next_poll_after_success",
    "split_first_poll",
]

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)


class FeedFetchLike(Protocol):
    @property
    def feed(self) -> object: ...

    @property
    def etag(self) -> str | None: ...

    @property
    def last_modified(self) -> str | None: ...


class Pipeline(Protocol):
    """The part of ``digests.pipeline.NewsPipeline`` the worker uses."""

    async def fetch_feed(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FeedFetchLike: ...

    async def cards_for_entries(
        self,
        entries: Sequence[FeedEntry],
        concurrency: int = 4,
        *,
        summary_mode: str | None = None,
    ) -> Sequence[Card | DigestError]: ...

    def link_card(self, entry: FeedEntry) -> Card: ...


@dataclass(frozen=True, slots=True)
class FeedReport:
    url: str
    new_entries: int = 0
    cards: int = 0
    queued: int = 0
    not_modified: bool = False
    first_poll: bool = False
    error: str | None = None

    def __str__(self) -> str:
        if self.error:
            return f"feed {self.url}: FAILED: {self.error}"
        if self.not_modified:
            return f"feed {self.url}: not modified"
        first = " (first poll: recorded, not broadcast)" if self.first_poll else ""
        return (
            f"feed {self.url}: {self.new_entries} new entries, {self.cards} cards, "
            f"{self.queued} queued{first}"
        )


def next_poll_after_success(now: datetime, interval: float, ttl_minutes: int | None) -> datetime:
    """The feed's own ``<ttl>`` wins when it asks for a longer wait than our interval."""
    wait = max(float(interval), float(ttl_minutes or 0) * 60.0)
    return now + timedelta(seconds=wait)


def next_poll_after_failure(
    now: datetime, interval: float, error_count: int, cap: timedelta = MAX_BACKOFF
) -> datetime:
    """``error_count`` failures in a row (this one included): interval x 2^(n-1), capped."""
    ceiling = max(cap.total_seconds(), float(interval))
    return now + timedelta(seconds=exponential_backoff(float(interval), error_count - 1, ceiling))


def split_first_poll(
    entries: Sequence[FeedEntry], first_poll: bool, first_poll_cards: int, max_new_cards: int
) -> tuple[list[FeedEntry], list[FeedEntry]]:
    """``(entries to build cards for, entries only to record as seen)``, newest first."""
    from digests.pipeline import newest_entries

    limit = first_poll_cards if first_poll else max_new_cards
    ordered = newest_entries(entries, len(entries))
    return ordered[:limit], ordered[limit:]


def _merge_topics(card: Card, feed_topics: Sequence[str]) -> Card:
    if not feed_topics:
        return card
    topics = tuple(dict.fromkeys([*card.topics, *feed_topics]))
    return replace(card, topics=topics)


class Poller:
    def __init__(
        self,
        store: PollerStore,
        pipeline: Pipeline,
        matches: Callable[[Card, Sequence[str]], bool],
        *,
        interval: float,
        clock: Callable[[], datetime] = utcnow,
        first_poll_cards: int = 5,
        max_new_cards: int = 50,
        backfill_platforms: Sequence[str] = (),
        backfill_count: int = 3,
        concurrency: int = 4,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.matches = matches
        self.interval = interval
        self.clock = clock
        self.first_poll_cards = first_poll_cards
        self.max_new_cards = max_new_cards
        self.backfill_platforms = tuple(backfill_platforms)
        self.backfill_count = backfill_count
        self.concurrency = concurrency

    async def poll_due(self) -> list[FeedReport]:
        # A little slack: the scheduler's jitter may wake us just before a feed falls due, and
        # skipping it would double its interval.
        slack = timedelta(seconds=min(0.2 * self.interval, 120.0))
        feeds = await self.store.due_feeds(self.clock() + slack)
        reports = []
        for feed in feeds:
            try:
                report = await self.poll_feed(feed)
            except DigestError as exc:
                report = await self._failed(feed, str(exc))
            except Exception as exc:
                # A bug in one feed's handling must not starve the others; keep the trace.
                log.exception("feed %s: unexpected error", feed.url)
                report = await self._failed(feed, f"{type(exc).__name__}: {exc}")
            if report.error is None:
                log.info("%s", report)
            reports.append(report)
        return reports

    async def _failed(self, feed: FeedRecord, error: str) -> FeedReport:
        now = self.clock()
        count = feed.error_count + 1
        retry_at = next_poll_after_failure(now, self.interval, count)
        await self.store.record_poll_failure(feed.id, error=error, now=now, next_poll_at=retry_at)
        log.warning(
            "feed %s: failed (%d in a row): %s; next try at %s",
            feed.url,
            count,
            error,
            retry_at.strftime("%Y-%m-%d %H:%M UTC"),
        )
        return FeedReport(feed.url, error=error)

    async def poll_feed(self, feed: FeedRecord) -> FeedReport:
        fetched = await self.pipeline.fetch_feed(
            feed.url, etag=feed.etag, last_modified=feed.last_modified
        )
        parsed = fetched.feed
        if parsed is None:
            await self._success(feed, fetched, feed.ttl_minutes)
            return FeedReport(feed.url, not_modified=True)
        entries: tuple[FeedEntry, ...] = parsed.entries  # type: ignore[attr-defined]
        unique = list({e.entry_id: e for e in entries}.values())
        unseen = await self.store.unseen_entry_ids(feed.id, [e.entry_id for e in unique])
        new = [e for e in unique if e.entry_id in unseen]
        first_poll = not feed.initialized
        to_build, only_seen = split_first_poll(
            new, first_poll, self.first_poll_cards, self.max_new_cards
        )
        outcomes = await self.pipeline.cards_for_entries(
            to_build, concurrency=self.concurrency, summary_mode=feed.summary_mode
        )
        pairs: list[tuple[str, Card | None]] = []
        for entry, outcome in zip(to_build, outcomes, strict=True):
            if isinstance(outcome, Card):
                pairs.append((entry.entry_id, _merge_topics(outcome, feed.topics)))
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
                card = _merge_topics(self.pipeline.link_card(entry), feed.topics)
                pairs.append((entry.entry_id, card))
        pairs.extend((e.entry_id, None) for e in only_seen)
        # One query per feed with new cards, not per feed polled.
        has_cards = any(card is not None for _, card in pairs)
        subs = await self.store.active_subscriptions() if has_cards else []
        if first_poll:
            subs = [s for s in subs if s.chat.platform in self.backfill_platforms]
        now = self.clock()
        # Seen entries, their cards and their outbox rows commit together: an entry recorded
        # as seen is never looked at again, so a crash in between must not lose its card.
        async with self.store.transaction() as tx:
            stored = await tx.record_entries(feed.id, pairs, now)
            # First poll: only the backfill subscribers, and only the newest few cards.
            to_queue = stored[: self.backfill_count] if first_poll else stored
            queued = await tx.enqueue(plan_queue(to_queue, subs, self.matches, now), now)
        await self._success(feed, fetched, parsed.ttl_minutes)  # type: ignore[attr-defined]
        return FeedReport(
            feed.url,
            new_entries=len(new),
            cards=len(stored),
            queued=queued,
            first_poll=first_poll,
        )

    async def _success(
        self, feed: FeedRecord, fetched: FeedFetchLike, ttl_minutes: int | None
    ) -> None:
        now = self.clock()
        await self.store.record_poll_success(
            feed.id,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            ttl_minutes=ttl_minutes,
            now=now,
            next_poll_at=next_poll_after_success(now, self.interval, ttl_minutes),
        )
