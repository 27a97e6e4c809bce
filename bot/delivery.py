"""The outbox: queue matching cards first, then send them, per chat, paced, resumable.

Queueing (:func:`plan_queue`, pure) decides which subscription gets which new card and when it
is due (``bot.schedule.next_due``: now for ``instant``, the next hour or daily time otherwise),
and the store inserts the rows with insert-or-ignore, so a card is never queued twice for a
subscription. Nothing is sent before it is queued: a crash loses nothing.

:class:`Delivery` drains due items: it leases them (``SqlStore.claim_due``; expired leases of a
dead worker are taken again), groups them per chat, asks the platform's
:class:`~bot.ports.ChatSender` to render the cards as messages, sends each message after the
:class:`~bot.pacing.Pacer` allows it, and records the outcome of each message on exactly the
items it carried:

* ``Sent``: sent.
* ``RetryLater(after)`` or an exception from ``send`` (network): this message and the rest of
  that chat's digest stay pending until ``now + max(after, back-off)``; other chats go on. After
  ``max_attempts`` tries an item is failed and logged.
* ``ChatGone``: the subscription is deactivated (with the reason) and its pending items dropped.
* ``Rejected``: that message's items are failed with the reason; the rest of the digest goes on.
* ``Sent(migrated_to=...)`` (a Telegram group became a supergroup): the subscription, and with
  it its pending items, moves to the new chat id; the rest of the digest and later digests go
  there directly.

Throughput: items are leased a batch at a time (one UPDATE), each card's JSON is parsed once per
batch, each distinct digest (same cards, same platform) is rendered once per batch, up to
``concurrency`` chats are served at once, and successful sends are recorded in batches
(:class:`_SentRecorder`: one UPDATE + one INSERT per ``flush_items`` sends or ``flush_seconds``,
whichever comes first). The buffer lives only inside :meth:`Delivery.run` and is written before
it returns, raises or is cancelled, so stopping (SIGTERM, ``App.aclose`` after ``run``) leaves
nothing unrecorded. Failures, retries and gone chats are rare and recorded at once.

Public API::

    plan_queue(cards, subscriptions, matches, now) -> list[tuple[int, int, datetime]]
    backoff_delay(attempts, policy) -> float
    Delivery(store, senders: Mapping[str, ChatSender], *, pacer, clock, sleep, policy)
        await delivery.run() -> DeliveryReport ; delivery.request_stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.pacing import Pacer
from bot.ports import (
    ChatGone,
    ChatRef,
    ChatSender,
    OutgoingMessage,
    Rejected,
    RetryLater,
    SendResult,
    Sent,
)
from bot.schedule import next_due
from bot.store import OutboxItem, SentRecord, Store, StoredCard, Subscription
from digests.models import Card

__all__ = [
    "Delivery",
    "DeliveryPolicy",
    "DeliveryReport",
    "backoff_delay",
    "plan_queue",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    lease_seconds: float = 300.0  # a dead worker's items are taken again after this
    batch_limit: int = 500  # items leased per round
    max_attempts: int = 8
    backoff_base: float = 5.0
    backoff_cap: float = 3600.0
    concurrency: int = 8  # chats served at the same time
    # A sent message is recorded at most this many sends / seconds later (see _SentRecorder).
    flush_items: int = 200
    flush_seconds: float = 0.1


@dataclass
class DeliveryReport:
    sent: int = 0  # items (cards) sent
    messages: int = 0
    failed: int = 0
    retry: int = 0
    chats_gone: int = 0

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.messages += other.messages
        self.failed += other.failed
        self.retry += other.retry
        self.chats_gone += other.chats_gone

    def __str__(self) -> str:
        return (
            f"{self.sent} card(s) sent in {self.messages} message(s), {self.failed} failed, "
            f"{self.retry} to retry, {self.chats_gone} chat(s) gone"
        )


def plan_queue(
    cards: Sequence[StoredCard],
    subscriptions: Iterable[Subscription],
    matches: Callable[[Card, Sequence[str]], bool],
    now: datetime,
) -> list[tuple[int, int, datetime]]:
    """``(subscription_id, card_id, not_before)`` for every active subscription a card matches."""
    planned: list[tuple[int, int, datetime]] = []
    for sub in subscriptions:
        if not sub.active or sub.id is None:
            continue
        due = next_due(sub.mode, sub.daily_time, sub.timezone, now)
        for stored in cards:
            if not sub.filters or matches(stored.card, sub.filters):
                planned.append((sub.id, stored.id, due))
    return planned


def backoff_delay(attempts: int, policy: DeliveryPolicy) -> float:
    """Seconds before try number ``attempts + 1``: base, 2x base, 4x base ... up to the cap."""
    return float(min(policy.backoff_cap, policy.backoff_base * (2 ** min(max(0, attempts), 30))))


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class _ChatOutcome:
    report: DeliveryReport = field(default_factory=DeliveryReport)
    handled: set[int] = field(default_factory=set)


class _SentRecorder:
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

    def __init__(self, store: Store, *, max_items: int, max_delay: float) -> None:
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

    async def __aenter__(self) -> _SentRecorder:
        self._writer = asyncio.create_task(self._write_when_due(), name="delivery-recorder")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def add(self, subscription_id: int, item_ids: list[int], at: datetime) -> None:
        self._buffer.append(SentRecord(subscription_id, tuple(item_ids), at))
        self._items += len(item_ids)
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


class Delivery:
    def __init__(
        self,
        store: Store,
        senders: Mapping[str, ChatSender],
        *,
        pacer: Pacer | None = None,
        clock: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        policy: DeliveryPolicy | None = None,
    ) -> None:
        self.store = store
        self.senders = dict(senders)
        self.pacer = pacer or Pacer()
        self.clock = clock
        self.sleep = sleep
        self.policy = policy or DeliveryPolicy()
        self._stopping = False

    def request_stop(self) -> None:
        """Finish the messages being sent, leave the rest pending (released) and return."""
        self._stopping = True

    async def run(self) -> DeliveryReport:
        """Send everything due now; returns what happened (every send recorded by then)."""
        total = DeliveryReport()
        async with _SentRecorder(
            self.store, max_items=self.policy.flush_items, max_delay=self.policy.flush_seconds
        ) as recorder:
            while not self._stopping:
                items = await self._claim(recorder.lock)
                if not items:
                    break
                total.add(await self._deliver_round(items, recorder))
        if total.messages or total.failed or total.retry or total.chats_gone:
            log.info("delivery: %s", total)
        return total

    async def _claim(self, lock: asyncio.Lock) -> list[OutboxItem]:
        async with lock:
            return await self.store.claim_due(
                self.clock(),
                lease_seconds=self.policy.lease_seconds,
                limit=self.policy.batch_limit,
                platforms=self.senders,
            )

    async def _deliver_round(
        self, items: list[OutboxItem], recorder: _SentRecorder
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
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.policy.lease_seconds / 2

        # A fixed set of workers pulling chats: as many tasks as chats served at once, not
        # one per chat.
        async def worker() -> None:
            for chat_items in chats:
                outcome = _ChatOutcome()
                try:
                    await self._deliver_chat(chat_items, outcome, recorder, rendered, deadline)
                finally:
                    # Whatever was not decided (stop requested, a bug) goes back to the queue.
                    rest = [i.id for i in chat_items if i.id not in outcome.handled]
                    if rest:
                        await self.store.release(rest)
                    report.add(outcome.report)

        async with asyncio.TaskGroup() as group:
            for _ in range(min(len(by_chat), max(1, self.policy.concurrency))):
                group.create_task(worker())
        return report

    async def _deliver_chat(
        self,
        items: list[OutboxItem],
        outcome: _ChatOutcome,
        recorder: _SentRecorder,
        rendered: dict[tuple[str, tuple[int, ...]], list[OutgoingMessage]],
        deadline: float,
    ) -> None:
        sub = items[0].subscription
        assert sub.id is not None
        sender = self.senders[sub.chat.platform]
        messages = await self._render(sender, sub, items, outcome, rendered)
        if messages is None:
            return
        carried: set[int] = set()
        loop = asyncio.get_running_loop()
        for position, message in enumerate(messages):
            # At least one message per chat and round, so that a slow claim cannot stall it.
            if self._stopping or (position and loop.time() > deadline):
                return  # the caller releases what was not sent
            ids = [items[k].id for k in message.card_indexes if 0 <= k < len(items)]
            carried.update(ids)
            await self._pace(sender, sub)
            # Inline, not a helper coroutine: each frame in the await chain costs at every
            # resumption of the send, and this is the hot path.
            try:
                result = await sender.send(sub.chat.chat_id, message)
            except Exception as exc:  # a network failure must not lose the digest
                result = self._send_failed(sub, exc)
            if isinstance(result, Sent):
                outcome.handled.update(ids)
                outcome.report.sent += len(ids)
                outcome.report.messages += 1
                await recorder.add(sub.id, ids, self.clock())
                if result.migrated_to is not None and result.migrated_to != sub.chat.chat_id:
                    followed = await self._migrated(sub, result.migrated_to)
                    if followed is None:
                        return
                    sub = followed
            elif isinstance(result, Rejected):
                await self._fail(sub, ids, f"rejected: {result.reason}", outcome)
            elif isinstance(result, ChatGone):
                # Record what this chat was sent first, so that those items end up "sent",
                # not dropped with the pending ones.
                await recorder.flush()
                await self._gone(sub, result.reason, items, outcome)
                return
            else:
                rest = [items[k].id for m in messages[position:] for k in m.card_indexes]
                await self._retry(sub, items, rest, result, outcome)
                return
        not_rendered = [i.id for i in items if i.id not in carried]
        if not_rendered:
            await self._fail(sub, not_rendered, "the renderer left this card out", outcome)

    async def _render(
        self,
        sender: ChatSender,
        sub: Subscription,
        items: list[OutboxItem],
        outcome: _ChatOutcome,
        rendered: dict[tuple[str, tuple[int, ...]], list[OutgoingMessage]],
    ) -> list[OutgoingMessage] | None:
        digest = (sub.chat.platform, tuple(i.card_id for i in items))
        messages = rendered.get(digest)
        if messages is not None:
            return messages
        try:
            messages = rendered[digest] = sender.render([i.card for i in items])
        except Exception as exc:
            # A renderer bug must not keep these items (and everything after) coming back.
            log.exception("rendering for %s:%s failed", sub.chat.platform, sub.chat.chat_id)
            ids = [i.id for i in items]
            await self._fail(sub, ids, f"could not render: {type(exc).__name__}: {exc}", outcome)
            return None
        return messages

    async def _pace(self, sender: ChatSender, sub: Subscription) -> None:
        if not self.pacer.enabled:
            return
        key = f"{sub.chat.platform}:{sub.chat.chat_id}"
        interval = sender.min_interval(sub.chat.chat_id)
        while (wait := self.pacer.reserve(key, interval)) > 0:
            await self.sleep(wait)

    async def _migrated(self, sub: Subscription, new_chat_id: str) -> Subscription | None:
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
        return replace(sub, chat=ChatRef(sub.chat.platform, new_chat_id))

    @staticmethod
    def _send_failed(sub: Subscription, exc: Exception) -> SendResult:
        log.warning(
            "delivery to %s:%s raised %s: %s",
            sub.chat.platform,
            sub.chat.chat_id,
            type(exc).__name__,
            exc,
        )
        return RetryLater(0.0, f"{type(exc).__name__}: {exc}")

    async def _fail(
        self, sub: Subscription, ids: list[int], reason: str, outcome: _ChatOutcome
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
        await self.store.mark_failed(ids, reason, self.clock())
        await self.store.log_delivery(sub.id, "failed", reason, self.clock(), len(ids))
        outcome.handled.update(ids)
        outcome.report.failed += len(ids)

    async def _gone(
        self, sub: Subscription, reason: str, items: list[OutboxItem], outcome: _ChatOutcome
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

    async def _retry(
        self,
        sub: Subscription,
        items: list[OutboxItem],
        ids: list[int],
        result: RetryLater,
        outcome: _ChatOutcome,
    ) -> None:
        now = self.clock()
        by_id = {i.id: i for i in items}
        counted = result.counts_as_attempt
        give_up = [i for i in ids if counted and by_id[i].attempts + 1 >= self.policy.max_attempts]
        again = [i for i in ids if i not in give_up]
        if give_up:
            reason = f"gave up after {self.policy.max_attempts} attempts: {result.reason}"
            await self._fail(sub, give_up, reason, outcome)
        if not again:
            return
        attempts = max(by_id[i].attempts for i in again)
        # The platform's own wait (429 retry_after) is the right delay; with none given (a
        # network failure), back off exponentially.
        if result.after_seconds > 0:
            delay = max(1.0, result.after_seconds)
        else:
            delay = backoff_delay(attempts, self.policy)
        await self.store.mark_retry(
            again, now + timedelta(seconds=delay), result.reason, count_attempt=counted
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
