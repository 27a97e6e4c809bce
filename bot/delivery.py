"""The outbox: queue matching cards first, then send them, per chat, paced, resumable.

Queueing (``bot.schedule.plan_queue``, pure) decides which subscription gets which new card and
when it is due (now for ``instant``, the next hour or daily time otherwise); the poller writes
the rows in the transaction that records the cards, with insert-or-ignore, so a card is never
queued twice for a subscription. Nothing is sent before it is queued: a crash loses nothing.

:class:`Delivery` drains due items: it leases their chats (``SqlStore.claim_due``; expired
leases of a dead worker are taken again), groups the items per subscription, asks the
platform's :class:`~bot.ports.ChatSender` to render the cards as messages, sends each message
after the :class:`~bot.pacing.Pacer` (and the shared budget) allows it, and records the outcome
of each message on exactly the items it carried (all but ``Sent`` in
:mod:`bot.delivery_outcomes`):

* ``Sent``: sent.
* ``RetryLater(after)`` or an exception from ``send`` (network): this message and the rest of
  that chat's digest stay pending for ``after`` seconds when the platform named a wait (429),
  else for an exponential back-off; other chats go on. After ``max_attempts`` counted tries an
  item is failed and logged (waits the platform asked for, and a paused platform, do not count).
* ``ChatGone``: the subscription is deactivated (with the reason) and its pending items dropped.
* ``Rejected``: that message's items are failed with the reason; the rest of the digest goes on.
* ``Sent(migrated_to=...)`` (a Telegram group became a supergroup): the subscription, and with
  it its pending items, moves to the new chat id; the rest of the digest and later digests go
  there directly.

Throughput: items are leased a batch at a time (one UPDATE), each card's JSON is parsed once per
batch, each distinct digest (same cards, same platform) is rendered once per batch, up to
``concurrency`` chats are served at once, and successful sends are recorded in batches
(``bot.sent_recorder.SentRecorder``: one UPDATE + one INSERT per ``flush_items`` sends or
``flush_seconds``, whichever comes first). The buffer lives only inside :meth:`Delivery.run`
and is written before it returns, raises or is cancelled, so stopping (SIGTERM, ``App.aclose``
after ``run``) leaves nothing unrecorded. Failures, retries and gone chats are rare and
recorded at once.

Public API::

    backoff_delay(attempts, policy) -> float
    Delivery(store: DeliveryStore, senders: Mapping[str, ChatSender], *, pacer, clock, sleep,
             policy)
        await delivery.run() -> DeliveryReport ; delivery.request_stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from bot.clock import utcnow
from bot.delivery_outcomes import ChatOutcome, Outcomes
from bot.delivery_policy import DeliveryPolicy, DeliveryReport, backoff_delay
from bot.metrics import Metrics
from bot.models import OutboxItem, Subscription
from bot.pacing import Pacer
from bot.platform_health import PlatformHealth
from bot.ports import (
    ChatGone,
    ChatSender,
    DeliveryStore,
    OutgoingMessage,
    Rejected,
    RetryLater,
    SendResult,
    Sent,
)
from bot.send_budget import SendBudget
from bot.sent_recorder import SentRecorder

__all__ = [
    "Delivery",
    "DeliveryPolicy",
    "DeliveryReport",
    "backoff_delay",
]

log = logging.getLogger(__name__)


def _in_thread(messages: list[OutgoingMessage], thread: str) -> list[OutgoingMessage]:
    """A forum topic's subscription: the digest rendered once, sent into its thread."""
    return [replace(m, thread=thread) for m in messages] if thread else messages


class Delivery:
    def __init__(
        self,
        store: DeliveryStore,
        senders: Mapping[str, ChatSender],
        *,
        pacer: Pacer | None = None,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        policy: DeliveryPolicy | None = None,
        metrics: Metrics | None = None,
        worker_id: str | None = None,
        dead_after: float | None = None,
        budget: SendBudget | None = None,
        lease_epoch: Callable[[], int | None] | None = None,
    ) -> None:
        self.budget = budget
        # The worker's heartbeat: a round stops as soon as it may have lost its leases.
        self.lease_epoch = lease_epoch or (lambda: 0)
        self._epoch: int | None = 0
        self.worker_id = worker_id
        self.dead_after = dead_after
        self.store = store
        self.senders = dict(senders)
        self.pacer = pacer or Pacer()
        self.clock = clock
        self.sleep = sleep
        self.policy = policy or DeliveryPolicy()
        self.metrics = metrics or Metrics()
        self._stopping = False
        self._in_flight: contextlib.AbstractAsyncContextManager[object] = (
            asyncio.Semaphore(self.policy.sends_in_flight)
            if self.policy.sends_in_flight > 0
            else contextlib.nullcontext()
        )
        self.health = PlatformHealth(self.metrics, clock)
        self.outcomes = Outcomes(
            store,
            clock=clock,
            policy=self.policy,
            metrics=self.metrics,
            health=self.health,
            pacer=self.pacer,
        )

    def paused_platforms(self) -> dict[str, str]:
        """Platforms whose bot token is being rejected, with the reason (for alerts, status)."""
        return self.health.paused()

    def request_stop(self) -> None:
        """Finish the messages being sent, leave the rest pending (released) and return."""
        self._stopping = True

    async def run(self) -> DeliveryReport:
        """Send everything due now; returns what happened (every send recorded by then)."""
        total = DeliveryReport()
        async with SentRecorder(
            self.store, max_items=self.policy.flush_items, max_delay=self.policy.flush_seconds
        ) as recorder:
            while not self._stopping:
                # What the last round sent is recorded before the next claim, so a claim can
                # never lease again an item that went out but is still in the buffer.
                await recorder.flush()
                items = await self._claim(recorder.lock)
                if not items:
                    break
                try:
                    total.add(await self._deliver_round(items, recorder))
                finally:
                    await self._end_lease(items, recorder)
        if total.messages or total.failed or total.retry or total.chats_gone:
            log.info("delivery: %s", total)
        return total

    async def _claim(self, lock: asyncio.Lock) -> list[OutboxItem]:
        self._epoch = self.lease_epoch()
        if self._epoch is None:
            log.warning("delivery: heartbeat not fresh; nothing claimed this round")
            return []
        now = self.clock()
        dead_before = None if self.dead_after is None else now - timedelta(seconds=self.dead_after)
        async with lock:
            return await self.store.claim_due(
                now,
                lease_seconds=self.policy.lease_seconds,
                limit=self.policy.batch_limit,
                platforms=[p for p in self.senders if not self.health.is_paused(p)],
                worker_id=self.worker_id,
                dead_before=dead_before,
                chats=self.policy.claim_chats,
            )

    async def _end_lease(self, items: list[OutboxItem], recorder: SentRecorder) -> None:
        """Hand the round's chats back, each at its pace: first what was sent is recorded
        (else the next holder would send it again), then each chat (all its topics) becomes
        free when its next message may go, whichever worker takes it."""
        token = items[0].claim_token
        if token is None:
            return
        await recorder.flush()
        chats = {(i.subscription.chat.platform, i.subscription.chat.chat_id) for i in items}
        waits = {chat: self.pacer.next_free_in(":".join(chat)) for chat in chats}
        next_send_in = {chat: wait for chat, wait in waits.items() if wait > 0}
        await self.store.release_chats(token, self.clock(), next_send_in)

    async def _deliver_round(
        self, items: list[OutboxItem], recorder: SentRecorder
    ) -> DeliveryReport:
        by_chat: dict[int, list[OutboxItem]] = {}
        for item in items:
            by_chat.setdefault(item.subscription.id or 0, []).append(item)
        chats = iter(by_chat.values())
        report = DeliveryReport()
        # Rendering depends on the cards only, and one new card usually goes to many chats:
        # render each distinct digest once per round.
        rendered: dict[tuple[str, tuple[int, ...]], list[OutgoingMessage]] = {}
        # Paced sends can outlast the lease (100 messages to a group at 3 s each): stop using
        # these items well before it runs out, or another worker would take and send them
        # too. What is left is released and leased afresh by the next round.
        deadline = self.clock() + timedelta(seconds=self.policy.lease_seconds / 2)

        # A fixed set of workers pulling chats: as many tasks as chats served at once, not
        # one per chat.
        async def worker() -> None:
            for chat_items in chats:
                outcome = ChatOutcome()
                try:
                    await self._deliver_chat(chat_items, outcome, recorder, rendered, deadline)
                finally:
                    # Whatever was not decided (stop requested, a bug) goes back to the queue.
                    rest = [i.id for i in chat_items if i.id not in outcome.handled]
                    if rest:
                        await self.store.release(rest, claim_token=chat_items[0].claim_token)
                    report.add(outcome.report)

        async with asyncio.TaskGroup() as group:
            for _ in range(min(len(by_chat), max(1, self.policy.concurrency))):
                group.create_task(worker())
        return report

    async def _deliver_chat(
        self,
        items: list[OutboxItem],
        outcome: ChatOutcome,
        recorder: SentRecorder,
        rendered: dict[tuple[str, tuple[int, ...]], list[OutgoingMessage]],
        deadline: datetime,
    ) -> None:
        sub = items[0].subscription
        token = items[0].claim_token
        assert sub.id is not None
        sender = self.senders[sub.chat.platform]
        messages = await self._render(sender, sub, items, outcome, rendered)
        if messages is None:
            return
        carried: set[int] = set()
        for position, message in enumerate(messages):
            if not self._may_send(position, deadline) or self.health.is_paused(sub.chat.platform):
                return  # the caller releases what was not sent
            ids = [items[k].id for k in message.card_indexes if 0 <= k < len(items)]
            carried.update(ids)
            await self._pace(sender, sub)
            result = await self._send(sender, sub, message, ids, recorder, token)
            match result:
                case Sent(migrated_to=migrated_to):
                    self.health.sent(sub.chat.platform, len(ids))
                    outcome.handled.update(ids)
                    outcome.report.sent += len(ids)
                    outcome.report.messages += 1
                    if migrated_to is not None and migrated_to != sub.chat.chat_id:
                        followed = await self.outcomes.migrated(sub, migrated_to)
                        if followed is None:
                            return
                        sub = followed
                case Rejected(reason=reason):
                    await self.outcomes.fail(sub, ids, f"rejected: {reason}", outcome, token)
                case ChatGone(reason=reason):
                    # Record what this chat was sent first, so that those items end up "sent",
                    # not dropped with the pending ones.
                    await recorder.flush()
                    await self.outcomes.gone(sub, reason, items, outcome)
                    self.metrics.chats_deactivated.labels(platform=sub.chat.platform).inc()
                    return
                case RetryLater():
                    rest = [items[k].id for m in messages[position:] for k in m.card_indexes]
                    await self.outcomes.retry(sub, items, rest, result, outcome)
                    return
        not_rendered = [i.id for i in items if i.id not in carried]
        if not_rendered:
            await self.outcomes.fail(
                sub, not_rendered, "the renderer left this card out", outcome, token
            )

    async def _send(
        self,
        sender: ChatSender,
        sub: Subscription,
        message: OutgoingMessage,
        ids: list[int],
        recorder: SentRecorder,
        token: str | None,
    ) -> SendResult:
        """Send, and record it if it went. With ``sends_in_flight`` the two hold a slot: a
        kill -9 repeats at most that many messages (sent, not yet recorded)."""
        assert sub.id is not None
        async with self._in_flight:
            try:
                result = await sender.send(sub.chat.chat_id, message)
            except Exception as exc:  # a network failure must not lose the digest
                result = self.outcomes.send_failed(sub, exc)
            if isinstance(result, Sent):
                await recorder.add(sub.id, ids, self.clock(), token, wait=self.policy.record_each)
        return result

    def _may_send(self, position: int, deadline: datetime) -> bool:
        """Not stopping, the round's leases still surely ours (heartbeat fresh and never late
        since the claim), and, after the first message, the round's deadline not passed: at
        least one message per chat and round, so that a slow claim cannot stall it."""
        if self._stopping or (position and self.clock() > deadline):
            return False
        return self.lease_epoch() == self._epoch

    async def _render(
        self,
        sender: ChatSender,
        sub: Subscription,
        items: list[OutboxItem],
        outcome: ChatOutcome,
        rendered: dict[tuple[str, tuple[int, ...]], list[OutgoingMessage]],
    ) -> list[OutgoingMessage] | None:
        digest = (sub.chat.platform, tuple(i.card_id for i in items))
        messages = rendered.get(digest)
        if messages is not None:
            return _in_thread(messages, sub.chat.thread)
        try:
            messages = rendered[digest] = sender.render([i.card for i in items])
        except Exception as exc:
            # A renderer bug must not keep these items (and everything after) coming back.
            log.exception("rendering for %s:%s failed", sub.chat.platform, sub.chat.chat_id)
            ids = [i.id for i in items]
            reason = f"could not render: {type(exc).__name__}: {exc}"
            await self.outcomes.fail(sub, ids, reason, outcome, items[0].claim_token)
            return None
        return _in_thread(messages, sub.chat.thread)

    async def _pace(self, sender: ChatSender, sub: Subscription) -> None:
        if not self.pacer.enabled:
            return
        key = f"{sub.chat.platform}:{sub.chat.chat_id}"
        interval = sender.min_interval(sub.chat.chat_id)
        while (wait := self.pacer.reserve(key, interval)) > 0:
            await self.sleep(wait)
        if self.budget is not None:  # the global rate, shared with the other workers
            # One budget per bot token; Slack in OAuth mode has a token per workspace.
            key_for = getattr(sender, "budget_key_for", None)
            budget_key = (
                key_for(sub.chat.chat_id)
                if key_for is not None
                else getattr(sender, "budget_key", sender.platform)
            )
            await self.budget.acquire(budget_key)
            self.pacer.book(key, interval)  # the chat's interval counts from the send
