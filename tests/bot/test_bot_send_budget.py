"""Three workers share one send budget per bot token (PostgreSQL, or Redis when set): their
aggregate rate stays under the budget, and a chat keeps its pace whichever worker serves it.

The bounds come from the algorithm, not from how fast this machine is: the slots booked on the
shared store's clock never exceed the budget in any second; a send goes out no earlier than
its slot and, on this process's clock, no later than the booking's round trip plus the
lateness a slot allows (``bot.send_budget._LATE``), so the sends seen in any second are
bounded by the slots of a second stretched by that much."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from bot.delivery import Delivery, DeliveryPolicy
from bot.pacing import Pacer
from bot.ports import ChatRef, OutgoingMessage, SendResult
from bot.send_budget import _LATE, PostgresBudget, RedisBudget, SendBudget
from bot.store import SqlStore, Subscription
from tests.bot.conftest import POSTGRES_URL, create_schema, drop_schema, store_in_schema
from tests.bot.fakes import FakeClock, FakeSender
from tests.bot.test_bot_store import card

pytestmark = pytest.mark.postgres

REDIS_URL = os.environ.get("DIGESTBOT_TEST_REDIS_URL")
RATE = 20.0
BURST = 5


class TimedSender(FakeSender):
    def __init__(self) -> None:
        super().__init__(cards_per_message=1, interval=1.0)
        self.times: list[tuple[str, float]] = []

    async def send(self, chat_id: str, message: OutgoingMessage) -> SendResult:
        self.times.append((chat_id, time.monotonic()))
        return await super().send(chat_id, message)


def busiest_second(times: Sequence[float], window: float = 1.0) -> int:
    ordered = sorted(times)
    return max(sum(1 for t in ordered[i:] if t - start < window) for i, start in enumerate(ordered))


class Bookings:
    """Wraps a budget's booking round trip: the slots it booked (on the store's clock) and
    how long the round trip took (on this process's)."""

    def __init__(self) -> None:
        self.slots: list[float] = []
        self.slowest = 0.0

    def watch(self, budget: PostgresBudget | RedisBudget) -> None:
        book = budget._book

        async def booking(key: str, count: int) -> tuple[float, float]:
            began = time.monotonic()
            new_tat, now = await book(key, count)
            self.slowest = max(self.slowest, time.monotonic() - began)
            first = new_tat - count * budget.interval
            self.slots += [max(now, first + n * budget.interval - budget.tolerance)
                           for n in range(count)]  # fmt: skip
            return new_tat, now

        budget._book = booking  # type: ignore[method-assign]


async def _queue(store: SqlStore, clock: FakeClock, chats: Sequence[str], cards: int) -> None:
    feed, _ = await store.add_feed(f"https://example.org/{len(chats)}-{cards}.xml")
    stored = await store.record_entries(
        feed.id, [(f"e{i}", card(i)) for i in range(cards)], clock()
    )
    plan = []
    for chat in chats:
        sub = await store.save_subscription(Subscription(chat=ChatRef("fake", chat)))
        plan += [(sub.id or 0, c.id, clock()) for c in stored]
    await store.enqueue(plan, clock())


@pytest.mark.parametrize("backend", ["postgres", "redis"])
async def test_three_workers_share_one_budget(backend: str) -> None:
    if not POSTGRES_URL:
        pytest.skip("DIGESTBOT_TEST_POSTGRES_URL is not set")
    if backend == "redis" and not REDIS_URL:
        pytest.skip("DIGESTBOT_TEST_REDIS_URL is not set")
    schema = await create_schema()
    stores = [store_in_schema(schema) for _ in range(3)]
    clock, sender = FakeClock(), TimedSender()
    key = f"fake:test-{schema}"  # a fresh budget per run (Redis outlives the schema)
    sender.budget_key = key  # type: ignore[attr-defined]
    budgets: list[SendBudget] = []
    bookings = Bookings()
    try:
        await stores[0].upgrade()
        # 40 one-message chats, and one chat with 3 messages (1 s apart, whoever sends).
        await _queue(stores[0], clock, [str(n) for n in range(40)], cards=1)
        await _queue(stores[0], clock, ["paced"], cards=3)
        budgets += [
            PostgresBudget(s.engine, RATE, burst=BURST)
            if backend == "postgres"
            else RedisBudget(REDIS_URL or "", RATE)
            for s in stores
        ]
        for budget in budgets:
            bookings.watch(budget)  # type: ignore[arg-type]
        workers = [
            Delivery(
                s,
                {"fake": sender},
                pacer=Pacer(rate=0.0),
                clock=clock,
                budget=b,
                worker_id=f"w{n}",
                policy=DeliveryPolicy(claim_chats=4),  # small rounds: the workers share
            )
            for n, (s, b) in enumerate(zip(stores, budgets, strict=True))
        ]
        started = time.monotonic()
        async with asyncio.timeout(30):
            reports = await asyncio.gather(*(w.run() for w in workers))
        elapsed = time.monotonic() - started
    finally:
        for budget in budgets:
            await budget.aclose()
        for s in stores:
            await s.close()
        await drop_schema(schema)
    assert sum(r.sent for r in reports) == 43 == len(sender.times)
    assert sum(1 for r in reports if r.sent) >= 2  # the work was shared
    # Booked: never more than the budget in any second, across the three workers.
    assert busiest_second(bookings.slots) <= RATE + BURST
    # Sent: each send within (round trip + allowed lateness) after its slot.
    late = bookings.slowest + max(1.0 / RATE, _LATE)
    assert busiest_second([t for _, t in sender.times]) <= int((1.0 + late) * RATE) + BURST
    assert elapsed >= (43 - RATE - BURST) / RATE  # the budget held the three back
    paced = [t for chat, t in sender.times if chat == "paced"]
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(paced))


@pytest.mark.parametrize("backend", ["postgres", "redis"])
async def test_a_high_budget_is_booked_in_blocks_and_still_holds(backend: str) -> None:
    """At 2,000/s each round trip books a block of consecutive slots (one UPDATE of the hot
    row per block, not per message); three workers' slots together never exceed the rate,
    and slots a worker leaves unused lapse instead of being sent on late."""
    if not POSTGRES_URL:
        pytest.skip("DIGESTBOT_TEST_POSTGRES_URL is not set")
    if backend == "redis" and not REDIS_URL:
        pytest.skip("DIGESTBOT_TEST_REDIS_URL is not set")
    rate, sends = 2000.0, 600
    schema = await create_schema()
    stores = [store_in_schema(schema) for _ in range(3)]
    key = f"fake:blocks-{schema}"
    budgets: list[PostgresBudget | RedisBudget] = []
    bookings, trips = Bookings(), Counter()  # type: ignore[var-annotated]
    try:
        await stores[0].upgrade()
        budgets += [
            PostgresBudget(s.engine, rate)
            if backend == "postgres"
            else RedisBudget(REDIS_URL or "", rate)
            for s in stores
        ]
        assert {b.block for b in budgets} == {40}  # 20 ms of slots per round trip
        for n, budget in enumerate(budgets):
            bookings.watch(budget)
            book = budget._book

            async def counted(
                k: str, count: int, n: int = n, book: Any = book
            ) -> tuple[float, float]:
                trips[n] += 1
                return await book(k, count)

            budget._book = counted  # type: ignore[method-assign]
        sent: list[float] = []

        async def sender(budget: PostgresBudget | RedisBudget) -> None:
            while len(sent) < sends:
                await budget.acquire(key)
                sent.append(time.monotonic())

        started = time.monotonic()
        async with asyncio.timeout(60):
            await asyncio.gather(*(sender(b) for b in budgets for _ in range(8)))
        elapsed = time.monotonic() - started
    finally:
        for budget in budgets:
            await budget.aclose()
        for s in stores:
            await s.close()
        await drop_schema(schema)
    assert busiest_second(bookings.slots, window=0.1) <= int(0.1 * rate) + 1
    assert elapsed >= (len(sent) - 1) / rate
    # A round trip per block of 40, not per message (a few more: blocks that lapsed).
    assert sum(trips.values()) * 40 >= len(bookings.slots) >= len(sent)
    assert sum(trips.values()) < len(sent) / 2
