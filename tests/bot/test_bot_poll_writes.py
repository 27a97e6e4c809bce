"""Group commit of the poll's new-entry writes (bot.poll_writes): many feeds per transaction,
each feed's writes all or nothing, fenced by its own lease, one bad feed failing alone.
On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.models import FeedRecord, PollSuccess
from bot.poll_writes import FeedWrite, GroupWriter, LeaseLost
from bot.ports import QueueTransaction
from bot.store import SqlStore, feeds_t, seen_entries_t
from tests.bot.test_bot_store import any_store  # noqa: F401  (fixture)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


async def claimed_feeds(store: SqlStore, n: int) -> list[FeedRecord]:
    for i in range(n):
        await store.add_feed(f"https://example.org/{i}.xml")
    return await store.claim_due_feeds(NOW + timedelta(days=1), lease_seconds=300, limit=n)


def job(feed: FeedRecord, *, fail: bool = False) -> FeedWrite[int]:
    async def write(tx: QueueTransaction) -> int:
        await tx.record_entries(feed.id, [(f"entry-{feed.id}", None)], NOW)
        if fail:
            raise ValueError("a bug in this feed's handling")
        return 1

    success = PollSuccess(
        feed.id, '"v1"', None, None, NOW, NOW + timedelta(hours=1), feed.claim_token
    )
    return FeedWrite(feed.url, feed.id, feed.claim_token, write, success)


async def seen_feed_ids(store: SqlStore) -> set[int]:
    async with store.engine.connect() as conn:
        return set((await conn.execute(sa.select(seen_entries_t.c.feed_id))).scalars())


async def feed_rows(store: SqlStore) -> dict[int, tuple[str | None, str | None, bool]]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(feeds_t.c.id, feeds_t.c.etag, feeds_t.c.claim_token, feeds_t.c.initialized)
        )
        return {i: (etag, token, bool(init)) for i, etag, token, init in rows}


async def test_many_feeds_commit_in_a_few_transactions(any_store: SqlStore) -> None:  # noqa: F811
    feeds = await claimed_feeds(any_store, 20)
    async with GroupWriter(any_store.transaction, contextlib.nullcontext) as writer:
        results = await asyncio.gather(*(writer.submit(job(f)) for f in feeds))
    assert results == [1] * 20
    assert writer.batches < 20  # handed in together: written together
    assert await seen_feed_ids(any_store) == {f.id for f in feeds}
    # The poll's success went in with the entries: validators kept, lease ended.
    assert set((await feed_rows(any_store)).values()) == {('"v1"', None, True)}


async def test_a_feed_whose_lease_was_taken_writes_nothing_and_the_rest_go_on(
    any_store: SqlStore,  # noqa: F811
) -> None:
    feeds = await claimed_feeds(any_store, 3)
    taken = feeds[1]
    async with any_store.engine.begin() as conn:
        await conn.execute(
            sa.update(feeds_t).where(feeds_t.c.id == taken.id).values(claim_token="other")
        )
    async with GroupWriter(any_store.transaction, contextlib.nullcontext) as writer:
        results = await asyncio.gather(
            *(writer.submit(job(f)) for f in feeds), return_exceptions=True
        )
    assert results[0] == 1 and results[2] == 1
    assert isinstance(results[1], LeaseLost)
    assert await seen_feed_ids(any_store) == {feeds[0].id, feeds[2].id}
    rows = await feed_rows(any_store)
    assert rows[taken.id] == (None, "other", False)  # the new holder's lease stands
    assert rows[feeds[0].id] == ('"v1"', None, True)


async def test_one_failing_feed_fails_alone_and_writes_nothing(any_store: SqlStore) -> None:  # noqa: F811
    feeds = await claimed_feeds(any_store, 4)
    bad = feeds[2]
    async with GroupWriter(any_store.transaction, contextlib.nullcontext) as writer:
        results = await asyncio.gather(
            *(writer.submit(job(f, fail=f is bad)) for f in feeds), return_exceptions=True
        )
    assert isinstance(results[2], ValueError)
    assert [r for i, r in enumerate(results) if i != 2] == [1, 1, 1]
    # The bad feed's entries rolled back with it: it stays leased and is polled again later.
    assert await seen_feed_ids(any_store) == {f.id for f in feeds if f is not bad}
    assert (await feed_rows(any_store))[bad.id][1] == bad.claim_token


async def test_writes_handed_in_before_the_end_are_committed(any_store: SqlStore) -> None:  # noqa: F811
    feeds = await claimed_feeds(any_store, 5)
    async with GroupWriter(any_store.transaction, contextlib.nullcontext, max_batch=2) as writer:
        pending = [asyncio.ensure_future(writer.submit(job(f))) for f in feeds]
        await asyncio.sleep(0)
    assert [await p for p in pending] == [1] * 5
    assert writer.batches >= 3  # max_batch bounds a transaction
    assert await seen_feed_ids(any_store) == {f.id for f in feeds}
