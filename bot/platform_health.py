"""What delivery learns about each platform as it sends: counters for ``/metrics``, and
platforms whose bot token is rejected, paused until a given time so that nothing is claimed
for them (their items keep their attempts; alerts and ``status`` read the pauses)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.metrics import Metrics
from bot.ports import RetryLater

__all__ = ["PlatformHealth"]

log = logging.getLogger(__name__)


class PlatformHealth:
    def __init__(self, metrics: Metrics, clock: Callable[[], datetime]) -> None:
        self.metrics = metrics
        self.clock = clock
        self._paused: dict[str, tuple[datetime, str]] = {}  # platform -> (until, why)

    def paused(self) -> dict[str, str]:
        """Platforms whose bot token is being rejected, with the reason."""
        return {platform: reason for platform, (_, reason) in self._paused.items()}

    def is_paused(self, platform: str) -> bool:
        paused = self._paused.get(platform)
        return paused is not None and self.clock() < paused[0]

    def sent(self, platform: str, cards: int) -> None:
        self.metrics.messages_sent.labels(platform=platform).inc()
        self.metrics.cards_sent.labels(platform=platform).inc(cards)
        if self._paused.pop(platform, None) is not None:
            log.info("%s accepts the bot token again: delivery resumed", platform)
            self.metrics.token_rejected.labels(platform=platform).set(0)

    def retry(self, platform: str, result: RetryLater, items: int) -> None:
        self.metrics.messages_retried.labels(platform=platform).inc(items)
        if result.kind == "rate_limited":
            self.metrics.rate_limited.labels(platform=platform).inc()
            self.metrics.rate_limit_wait_seconds.labels(platform=platform).inc(result.after_seconds)
        elif result.kind == "token_rejected":
            if platform not in self._paused:
                log.error(
                    "%s rejects the bot token (%s): delivery to %s is paused and retried every "
                    "%.0f s; nothing is dropped",
                    platform,
                    result.reason,
                    platform,
                    result.after_seconds,
                )
            until = self.clock() + timedelta(seconds=max(1.0, result.after_seconds))
            self._paused[platform] = (until, result.reason)
            self.metrics.token_rejected.labels(platform=platform).set(1)
