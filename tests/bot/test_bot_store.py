"""The SQL store on SQLite (temp file) and, marked ``postgres``, on PostgreSQL (own schema)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.ports import ChatRef
from bot.store import SentRecord, SqlStore, Subscription, feeds_t, metadata
from bot.store.entries import ParsedCards
from bot.store.schema import chat_leases_t, workers_t
from digests.models import Card
from tests.bot.conftest import (
    POSTGRES_URL,
    create_schema,
    drop_schema,
    postgres_schema_store,
    store_in_schema,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def card(n: int, published: datetime | None = NOW) -> Card:
    return Card(
        title=f"Card {n}",
        url=f"https://example.org/{n}",
        source="Example",
        published=published,
        summary=(f"Summary {n}.",),
        key_facts=(),
        editors_note=None,
        topics=("trade",),
        reading_minutes=2,
        entry_id=f"e{n}",
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStore]:
    if request.param == "sqlite":
        sql = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}")
        await sql.upgrade()
        yield sql
        await sql.close()
        return
    if not POSTGRES_URL:
        pytest.skip("DIGESTBOT_TEST_POSTGRES_URL is not set")
    sql, schema = await postgres_schema_store()
    try:
        await sql.upgrade()
        yield sql
    finally:
        await sql.close()
        await drop_schema(schema)


async def _age_leases(store: SqlStore, seconds: float, worker: str | None = None) -> None:
    """``seconds`` pass for the leases (chats, feeds) and for ``worker``'s heartbeat: their
    times move back. On PostgreSQL they are on the database's clock, which a test cannot
    move forward; on SQLite on the callers' (here ``NOW``), kept fixed."""
    back = timedelta(seconds=seconds)
    async with store.engine.begin() as conn:
        for table in (chat_leases_t, feeds_t):
            rows = await conn.execute(
                sa.select(table.c.id, table.c.claimed_until).where(
                    table.c.claimed_until.is_not(None)
                )
            )
            for row_id, until in rows.all():
                await conn.execute(
                    sa.update(table).where(table.c.id == row_id).values(claimed_until=until - back)
                )
        if worker is not None:
            (seen,) = (
                await conn.execute(sa.select(workers_t.c.seen_at).where(workers_t.c.id == worker))
            ).one()
            await conn.execute(
                sa.update(workers_t).where(workers_t.c.id == worker).values(seen_at=seen - back)
            )


async def _subscribe(store: SqlStore, chat_id: str, **kw: object) -> Subscription:
    return await store.save_subscription(Subscription(chat=ChatRef("fake", chat_id), **kw))  # type: ignore[arg-type]


async def _queued(store: SqlStore, n_cards: int = 2, chats: int = 1) -> tuple[list[int], list[int]]:
    feed, _ = await store.add_feed("https://example.org/feed.xml")
    stored = await store.record_entries(feed.id, [(f"e{i}", card(i)) for i in range(n_cards)], NOW)
    sub_ids = [(await _subscribe(store, str(c))).id or 0 for c in range(chats)]
    plan = [(s, c.id, NOW) for s in sub_ids for c in stored]
    assert await store.enqueue(plan, NOW) == len(plan)
    return sub_ids, [c.id for c in stored]


async def test_migrations_match_the_table_definitions(any_store: SqlStore) -> None:
    async with any_store.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    assert diff == []


async def test_upgrade_twice_is_harmless(any_store: SqlStore) -> None:
    await any_store.upgrade()
    assert await any_store.list_feeds() == []


async def test_feeds_add_is_idempotent_and_updates_name(any_store: SqlStore) -> None:
    feed, created = await any_store.add_feed("https://a.example/feed", topics=["trade"])
    again, created_again = await any_store.add_feed("https://a.example/feed", name="A")
    assert (created, created_again) == (True, False)
    assert again.id == feed.id and again.name == "A" and again.topics == ("trade",)
    assert feed.added_at.tzinfo is not None and not feed.initialized
    assert [f.url for f in await any_store.due_feeds(NOW)] == ["https://a.example/feed"]


async def test_poll_bookkeeping_and_due_feeds(any_store: SqlStore) -> None:
    feed, _ = await any_store.add_feed("https://a.example/feed")
    await any_store.record_poll_failure(
        feed.id, error="HTTP 500", now=NOW, next_poll_at=NOW + timedelta(minutes=20)
    )
    failed = await any_store.get_feed(feed.url)
    assert failed is not None and failed.error_count == 1 and failed.last_error == "HTTP 500"
    assert await any_store.due_feeds(NOW) == []
    assert len(await any_store.due_feeds(NOW + timedelta(minutes=20))) == 1
    await any_store.record_poll_success(
        feed.id,
        etag='"v1"',
        last_modified=None,
        ttl_minutes=60,
        now=NOW,
        next_poll_at=NOW + timedelta(hours=1),
    )
    ok = await any_store.get_feed(feed.url)
    assert ok is not None
    assert (ok.error_count, ok.etag, ok.ttl_minutes, ok.initialized) == (0, '"v1"', 60, True)
    assert ok.next_poll_at == NOW + timedelta(hours=1)


async def test_entries_are_recorded_once(any_store: SqlStore) -> None:
    feed, _ = await any_store.add_feed("https://a.example/feed")
    first = await any_store.record_entries(feed.id, [("e1", card(1)), ("e2", None)], NOW)
    assert [s.card.title for s in first] == ["Card 1"]
    assert await any_store.unseen_entry_ids(feed.id, ["e1", "e2", "e3"]) == {"e3"}
    again = await any_store.record_entries(feed.id, [("e1", card(1)), ("e3", card(3))], NOW)
    assert [s.card.title for s in again] == ["Card 3"]
    latest = await any_store.latest_cards(10)
    assert {s.card.title for s in latest} == {"Card 1", "Card 3"}
    assert latest[0].card.published == NOW


async def test_latest_cards_newest_published_first(any_store: SqlStore) -> None:
    feed, _ = await any_store.add_feed("https://a.example/feed")
    entries = [
        ("old", card(1, NOW - timedelta(days=2))),
        ("undated", card(2, None)),
        ("new", card(3, NOW)),
    ]
    await any_store.record_entries(feed.id, entries, NOW)
    assert [s.card.title for s in await any_store.latest_cards(3)] == ["Card 3", "Card 1", "Card 2"]


async def test_latest_cards_parse_each_card_once_and_drop_deleted_ones(
    any_store: SqlStore,
) -> None:
    feed, _ = await any_store.add_feed("https://a.example/feed")
    other, _ = await any_store.add_feed("https://b.example/feed")
    await any_store.record_entries(feed.id, [("a", card(1, NOW))], NOW)
    await any_store.record_entries(other.id, [("b", card(2, NOW - timedelta(hours=1)))], NOW)
    first = await any_store.latest_cards(5)
    assert [s.card.title for s in first] == ["Card 1", "Card 2"]
    assert len(any_store.parsed_cards) == 2
    again = await any_store.latest_cards(5)
    assert [s.card for s in again] == [s.card for s in first]
    assert all(a.card is b.card for a, b in zip(again, first, strict=True))  # not re-parsed
    # Parsed but since deleted (the feed removed, e.g. by another worker): not returned.
    assert await any_store.remove_feed("https://b.example/feed")
    assert [s.card.title for s in await any_store.latest_cards(5)] == ["Card 1"]


async def test_a_reused_card_id_is_not_served_from_the_parsed_cards(any_store: SqlStore) -> None:
    """SQLite hands the highest id out again once its row is deleted: the parsed card kept
    under it must not stand in for the new card."""
    gone, _ = await any_store.add_feed("https://gone.example/feed")
    [old] = await any_store.record_entries(gone.id, [("a", card(1, NOW))], NOW)
    assert [s.card.title for s in await any_store.latest_cards(5)] == ["Card 1"]
    assert await any_store.remove_feed("https://gone.example/feed")
    feed, _ = await any_store.add_feed("https://a.example/feed")
    later = NOW + timedelta(seconds=1)
    [new] = await any_store.record_entries(feed.id, [("b", card(2, NOW))], later)
    if any_store.dialect == "sqlite":
        assert new.id == old.id  # the case this guards against
    assert [s.card.title for s in await any_store.latest_cards(5)] == ["Card 2"]


def test_parsed_cards_keep_the_most_recently_used() -> None:
    parsed = ParsedCards(size=2)
    one, two, three = ((n, NOW) for n in (1, 2, 3))
    parsed.put(one, card(1))
    parsed.put(two, card(2))
    assert parsed.get(one) == card(1)  # 1 is now the most recent
    parsed.put(three, card(3))
    assert (parsed.get(one), parsed.get(two), parsed.get(three)) == (card(1), None, card(3))
    assert parsed.get((1, NOW + timedelta(seconds=1))) is None  # same id, another card
    assert len(parsed) == 2


async def test_removing_a_feed_removes_its_cards_and_queue(any_store: SqlStore) -> None:
    await _queued(any_store)
    assert await any_store.remove_feed("https://example.org/feed.xml")
    assert not await any_store.remove_feed("https://example.org/feed.xml")
    assert await any_store.latest_cards(5) == []
    assert (await any_store.outbox_counts())["pending"] == 0


async def test_subscription_upsert_round_trip(any_store: SqlStore) -> None:
    chat = ChatRef("telegram", "-100123")
    saved = await any_store.save_subscription(
        Subscription(
            chat=chat,
            filters=("trade", "chips"),
            mode="daily",
            daily_time="07:30",
            timezone="Europe/Berlin",
            title="Team",
        )
    )
    assert saved.id is not None and saved.created_at is not None
    assert saved.created_at.tzinfo is not None
    changed = await any_store.save_subscription(Subscription(chat=chat, filters=(), mode="instant"))
    assert changed.id == saved.id
    got = await any_store.get_subscription(chat)
    assert got is not None and (got.filters, got.mode, got.active) == ((), "instant", True)
    assert await any_store.get_subscription(ChatRef("slack", "-100123")) is None


async def test_enqueue_ignores_a_pair_already_queued(any_store: SqlStore) -> None:
    (sub,), card_ids = await _queued(any_store)
    assert await any_store.enqueue([(sub, card_ids[0], NOW)], NOW) == 0
    assert (await any_store.outbox_counts())["pending"] == 2


async def test_claim_leases_due_items_once(any_store: SqlStore) -> None:
    await _queued(any_store, n_cards=3)
    first = await any_store.claim_due(NOW, lease_seconds=60, limit=10, platforms=["fake"])
    assert len(first) == 3 and first[0].card.title == "Card 0"
    assert await any_store.claim_due(NOW, lease_seconds=60, limit=10, platforms=["fake"]) == []
    # The worker died: its lease runs out and another worker takes the items.
    await _age_leases(any_store, 61)
    retaken = await any_store.claim_due(NOW, lease_seconds=60, limit=10, platforms=["fake"])
    assert [i.id for i in retaken] == [i.id for i in first]


async def test_claim_respects_not_before_platform_and_active(any_store: SqlStore) -> None:
    (sub,), _ = await _queued(any_store, n_cards=2)
    assert await any_store.claim_due(NOW, lease_seconds=60, limit=10, platforms=["other"]) == []
    assert await any_store.reschedule_pending(sub, NOW + timedelta(hours=1)) == 2
    assert await any_store.claim_due(NOW, lease_seconds=60, limit=10, platforms=["fake"]) == []
    hour = NOW + timedelta(hours=1)
    items = await any_store.claim_due(hour, lease_seconds=60, limit=10, platforms=["fake"])
    await any_store.release([i.id for i in items])
    assert await any_store.deactivate_subscription(sub, "blocked by the user", hour) == 2
    assert await any_store.claim_due(hour, lease_seconds=60, limit=10, platforms=["fake"]) == []
    counts = await any_store.outbox_counts()
    assert (counts["pending"], counts["failed"]) == (0, 2)


async def test_mark_sent_retry_failed(any_store: SqlStore) -> None:
    await _queued(any_store, n_cards=3)
    a, b, c = await any_store.claim_due(NOW, lease_seconds=60, limit=10, platforms=["fake"])
    await any_store.record_sent([SentRecord(a.subscription.id or 0, (a.id,), NOW)])
    await any_store.mark_retry([b.id], NOW + timedelta(seconds=30), "429")
    await any_store.mark_failed([c.id], "rejected", NOW)
    assert await any_store.outbox_counts() == {"pending": 1, "sent": 1, "failed": 1}
    assert await any_store.claim_due(NOW, lease_seconds=60, limit=10, platforms=["fake"]) == []
    assert a.claim_token is not None
    await any_store.release_chats(a.claim_token, NOW)  # the round ends: the chat is free again
    again = await any_store.claim_due(
        NOW + timedelta(seconds=30), lease_seconds=60, limit=10, platforms=["fake"]
    )
    assert [(i.id, i.attempts) for i in again] == [(b.id, 1)]
    await any_store.log_delivery(a.subscription.id, "sent", None, NOW)


async def test_concurrent_claims_never_share_a_chat(any_store: SqlStore) -> None:
    await _queued(any_store, n_cards=20, chats=6)
    results = await asyncio.gather(
        *[
            any_store.claim_due(NOW, lease_seconds=60, limit=100, platforms=["fake"], chats=2)
            for _ in range(6)
        ]
    )
    ids = [item.id for batch in results for item in batch]
    assert len(ids) == len(set(ids)) == 120
    owners = {}
    for batch in results:
        for item in batch:
            assert owners.setdefault(item.subscription.id, item.claim_token) == item.claim_token
    assert len(owners) == 6


async def test_a_chat_is_leased_whole_and_writes_are_fenced(any_store: SqlStore) -> None:
    await _queued(any_store, n_cards=3, chats=2)
    first = await any_store.claim_due(NOW, lease_seconds=60, limit=2, platforms=["fake"])
    # The item limit ends inside the first chat: the second chat is not held idle.
    assert [i.subscription.chat.chat_id for i in first] == ["0", "0"]
    second = await any_store.claim_due(NOW, lease_seconds=120, limit=10, platforms=["fake"])
    assert [i.subscription.chat.chat_id for i in second] == ["1", "1", "1"]
    # The first worker stalls past its lease; another takes the chat over, with a new token.
    await _age_leases(any_store, 61)  # ends the first lease, not the second (120 s)
    later = NOW
    taken = await any_store.claim_due(later, lease_seconds=60, limit=10, platforms=["fake"])
    assert [i.subscription.chat.chat_id for i in taken] == ["0", "0", "0"]
    stale, fresh = first[0], taken[0]
    assert stale.id == fresh.id and stale.claim_token != fresh.claim_token
    # The stale worker's writes change nothing ...
    await any_store.record_sent([SentRecord(0, (stale.id,), later, stale.claim_token)])
    await any_store.mark_retry([first[1].id], later, "x", claim_token=stale.claim_token)
    await any_store.mark_failed([first[1].id], "x", later, claim_token=stale.claim_token)
    assert await any_store.outbox_counts() == {"pending": 6, "sent": 0, "failed": 0}
    # ... the holder's do.
    await any_store.record_sent([SentRecord(0, (fresh.id,), later, fresh.claim_token)])
    assert await any_store.outbox_counts() == {"pending": 5, "sent": 1, "failed": 0}


async def test_a_released_chat_keeps_its_pace_across_workers(any_store: SqlStore) -> None:
    (sub,), _ = await _queued(any_store, n_cards=2)
    items = await any_store.claim_due(NOW, lease_seconds=60, limit=1, platforms=["fake"])
    token = items[0].claim_token
    assert token is not None
    await any_store.record_sent([SentRecord(sub, (items[0].id,), NOW, token)])
    await any_store.release_chats(token, NOW, {("fake", "0"): 3.0})
    assert await any_store.claim_due(NOW, lease_seconds=60, limit=9, platforms=["fake"]) == []
    await _age_leases(any_store, 3.5)
    assert len(await any_store.claim_due(NOW, lease_seconds=60, limit=9, platforms=["fake"])) == 1


async def test_forum_topics_of_one_chat_are_leased_and_paced_together(any_store: SqlStore) -> None:
    """Each topic is a subscription of its own, but Telegram's limit is the group's: the
    chat is leased whole (every topic to one worker), and released at its pace."""
    feed, _ = await any_store.add_feed("https://example.org/feed.xml")
    [stored] = await any_store.record_entries(feed.id, [("e1", card(1))], NOW)
    subs = [
        await any_store.save_subscription(Subscription(chat=ChatRef("fake", "-100", thread)))
        for thread in ("11", "22")
    ]
    other = await any_store.save_subscription(Subscription(chat=ChatRef("fake", "-200")))
    await any_store.enqueue([(s.id or 0, stored.id, NOW) for s in (*subs, other)], NOW)
    claim = {"lease_seconds": 60, "limit": 9, "platforms": ["fake"], "chats": 1}
    first = await any_store.claim_due(NOW, **claim)  # type: ignore[arg-type]
    second = await any_store.claim_due(NOW, **claim)  # type: ignore[arg-type]
    assert await any_store.claim_due(NOW, **claim) == []  # type: ignore[arg-type]
    [group] = [batch for batch in (first, second) if batch[0].subscription.chat.chat_id == "-100"]
    assert sorted(i.subscription.chat.thread for i in group) == ["11", "22"]
    assert len({i.claim_token for i in group}) == 1
    token = group[0].claim_token
    assert token is not None
    records = [SentRecord(i.subscription.id or 0, (i.id,), NOW, token) for i in group]
    await any_store.record_sent(records)
    await any_store.release_chats(token, NOW, {("fake", "-100"): 3.0})
    assert await any_store.outbox_counts() == {"pending": 1, "sent": 2, "failed": 0}


async def test_a_released_group_waits_for_its_pace_on_every_topic(any_store: SqlStore) -> None:
    feed, _ = await any_store.add_feed("https://example.org/feed.xml")
    stored = await any_store.record_entries(feed.id, [(f"e{n}", card(n)) for n in range(2)], NOW)
    subs = [
        await any_store.save_subscription(Subscription(chat=ChatRef("fake", "-100", thread)))
        for thread in ("11", "22")
    ]
    await any_store.enqueue([(subs[0].id or 0, stored[0].id, NOW)], NOW)
    [item] = await any_store.claim_due(NOW, lease_seconds=60, limit=9, platforms=["fake"])
    assert item.claim_token is not None
    await any_store.record_sent([SentRecord(subs[0].id or 0, (item.id,), NOW, item.claim_token)])
    # Meanwhile a card for the other topic; the group was just sent to, from this worker.
    await any_store.enqueue([(subs[1].id or 0, stored[1].id, NOW)], NOW)
    await any_store.release_chats(item.claim_token, NOW, {("fake", "-100"): 3.0})
    assert await any_store.claim_due(NOW, lease_seconds=60, limit=9, platforms=["fake"]) == []
    await _age_leases(any_store, 3.5)
    [later] = await any_store.claim_due(NOW, lease_seconds=60, limit=9, platforms=["fake"])
    assert later.subscription.chat.thread == "22"


async def test_a_dead_workers_chats_and_feeds_are_taken_at_once(any_store: SqlStore) -> None:
    await _queued(any_store, n_cards=1)
    await any_store.heartbeat("dead", host="h", pid=1, roles=("deliver",), now=NOW)
    await any_store.heartbeat("alive", host="h", pid=2, roles=("deliver",), now=NOW)
    claim = dict(lease_seconds=300, limit=9, platforms=["fake"])
    assert await any_store.claim_due(NOW, worker_id="dead", **claim)  # type: ignore[arg-type]
    feed = await any_store.claim_due_feeds(NOW, lease_seconds=300, limit=5, worker_id="dead")
    assert len(feed) == 1
    await _age_leases(any_store, 31, worker="dead")  # its heartbeat stopped 31 s ago
    # The lease has 270 s to go ...
    assert await any_store.claim_due(NOW, worker_id="alive", **claim) == []  # type: ignore[arg-type]
    # ... but its holder is dead (no heartbeat for 15 s).
    dead_before = NOW - timedelta(seconds=15)
    taken = await any_store.claim_due(NOW, worker_id="alive", dead_before=dead_before, **claim)  # type: ignore[arg-type]
    assert len(taken) == 1
    again = await any_store.claim_due_feeds(
        NOW, lease_seconds=300, limit=5, worker_id="alive", dead_before=dead_before
    )
    assert [f.id for f in again] == [feed[0].id]
    assert (
        await any_store.record_poll_failure(
            feed[0].id, error="x", now=NOW, next_poll_at=NOW, claim_token=feed[0].claim_token
        )
        is False
    )


async def test_two_workers_record_an_entry_once(any_store: SqlStore) -> None:
    feed, _ = await any_store.add_feed("https://a.example/feed")
    one, two = await asyncio.gather(
        any_store.record_entries(feed.id, [("e1", card(1))], NOW),
        any_store.record_entries(feed.id, [("e1", card(1))], NOW),
    )
    assert len(one) + len(two) == 1


def test_naive_datetimes_are_refused() -> None:
    from bot.store import UTCDateTime

    with pytest.raises(ValueError, match="timezone-aware"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ("2026-12-02 14:35:29.123456", datetime(2026, 12, 2, 14, 35, 29, 123456, tzinfo=UTC)),
        ("2026-12-02 14:35:29", datetime(2026, 12, 2, 14, 35, 29, tzinfo=UTC)),  # no micros
        # Not what the store writes (naive UTC), but an offset is honoured if one is there.
        ("2026-12-02T16:35:29+02:00", datetime(2026, 12, 2, 14, 35, 29, tzinfo=UTC)),
        (None, None),
    ],
)
def test_sqlite_times_are_read_as_aware_utc(stored: str | None, read: datetime | None) -> None:
    from sqlalchemy.dialects import sqlite

    from bot.store import UTCDateTime

    dialect = sqlite.dialect()
    process = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    assert process is not None
    got = process(stored)
    assert got == read and (got is None or got.utcoffset() == timedelta(0))


async def test_a_claimed_feed_reads_back_every_field(any_store: SqlStore) -> None:
    # Claims read feed rows by position (FEED_COLUMNS): each field must land in its place.
    feed, _ = await any_store.add_feed(
        "https://a.example/feed", name="A", topics=["economy", "tech"], summary_mode="llm"
    )
    await any_store.record_poll_success(
        feed.id, etag='"e1"', last_modified="Mon, 30 Nov 2026 10:00:00 GMT", ttl_minutes=30,
        now=NOW, next_poll_at=NOW - timedelta(minutes=1), body_hash="h1",
    )  # fmt: skip
    [claimed] = await any_store.claim_due_feeds(NOW, lease_seconds=60, limit=5, worker_id="w1")
    listed = await any_store.get_feed(feed.url)
    assert listed is not None and claimed.claim_token is not None
    assert listed._replace(claim_token=claimed.claim_token) == claimed
    assert (claimed.name, claimed.topics, claimed.summary_mode) == ("A", ("economy", "tech"), "llm")
    assert (claimed.etag, claimed.body_hash, claimed.ttl_minutes) == ('"e1"', "h1", 30)
    assert claimed.last_modified == "Mon, 30 Nov 2026 10:00:00 GMT"
    assert (claimed.last_polled_at, claimed.next_poll_at) == (NOW, NOW - timedelta(minutes=1))
    assert claimed.initialized and claimed.error_count == 0 and claimed.origin == "command"
    assert claimed.added_at.utcoffset() == timedelta(0)


@pytest.mark.postgres
async def test_workers_starting_together_upgrade_once() -> None:
    if not POSTGRES_URL:
        pytest.skip("DIGESTBOT_TEST_POSTGRES_URL is not set")
    schema = await create_schema()
    stores = [store_in_schema(schema) for _ in range(3)]
    try:
        # Without the upgrade lock the three CREATE TABLEs block each other: fail, not hang.
        async with asyncio.timeout(30):
            await asyncio.gather(*(s.upgrade() for s in stores))
        assert await stores[0].list_feeds() == []
    finally:
        for s in stores:
            await s.close()
        await drop_schema(schema)


async def test_record_sent_marks_items_and_logs_each_message(any_store: SqlStore) -> None:
    from bot.store import SentRecord, delivery_log_t

    (first, second), _ = await _queued(any_store, n_cards=2, chats=2)
    a, b, c, d = await any_store.claim_due(NOW, lease_seconds=60, limit=10, platforms=["fake"])
    later = NOW + timedelta(seconds=1)
    await any_store.record_sent(
        [SentRecord(first, (a.id, b.id), NOW), SentRecord(second, (c.id,), later)]
    )
    await any_store.record_sent([])
    assert await any_store.outbox_counts() == {"pending": 1, "sent": 3, "failed": 0}
    async with any_store.engine.connect() as conn:
        log = (
            await conn.execute(
                sa.select(
                    delivery_log_t.c.subscription_id,
                    delivery_log_t.c.outcome,
                    delivery_log_t.c.item_count,
                    delivery_log_t.c.at,
                ).order_by(delivery_log_t.c.id)
            )
        ).all()
    assert [tuple(row) for row in log] == [(first, "sent", 2, NOW), (second, "sent", 1, later)]
    # The one left pending is still leased; once the lease runs out it alone comes back.
    await _age_leases(any_store, 61)
    back = await any_store.claim_due(NOW, lease_seconds=60, limit=10, platforms=["fake"])
    assert [(i.id, i.attempts) for i in back] == [(d.id, 0)]


async def test_claim_parses_each_card_once_per_batch(any_store: SqlStore) -> None:
    await _queued(any_store, n_cards=2, chats=3)
    items = await any_store.claim_due(NOW, lease_seconds=60, limit=10, platforms=["fake"])
    assert len(items) == 6
    by_card: dict[int, set[int]] = {}
    for item in items:
        by_card.setdefault(item.card_id, set()).add(id(item.card))
    assert [len(objects) for objects in by_card.values()] == [1, 1]
    assert {item.card.title for item in items} == {"Card 0", "Card 1"}


async def test_move_subscription_takes_its_pending_items_along(any_store: SqlStore) -> None:
    (sub,), _ = await _queued(any_store, n_cards=2)
    moved = await any_store.move_subscription(sub, "-100", NOW)
    assert moved is not None and moved.id == sub and moved.chat == ChatRef("fake", "-100")
    assert await any_store.get_subscription(ChatRef("fake", "0")) is None
    items = await any_store.claim_due(NOW, lease_seconds=60, limit=10, platforms=["fake"])
    assert [i.subscription.chat.chat_id for i in items] == ["-100", "-100"]
    assert await any_store.move_subscription(10_000, "-1", NOW) is None


async def test_move_subscription_onto_a_chat_that_has_its_own(any_store: SqlStore) -> None:
    (old,), card_ids = await _queued(any_store, n_cards=2)
    new = await _subscribe(any_store, "-100", filters=("economy",))
    assert new.id is not None
    await any_store.enqueue([(new.id, card_ids[0], NOW)], NOW)  # already queued there
    moved = await any_store.move_subscription(old, "-100", NOW)
    assert moved is not None and moved.id == new.id and moved.filters == ("economy",)
    gone = await any_store.get_subscription(ChatRef("fake", "0"))
    assert gone is not None and not gone.active
    items = await any_store.claim_due(NOW, lease_seconds=60, limit=10, platforms=["fake"])
    assert sorted(i.card_id for i in items) == card_ids  # each card once, for the new chat
    assert {i.subscription.id for i in items} == {new.id}
    assert (await any_store.outbox_counts())["failed"] == 1


async def test_sqlite_files_use_wal(tmp_path: Path) -> None:
    sql = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'wal.sqlite3'}")
    try:
        async with sql.engine.connect() as conn:
            mode = (await conn.execute(sa.text("PRAGMA journal_mode"))).scalar()
            sync = (await conn.execute(sa.text("PRAGMA synchronous"))).scalar()
            keys = (await conn.execute(sa.text("PRAGMA foreign_keys"))).scalar()
        assert (mode, sync, keys) == ("wal", 1, 1)  # 1 = NORMAL
    finally:
        await sql.close()


async def test_add_feeds_in_bulk_like_add_feed(any_store: SqlStore) -> None:
    await any_store.add_feed("https://old.example/feed", name="Old")
    new = await any_store.add_feeds(
        [
            ("https://old.example/feed", "Renamed", ("trade",)),
            *((f"https://n{n}.example/feed", None, ()) for n in range(1200)),
            ("https://n1.example/feed", None, ()),  # twice in one import
        ]
    )
    assert new == 1200
    old = await any_store.get_feed("https://old.example/feed")
    assert old is not None and old.name == "Renamed" and old.topics == ("trade",)
    assert len(await any_store.list_feeds()) == 1201
    assert await any_store.add_feeds([("https://n5.example/feed", None, ())]) == 0


async def test_old_worker_rows_and_update_ids_are_forgotten(any_store: SqlStore) -> None:
    await any_store.heartbeat("old", host="h", pid=1, roles=("poll",), now=NOW)
    await _age_leases(any_store, 7200, worker="old")  # silent for two hours
    await any_store.heartbeat("new", host="h", pid=2, roles=("poll",), now=NOW)
    assert await any_store.claim_update("telegram", 7, NOW)
    assert not await any_store.claim_update("telegram", 7, NOW)  # answered once
    assert await any_store.forget_dead_workers(NOW, silent_for=3600) == 1
    assert [w.id for w in await any_store.list_workers()] == ["new"]
    await any_store.forget_updates(NOW + timedelta(days=1))
    assert await any_store.claim_update("telegram", 7, NOW + timedelta(days=1))


async def test_poll_successes_in_groups_and_row_by_row_fenced(any_store: SqlStore) -> None:
    """Unchanged validators: written a claim at a time, with the group's latest poll time;
    changed ones row by row; a feed whose lease another worker holds is left alone."""
    from bot.models import PollSuccess

    for n in range(4):
        await any_store.add_feed(f"https://f{n}.example/feed.xml")
    claimed = await any_store.claim_due_feeds(NOW, lease_seconds=300, limit=4)
    assert len(claimed) == 4
    by_url = {f.url: f for f in claimed}
    f0, f1, f2, f3 = (by_url[f"https://f{n}.example/feed.xml"] for n in range(4))
    later = NOW + timedelta(seconds=5)
    polls = [
        PollSuccess(f0.id, None, None, None, NOW, NOW + timedelta(hours=1), f0.claim_token,
                    None, validators_changed=False),
        PollSuccess(f1.id, None, None, None, later, later + timedelta(hours=1), f1.claim_token,
                    None, validators_changed=False),
        PollSuccess(f2.id, '"e2"', "lm", 30, NOW, NOW + timedelta(hours=1), f2.claim_token,
                    "h2"),
        PollSuccess(f3.id, None, None, None, NOW, NOW + timedelta(hours=1), "stolen",
                    None, validators_changed=False),
    ]  # fmt: skip
    await any_store.record_poll_successes(polls)
    feeds = {f.url: f for f in await any_store.list_feeds()}
    g0, g1, g2, g3 = (feeds[f"https://f{n}.example/feed.xml"] for n in range(4))
    assert g0.last_polled_at == g1.last_polled_at == later  # the group's latest
    assert g0.next_poll_at == later + timedelta(hours=1) and g0.initialized
    assert (g2.etag, g2.last_modified, g2.body_hash, g2.ttl_minutes) == ('"e2"', "lm", "h2", 30)
    assert g2.last_polled_at == NOW and g2.claim_token is None
    assert g3.last_polled_at is None and g3.claim_token == f3.claim_token  # fenced: untouched


async def test_a_claimed_feed_reads_as_the_feed_listed(any_store: SqlStore) -> None:
    """A claimed feed carries every field as the store's other reads give it, with topics and
    without."""

    await any_store.add_feed("https://a.example/feed.xml", name="A", topics=["tech", "economy"])
    await any_store.add_feed("https://b.example/feed.xml", summary_mode="llm")
    claimed = await any_store.claim_due_feeds(NOW, lease_seconds=300, limit=5, worker_id="w")
    listed = {f.url: f for f in await any_store.list_feeds()}
    assert len(claimed) == 2
    for feed in claimed:
        assert feed.claim_token is not None
        assert feed == listed[feed.url]
    by_url = {f.url: f for f in claimed}
    assert by_url["https://a.example/feed.xml"].topics == ("tech", "economy")
    assert by_url["https://b.example/feed.xml"].topics == ()
    assert by_url["https://b.example/feed.xml"].summary_mode == "llm"
