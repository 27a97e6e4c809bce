"""Chat leases on PostgreSQL with several delivery loops: a chat is served by one worker at a
time across all its forum topics, and leases end on the database's clock, so a worker whose
own clock is wrong neither takes live leases nor holds dead ones."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.clock import utcnow
from bot.delivery import Delivery, DeliveryPolicy
from bot.pacing import Pacer
from bot.ports import ChatRef, OutgoingMessage, SendResult, Sent
from bot.store import SqlStore, Subscription
from bot.store.schema import chat_leases_t
from tests.bot.conftest import POSTGRES_URL, create_schema, drop_schema, store_in_schema
from tests.bot.fakes import FakeSender
from tests.bot.test_bot_store import NOW, card

pytestmark = pytest.mark.postgres

GROUP = "-100"
GROUP_PACE = 0.4  # seconds between two messages to the group (Telegram: 3 s)


class LoggingSender(FakeSender):
    """One worker's sender; every send goes into a log shared by the workers:
    ``(worker, chat, thread, start, end)`` on the monotonic clock."""

    def __init__(self, name: str, log: list[tuple[str, str, str, float, float]]) -> None:
        super().__init__(cards_per_message=1)
        self.name, self.log = name, log
        self.hold: asyncio.Event | None = None  # set: the next send waits for it
        self.holding = asyncio.Event()

    async def send(self, chat_id: str, message: OutgoingMessage) -> SendResult:
        start = time.monotonic()
        if self.hold is not None:
            self.holding.set()
            await self.hold.wait()
        await asyncio.sleep(0.02)  # a request in flight: another worker could overlap it
        self.log.append((self.name, chat_id, message.thread, start, time.monotonic()))
        return Sent(str(len(self.log)))

    def min_interval(self, chat_id: str) -> float:
        return GROUP_PACE if chat_id.startswith("-") else 0.0


@pytest.fixture
async def stores() -> AsyncIterator[list[SqlStore]]:
    """Two stores on one schema, each with its own engine: two worker processes in effect."""
    if not POSTGRES_URL:
        pytest.skip("DIGESTBOT_TEST_POSTGRES_URL is not set")
    schema = await create_schema()
    pair = [store_in_schema(schema) for _ in range(2)]
    try:
        await pair[0].upgrade()
        yield pair
    finally:
        for store in pair:
            await store.close()
        await drop_schema(schema)


async def _queue(store: SqlStore, chats: Sequence[ChatRef], cards: int) -> None:
    feed, _ = await store.add_feed("https://example.org/feed.xml")
    stored = await store.record_entries(feed.id, [(f"e{n}", card(n)) for n in range(cards)], NOW)
    plan = []
    for chat in chats:
        sub = await store.save_subscription(Subscription(chat=chat))
        plan += [(sub.id or 0, c.id, NOW) for c in stored]
    await store.enqueue(plan, NOW)


def _delivery(
    store: SqlStore, sender: FakeSender, name: str, clock: Any = utcnow, **policy: Any
) -> Delivery:
    return Delivery(
        store,
        {"fake": sender},
        pacer=Pacer(rate=0.0),
        clock=clock,
        worker_id=name,
        policy=DeliveryPolicy(**{"claim_chats": 1, "batch_limit": 2, **policy}),
    )


async def test_two_topics_of_a_group_go_out_from_one_worker_at_a_time(
    stores: list[SqlStore],
) -> None:
    """Two delivery loops, one group with two forum topics (two subscriptions), small rounds
    (one chat, two items): the group's messages never overlap and keep its pace, whichever
    worker sends them."""
    topics = [ChatRef("fake", GROUP, thread) for thread in ("11", "22")]
    others = [ChatRef("fake", str(n)) for n in range(4)]
    await _queue(stores[0], [*topics, *others], cards=3)
    log: list[tuple[str, str, str, float, float]] = []
    loops = [
        _delivery(store, LoggingSender(f"w{n}", log), f"w{n}") for n, store in enumerate(stores)
    ]

    async def keep_delivering(loop: Delivery) -> int:
        """A worker's loop: a chat waiting for its pace is not due yet, so ask again."""
        sent = 0
        while len(log) < 18:
            sent += (await loop.run()).sent
            await asyncio.sleep(0.05)
        return sent

    async with asyncio.timeout(60):
        sent = await asyncio.gather(*(keep_delivering(loop) for loop in loops))
    assert sum(sent) == 18 == len(log)
    group = sorted((start, end, worker, thread) for worker, chat, thread, start, end in log
                   if chat == GROUP)  # fmt: skip
    assert sorted(thread for *_, thread in group) == ["11"] * 3 + ["22"] * 3
    for (start_a, end_a, *_), (start_b, _, *_) in itertools.pairwise(group):
        assert start_b >= end_a  # one message to the group at a time
        assert start_b - start_a >= GROUP_PACE - 0.01  # at its pace, across workers too
    assert all(sent)  # both workers delivered


@pytest.mark.parametrize(
    ("holder_skew", "taker_skew"),
    [(0, 3600), (-3600, 0)],
    ids=["taker-clock-ahead", "holder-clock-behind"],
)
async def test_a_skewed_clock_takes_no_live_lease(
    stores: list[SqlStore], holder_skew: float, taker_skew: float
) -> None:
    """The holder is in the middle of a send; the other worker, one of the two with a clock
    an hour off, finds nothing to claim, even judging heartbeats (dead after 15 s)."""
    await _queue(stores[0], [ChatRef("fake", "7")], cards=2)
    log: list[tuple[str, str, str, float, float]] = []
    holder_sender, taker_sender = LoggingSender("holder", log), LoggingSender("taker", log)
    holder_sender.hold = asyncio.Event()

    def skewed(seconds: float) -> Any:
        return lambda: utcnow() + timedelta(seconds=seconds)

    holder = _delivery(stores[0], holder_sender, "holder", skewed(holder_skew), batch_limit=9)
    taker = _delivery(stores[1], taker_sender, "taker", skewed(taker_skew), batch_limit=9)
    taker.dead_after = 15.0
    for store, name, skew in ((stores[0], "holder", holder_skew), (stores[1], "taker", taker_skew)):
        now = utcnow() + timedelta(seconds=skew)
        await store.heartbeat(name, host="h", pid=1, roles=("deliver",), now=now)
    holding = asyncio.create_task(holder.run())
    await asyncio.wait_for(holder_sender.holding.wait(), 30)
    taken = await taker.run()
    holder_sender.hold.set()
    held = await holding
    assert taken.sent == 0 and held.sent == 2
    assert [(worker, chat) for worker, chat, *_ in log] == [("holder", "7")] * 2


async def test_a_dead_workers_lease_ends_on_the_database_clock(stores: list[SqlStore]) -> None:
    """A worker whose clock runs an hour ahead claims a chat for 1 s and dies: its lease ends
    1 s later on the database's clock (not an hour later), and the other worker sends."""
    await _queue(stores[0], [ChatRef("fake", "7")], cards=1)
    ahead = utcnow() + timedelta(hours=1)
    [item] = await stores[1].claim_due(
        ahead, lease_seconds=1.0, limit=9, platforms=["fake"], worker_id="dead"
    )
    async with stores[0].engine.connect() as conn:
        left = (
            await conn.execute(
                sa.select(chat_leases_t.c.claimed_until - sa.func.now()).where(
                    chat_leases_t.c.claim_token == item.claim_token
                )
            )
        ).scalar_one()
    assert timedelta(0) < left <= timedelta(seconds=1)
    log: list[tuple[str, str, str, float, float]] = []
    alive = _delivery(stores[0], LoggingSender("alive", log), "alive")
    sent = 0
    async with asyncio.timeout(30):
        while not sent:  # the lease ends after 1 s, not after an hour
            sent = (await alive.run()).sent
            await asyncio.sleep(0.1)
    assert [(worker, chat) for worker, chat, *_ in log] == [("alive", "7")]


async def test_heartbeats_and_lease_deadlines_use_the_database_clock(
    stores: list[SqlStore],
) -> None:
    behind = utcnow() - timedelta(hours=1)
    await stores[0].heartbeat("w", host="h", pid=1, roles=("deliver",), now=behind)
    [worker] = await stores[0].list_workers()
    async with stores[0].engine.connect() as conn:
        db_now: datetime = (await conn.execute(sa.select(sa.func.now()))).scalar_one()
    assert abs(worker.seen_at - db_now) < timedelta(minutes=1)
    assert await stores[0].lease_counts(behind) == {}


async def test_status_reads_heartbeat_ages_on_the_database_clock(stores: list[SqlStore]) -> None:
    """`digestbot status` on a host whose clock is an hour behind still sees a worker that
    just beat as seen 0 s ago, not as beating an hour in the future (or dead when ahead)."""
    from bot.status_cli import format_workers

    behind = utcnow() - timedelta(hours=1)
    await stores[0].heartbeat("w", host="h", pid=1, roles=("deliver",), now=behind)
    workers = await stores[0].list_workers()
    clock = await stores[0].leases_clock(behind)
    assert abs(clock - utcnow()) < timedelta(minutes=1)
    text = format_workers(workers, {}, clock, 15.0)
    assert "DEAD" not in text
    assert "seen 0 s ago" in text or "seen 1 s ago" in text
