"""Three workers share one send budget per bot token (PostgreSQL, or Redis when set): their
aggregate rate stays under the budget, and a chat keeps its pace whichever worker serves it."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Sequence

import pytest

from bot.delivery import Delivery, DeliveryPolicy
from bot.pacing import Pacer
from bot.ports import ChatRef, OutgoingMessage, SendResult
from bot.send_budget import PostgresBudget, RedisBudget, SendBudget
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


def busiest_second(times: Sequence[float]) -> int:
    ordered = sorted(times)
    return max(sum(1 for t in ordered[i:] if t - start < 1.0) for i, start in enumerate(ordered))


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
    assert busiest_second([t for _, t in sender.times]) <= RATE + BURST
    assert elapsed >= (43 - RATE - BURST) / RATE  # the budget held the three back
    paced = [t for chat, t in sender.times if chat == "paced"]
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(paced))
