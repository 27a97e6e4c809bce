"""What delivery records about each message that did not simply go out: a chat that moved
(Telegram group -> supergroup), a message the platform refused, a chat that is gone, a send to
try again later (the platform's wait or an exponential back-off, up to ``max_attempts``).

:class:`bot.delivery.Delivery` decides when each message is sent; :class:`Outcomes` writes
what came of it, on exactly the items the message carried, with the lease's token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.delivery_policy import DeliveryPolicy, DeliveryReport, backoff_delay
from bot.metrics import Metrics
from bot.models import OutboxItem, Subscription
from bot.pacing import Pacer
from bot.platform_health import PlatformHealth
from bot.ports import DeliveryStore, RetryLater, SendResult

__all__ = ["ChatOutcome", "Outcomes"]

log = logging.getLogger("bot.delivery")


@dataclass
class ChatOutcome:
    """What became of one chat's items in a round: the report, and the items decided."""

    report: DeliveryReport = field(default_factory=DeliveryReport)
    handled: set[int] = field(default_factory=set)


class Outcomes:
    def __init__(
        self,
        store: DeliveryStore,
        *,
        clock: Callable[[], datetime],
        policy: DeliveryPolicy,
        metrics: Metrics,
        health: PlatformHealth,
        pacer: Pacer,
    ) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy
        self.metrics = metrics
        self.health = health
        self.pacer = pacer

    async def migrated(self, sub: Subscription, new_chat_id: str) -> Subscription | None:
        """The chat moved (Telegram group -> supergroup): follow it, now and for later sends.

        Returns the subscription to go on with, or None when the new chat already had its
        own subscription, which took over the pending items: the rest of this digest is
        released and goes out under that one.
        """
        assert sub.id is not None
        moved = await self.store.move_subscription(sub.id, new_chat_id, self.clock())
        log.info(
            "chat %s:%s moved to %s: subscription %s now serves it",
            sub.chat.platform,
            sub.chat.chat_id,
            new_chat_id,
            moved.id if moved else None,
        )
        self.pacer.forget(f"{sub.chat.platform}:{sub.chat.chat_id}")
        if moved is None or moved.id != sub.id:
            return None
        return replace(sub, chat=replace(sub.chat, chat_id=new_chat_id))

    @staticmethod
    def send_failed(sub: Subscription, exc: Exception) -> SendResult:
        log.warning(
            "delivery to %s:%s raised %s: %s",
            sub.chat.platform,
            sub.chat.chat_id,
            type(exc).__name__,
            exc,
        )
        return RetryLater(0.0, f"{type(exc).__name__}: {exc}")

    async def fail(
        self,
        sub: Subscription,
        ids: list[int],
        reason: str,
        outcome: ChatOutcome,
        claim_token: str | None,
    ) -> None:
        if not ids:
            return
        log.warning(
            "delivery to %s:%s failed for %d card(s): %s",
            sub.chat.platform,
            sub.chat.chat_id,
            len(ids),
            reason,
        )
        await self.store.mark_failed(ids, reason, self.clock(), claim_token=claim_token)
        self.metrics.messages_rejected.labels(platform=sub.chat.platform).inc(len(ids))
        await self.store.log_delivery(sub.id, "failed", reason, self.clock(), len(ids))
        outcome.handled.update(ids)
        outcome.report.failed += len(ids)
        outcome.report.errors += len(ids)

    async def gone(
        self, sub: Subscription, reason: str, items: list[OutboxItem], outcome: ChatOutcome
    ) -> None:
        assert sub.id is not None
        dropped = await self.store.deactivate_subscription(sub.id, reason, self.clock())
        log.warning(
            "chat %s:%s is gone (%s): subscription deactivated, %d pending card(s) dropped",
            sub.chat.platform,
            sub.chat.chat_id,
            reason,
            dropped,
        )
        await self.store.log_delivery(sub.id, "gone", reason, self.clock(), dropped)
        left = [i.id for i in items if i.id not in outcome.handled]
        outcome.handled.update(left)
        outcome.report.failed += len(left)
        outcome.report.chats_gone += 1

    async def retry(
        self,
        sub: Subscription,
        items: list[OutboxItem],
        ids: list[int],
        result: RetryLater,
        outcome: ChatOutcome,
    ) -> None:
        now = self.clock()
        by_id = {i.id: i for i in items}
        token = items[0].claim_token
        counted = result.counts_as_attempt
        give_up = [i for i in ids if counted and by_id[i].attempts + 1 >= self.policy.max_attempts]
        again = [i for i in ids if i not in give_up]
        if give_up:
            reason = f"gave up after {self.policy.max_attempts} attempts: {result.reason}"
            await self.fail(sub, give_up, reason, outcome, token)
        if not again:
            return
        self.health.retry(sub.chat.platform, result, len(again))
        attempts = max(by_id[i].attempts for i in again)
        # The platform's own wait (429 retry_after) is the right delay; with none given (a
        # network failure), back off exponentially.
        if result.after_seconds > 0:
            delay = max(1.0, result.after_seconds)
        else:
            delay = backoff_delay(attempts, self.policy)
        await self.store.mark_retry(
            again,
            now + timedelta(seconds=delay),
            result.reason,
            count_attempt=counted,
            claim_token=token,
        )
        await self.store.log_delivery(sub.id, "retry", result.reason, now, len(again))
        log.info(
            "delivery to %s:%s: %d card(s) retry in %.0f s (%s)",
            sub.chat.platform,
            sub.chat.chat_id,
            len(again),
            delay,
            result.reason,
        )
        self.pacer.forget(f"{sub.chat.platform}:{sub.chat.chat_id}")
        outcome.handled.update(again)
        outcome.report.retry += len(again)
