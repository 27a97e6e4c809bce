"""The poller's pure decisions: when a feed is polled next, which new entries get cards, what
a card's source and topics are, and the line a poll reports. :mod:`bot.poller` does the I/O
around them."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import NamedTuple

from bot.schedule import exponential_backoff
from digests.models import Card, FeedEntry

__all__ = [
    "CLAIM_SECONDS",
    "MAX_BACKOFF",
    "FeedReport",
    "claim_size",
    "merge_topics",
    "next_poll_after_failure",
    "next_poll_after_success",
    "split_first_poll",
]

MAX_BACKOFF = timedelta(hours=6)
CLAIM_SECONDS = 2.0  # a claim holds about this much work at the cycle's pace so far
MAX_CLAIM_ROUNDS = 20  # and at most this many pools' worth of feeds


def claim_size(done: int, elapsed: float, pool: int) -> int:
    """How many due feeds to lease next: a pool's worth at first, then about
    ``CLAIM_SECONDS`` of work at the pace of the ``done`` polls in ``elapsed`` seconds.

    Each claim is a database round trip: 10,000 unchanged feeds claimed 50 at a time took
    more time in claims than in polls. A claimed feed waits in this worker's queue for the
    claims before it, so the size follows the pace (seconds of work, not a count) and a slow
    cycle keeps claiming a pool at a time: no feed waits anywhere near its lease.
    """
    pool = max(1, pool)
    if done <= 0 or elapsed <= 0:
        return pool
    paced = int(done / elapsed * CLAIM_SECONDS)
    return max(pool, min(paced, pool * MAX_CLAIM_ROUNDS))


class FeedReport(NamedTuple):
    """What one feed's poll did (a named tuple: one per polled feed, see
    :class:`bot.models.FeedRecord`)."""

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
    return now + _wait_after_success(interval, ttl_minutes)


@functools.lru_cache(maxsize=1024)
def _wait_after_success(interval: float, ttl_minutes: int | None) -> timedelta:
    # Feeds share a handful of <ttl> values: the wait is worked out once for each, not on
    # every one of a cycle's thousands of polls.
    return timedelta(seconds=max(float(interval), float(ttl_minutes or 0) * 60.0))


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


def merge_topics(
    card: Card,
    feed_topics: Sequence[str],
    feed_name: str | None = None,
    feed_title: str | None = None,
) -> Card:
    """The card with the feed's configured topics, and its source named: the feed's configured
    name, else the site's name, else the feed's own title."""
    topics = tuple(dict.fromkeys([*card.topics, *feed_topics]))
    source = feed_name or card.source or feed_title
    if topics == card.topics and source == card.source:
        return card
    return replace(card, topics=topics, source=source)
