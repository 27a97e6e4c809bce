"""Delivery's batched records and chat migrations: ``Delivery`` on a real SQLite store with the
in-memory fake sender."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from bot.delivery import Delivery, DeliveryPolicy
from bot.ports import ChatRef, OutgoingMessage, SendResult, Sent
from bot.store import SentRecord, SqlStore, Subscription
from tests.bot.fakes import FakeClock, FakeSender
from tests.bot.test_bot_store import card


class CountingStore(SqlStore):
    """The real store, remembering each batch of sent records it wrote."""

    batches: list[int]
    written: asyncio.Event

    async def record_sent(self, records: Sequence[SentRecord]) -> None:
        self.batches.append(sum(len(r.item_ids) for r in records))
        await super().record_sent(records)
        self.written.set()


class GatedSender(FakeSender):
    """Sends to ``held`` chats wait for ``release``; ``entered`` is set when one is waiting."""

    def __init__(self, held: set[str], **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.held = held
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def send(self, chat_id: str, message: OutgoingMessage) -> SendResult:
        if chat_id in self.held:
            self.entered.set()
            await self.release.wait()
        return await super().send(chat_id, message)


class YieldingSender(FakeSender):
    """Gives the event loop a turn at every send, as a real network send does."""

    async def send(self, chat_id: str, message: OutgoingMessage) -> SendResult:
        await asyncio.sleep(0)
        return await super().send(chat_id, message)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[CountingStore]:
    from sqlalchemy.ext.asyncio import create_async_engine

    store = CountingStore(create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'd.sqlite3'}"))
    store.batches = []
    store.written = asyncio.Event()
    await store.upgrade()
    yield store
    await store.close()


async def queue(
    store: SqlStore, clock: FakeClock, chats: Sequence[str], cards: int = 1, *, due_in: float = 0
) -> list[int]:
    """``cards`` new cards queued to each of ``chats`` (subscribed if need be)."""
    feed, _ = await store.add_feed("https://example.org/feed.xml")
    start = len(await store.latest_cards(10_000))
    entries = [(f"e{n}", card(n)) for n in range(start, start + cards)]
    stored = await store.record_entries(feed.id, entries, clock())
    subs = []
    for chat in chats:
        sub = await store.get_subscription(ChatRef("fake", chat))
        sub = sub or await store.save_subscription(Subscription(chat=ChatRef("fake", chat)))
        subs.append(sub.id or 0)
    due = clock() + timedelta(seconds=due_in)
    await store.enqueue([(s, c.id, due) for s in subs for c in stored], clock())
    return [c.id for c in stored]


def delivery(store: SqlStore, sender: FakeSender, clock: FakeClock, **policy: float) -> Delivery:
    from bot.pacing import Pacer

    return Delivery(
        store,
        {"fake": sender},
        pacer=Pacer(enabled=False),
        clock=clock,
        # These tests are about the write-behind batches: one worker, not a record per send.
        policy=DeliveryPolicy(**{"record_each": False, **policy}),  # type: ignore[arg-type]
    )


async def test_sends_are_recorded_in_batches(db: CountingStore) -> None:
    clock, sender = FakeClock(), YieldingSender()
    await queue(db, clock, [str(n) for n in range(60)])
    report = await delivery(db, sender, clock, flush_items=10, flush_seconds=60).run()
    assert (report.sent, report.messages) == (60, 60)
    assert sum(db.batches) == 60
    assert 2 <= len(db.batches) <= 20  # batched: neither one write per message nor one at the end
    # Senders wait when the writes fall 4 batches behind (each of the 8 may add one more).
    assert max(db.batches) <= 4 * 10 + 8
    assert await db.outbox_counts() == {"pending": 0, "sent": 60, "failed": 0}


async def test_senders_wait_when_the_writes_fall_behind(db: CountingStore) -> None:
    clock, sender = FakeClock(), FakeSender()  # never yields: the writer task gets no turn
    await queue(db, clock, [str(n) for n in range(50)])
    report = await delivery(db, sender, clock, flush_items=5, flush_seconds=60).run()
    assert report.sent == 50
    assert db.batches[0] == 20 and sum(db.batches) == 50  # 4 x 5 buffered, then written


async def test_a_send_is_recorded_within_the_flush_delay_while_others_are_in_flight(
    db: CountingStore,
) -> None:
    clock, sender = FakeClock(), GatedSender({"held"})
    await queue(db, clock, ["quick", "held"])
    running = asyncio.create_task(
        delivery(db, sender, clock, flush_items=1000, flush_seconds=0.01).run()
    )
    try:
        await asyncio.wait_for(sender.entered.wait(), 5)
        # The timer, not the end of the run, writes it.
        await asyncio.wait_for(db.written.wait(), 5)
        assert (await db.outbox_counts())["sent"] == 1
        assert not running.done()
    finally:
        sender.release.set()
        report = await asyncio.wait_for(running, 5)
    assert report.sent == 2
    assert await db.outbox_counts() == {"pending": 0, "sent": 2, "failed": 0}


async def test_stop_writes_what_was_sent_and_leaves_the_rest_queued(db: CountingStore) -> None:
    clock, sender = FakeClock(), GatedSender({"held"})
    await queue(db, clock, ["a", "b", "held", "c", "d"])
    run = delivery(db, sender, clock, flush_items=1000, flush_seconds=3600, concurrency=1)
    running = asyncio.create_task(run.run())
    await asyncio.wait_for(sender.entered.wait(), 5)
    assert (await db.outbox_counts())["sent"] == 0  # "a" and "b" went out, still buffered
    run.request_stop()  # SIGTERM while "held" is in flight
    sender.release.set()
    report = await asyncio.wait_for(running, 5)
    assert report.sent == 3 and sorted(d.chat_id for d in sender.delivered) == ["a", "b", "held"]
    assert await db.outbox_counts() == {"pending": 2, "sent": 3, "failed": 0}
    # A restart sends the rest, and only the rest.
    again = FakeSender()
    assert (await delivery(db, again, clock).run()).sent == 2
    assert sorted(d.chat_id for d in again.delivered) == ["c", "d"]


async def test_a_migrated_group_is_followed_by_the_rest_and_by_later_digests(
    db: CountingStore,
) -> None:
    clock, sender = FakeClock(), FakeSender(cards_per_message=1)
    sender.script("-1", Sent(migrated_to="-1001"))
    await queue(db, clock, ["-1"], cards=2)
    await queue(db, clock, ["-1"], cards=1, due_in=3600)  # pending, not due yet
    report = await delivery(db, sender, clock).run()
    assert (report.sent, report.messages) == (2, 2)
    # The first message was resent to the new id by the sender; the second went there at once.
    assert [chat for chat, _ in sender.attempts] == ["-1", "-1001"]
    assert [d.chat_id for d in sender.delivered] == ["-1001", "-1001"]
    assert await db.get_subscription(ChatRef("fake", "-1")) is None
    moved = await db.get_subscription(ChatRef("fake", "-1001"))
    assert moved is not None and moved.active
    # The item queued before the move, and one queued after it, go to the new id directly.
    await queue(db, clock, ["-1001"], cards=1)
    clock.advance(seconds=3600)
    later = await delivery(db, sender, clock).run()
    assert later.sent == 2
    assert [chat for chat, _ in sender.attempts[2:]] == ["-1001", "-1001"]
    assert sender.titles_for("-1001") == ["Card 0", "Card 1", "Card 2", "Card 3"]
    assert await db.outbox_counts() == {"pending": 0, "sent": 4, "failed": 0}


async def test_a_group_migrating_onto_a_subscribed_supergroup_sends_each_card_once(
    db: CountingStore,
) -> None:
    clock, sender = FakeClock(), FakeSender(cards_per_message=1)
    await db.save_subscription(Subscription(chat=ChatRef("fake", "-1001"), mode="hourly"))
    sender.script("-1", Sent(migrated_to="-1001"))
    await queue(db, clock, ["-1"], cards=3)
    first = await delivery(db, sender, clock).run()
    # One card went out before the move was known; the others joined the supergroup's
    # subscription and go out with it.
    assert sender.titles_for("-1001") == ["Card 0", "Card 1", "Card 2"]
    assert first.sent == 3
    old = await db.get_subscription(ChatRef("fake", "-1"))
    assert old is not None and not old.active
    assert await db.outbox_counts() == {"pending": 0, "sent": 3, "failed": 0}
    assert [chat for chat, _ in sender.attempts] == ["-1", "-1001", "-1001"]


async def test_each_send_is_recorded_before_the_next_to_the_same_chat(db: CountingStore) -> None:
    clock, sender = FakeClock(), FakeSender(cards_per_message=1)
    await queue(db, clock, ["solo"], cards=3)
    recorded_before_send: list[int] = []
    real_send = sender.send

    async def send(chat_id: str, message: OutgoingMessage) -> SendResult:
        recorded_before_send.append((await db.outbox_counts())["sent"])
        return await real_send(chat_id, message)

    sender.send = send  # type: ignore[method-assign]
    report = await delivery(db, sender, clock, record_each=True, flush_seconds=3600).run()
    assert report.sent == 3
    # A kill -9 between two sends would repeat only the one in flight.
    assert recorded_before_send == [0, 1, 2]
