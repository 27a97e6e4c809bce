"""Prometheus metrics of one worker process (``prometheus_client``, not hand-written).

Each :class:`Metrics` owns its registry, so that several Apps in one process (the tests) never
share counters; ``bot.ops_http`` serves it at ``GET /metrics``. The poller and delivery count
what they do through the small methods here; gauges that describe the database (the outbox)
are refreshed from the store when scraped (:meth:`Metrics.set_outbox`).

Names follow Prometheus conventions: ``_total`` counters, ``_seconds`` durations, labels for the
few bounded dimensions (platform, outcome, role) and never for a chat or feed id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["CONTENT_TYPE", "Metrics", "PlatformOutbox"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Fetches of feeds and pages: most answer in well under a second; a slow host takes up to the
# overall deadline.
_FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 60.0)
_BUILD_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

PlatformOutbox = tuple[int, float | None]  # (pending items, age of the oldest due one in s)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._outbox_platforms: set[str] = set()
        r = self.registry
        self.feed_polls = Counter(
            "digestbot_feed_polls",
            "Feed polls by outcome (ok: new content read, not_modified: 304 or unchanged, failed).",
            ["outcome"],
            registry=r,
        )
        self.fetch_seconds = Histogram(
            "digestbot_feed_fetch_seconds",
            "Time to fetch (and parse) one feed.",
            buckets=_FETCH_BUCKETS,
            registry=r,
        )
        self.articles_read = Counter(
            "digestbot_articles_read",
            "New entries whose page was read into a card (headline-only stand-ins excluded).",
            registry=r,
        )
        self.articles_unreadable = Counter(
            "digestbot_articles_unreadable",
            "New entries whose page could not be read (sent as headline and link).",
            registry=r,
        )
        self.card_build_seconds = Histogram(
            "digestbot_card_build_seconds",
            "Time to build one card (page fetch, extraction, summary), averaged per feed batch.",
            buckets=_BUILD_BUCKETS,
            registry=r,
        )
        self.cards_queued = Counter(
            "digestbot_cards_queued",
            "Outbox items queued (one card for one subscription).",
            registry=r,
        )
        self.outbox_pending = Gauge(
            "digestbot_outbox_pending",
            "Items waiting in the outbox, due or not.",
            ["platform"],
            registry=r,
        )
        self.outbox_oldest_due_seconds = Gauge(
            "digestbot_outbox_oldest_due_seconds",
            "How long the oldest due item has been waiting (0 when none is due).",
            ["platform"],
            registry=r,
        )
        self.messages_sent = Counter(
            "digestbot_messages_sent",
            "Messages accepted by the platform.",
            ["platform"],
            registry=r,
        )
        self.cards_sent = Counter(
            "digestbot_cards_sent", "Cards carried by sent messages.", ["platform"], registry=r
        )
        self.messages_retried = Counter(
            "digestbot_messages_retried",
            "Sends put back for a later try (network, 5xx, 429, paused platform).",
            ["platform"],
            registry=r,
        )
        self.messages_rejected = Counter(
            "digestbot_messages_rejected",
            "Items failed for good: the platform refused the message, or attempts ran out.",
            ["platform"],
            registry=r,
        )
        self.chats_deactivated = Counter(
            "digestbot_chats_deactivated",
            "Subscriptions deactivated because the chat is gone (blocked, kicked, archived).",
            ["platform"],
            registry=r,
        )
        self.rate_limited = Counter(
            "digestbot_rate_limited",
            "429 answers from a chat platform.",
            ["platform"],
            registry=r,
        )
        self.rate_limit_wait_seconds = Counter(
            "digestbot_rate_limit_wait_seconds",
            "Seconds of waiting a platform asked for in its 429 answers.",
            ["platform"],
            registry=r,
        )
        self.token_rejected = Gauge(
            "digestbot_token_rejected",
            "1 while the platform rejects the bot token (delivery to it is paused).",
            ["platform"],
            registry=r,
        )
        self.update_lag_seconds = Histogram(
            "digestbot_update_lag_seconds",
            "From a chat command being sent to the bot answering it.",
            ["platform"],
            buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
            registry=r,
        )
        self.worker_role = Gauge(
            "digestbot_worker_role",
            "1 for each role this worker runs (poll, deliver, updates:<platform>, http).",
            ["role"],
            registry=r,
        )
        self.llm_summaries = Counter(
            "digestbot_llm_summaries",
            "LLM summary outcomes: accepted, cached, cached_fallback, or why the card kept its "
            "extractive summary (invented_figure, invented_name, wrong_language, over_budget, "
            "refusal, prompt_echo, empty, timeout, rate_limited, http_error, bad_response, "
            "over_cap).",
            ["outcome"],
            registry=r,
        )
        self.alerts_sent = Counter(
            "digestbot_alerts_sent",
            "Messages sent to the admin chats, by condition kind.",
            ["kind"],
            registry=r,
        )

    def set_roles(self, roles: Iterable[str]) -> None:
        for role in roles:
            self.worker_role.labels(role=role).set(1)

    def set_outbox(self, per_platform: Mapping[str, PlatformOutbox]) -> None:
        # A platform with nothing pending is absent from the query: show it as 0, not stale.
        self._outbox_platforms.update(per_platform)
        for platform in self._outbox_platforms - set(per_platform):
            self.outbox_pending.labels(platform=platform).set(0)
            self.outbox_oldest_due_seconds.labels(platform=platform).set(0)
        for platform, (pending, oldest) in per_platform.items():
            self.outbox_pending.labels(platform=platform).set(pending)
            self.outbox_oldest_due_seconds.labels(platform=platform).set(oldest or 0.0)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
