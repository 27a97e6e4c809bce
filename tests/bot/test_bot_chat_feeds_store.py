"""Feeds added from chats: the ownership table on SQLite and PostgreSQL, and the pure rule
that a chat feed's cards are planned for its owners only (table test)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.matching import IndexedSubscription, SubscriptionIndex
from bot.models import ChatRef, StoredCard, Subscription
from bot.schedule import plan_queue_indexed
from bot.store import SqlStore
from digests.models import Card
from tests.bot.test_bot_store import any_store, card  # noqa: F401  (fixture)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
URL = "https://news.example/feed.xml"


def _indexed(sub_id: int, filters: tuple[str, ...] = ()) -> IndexedSubscription:
    return IndexedSubscription(sub_id, "telegram", filters, "instant", None, "UTC")


def _card(title: str, topics: tuple[str, ...]) -> Card:
    return Card(
        title=title, url=f"https://x.example/{title}", source=None, published=None,
        summary=(), key_facts=(), editors_note=None, topics=topics, reading_minutes=1,
    )  # fmt: skip


TRADE = StoredCard(1, 9, _card("trade", ("trade",)), NOW)


@pytest.mark.parametrize(
    ("subs", "audience", "expected"),
    [
        # an operator's feed (no audience): every matching subscription
        ([_indexed(1), _indexed(2, ("trade",)), _indexed(3, ("sport",))], None, [1, 2]),
        # a chat feed: its matching owners only
        ([_indexed(1), _indexed(2, ("trade",)), _indexed(3, ("sport",))], {2}, [2]),
        # an owner whose filters the card does not match gets nothing
        ([_indexed(1), _indexed(3, ("sport",))], {3}, []),
        # several owners share one feed
        ([_indexed(1), _indexed(2), _indexed(4)], {1, 4}, [1, 4]),
        # a chat feed with no owners left reaches nobody
        ([_indexed(1), _indexed(2)], set(), []),
    ],
)
def test_chat_feed_cards_reach_their_owners_only(
    subs: list[IndexedSubscription], audience: set[int] | None, expected: list[int]
) -> None:
    index = SubscriptionIndex(("trade", "sport"))
    index.add_all(subs)
    rows = plan_queue_indexed([TRADE], index.matching, NOW, audience=audience)
    assert [sub_id for sub_id, _, _ in rows] == expected


async def _sub(store: SqlStore, chat_id: str) -> int:
    saved = await store.save_subscription(Subscription(chat=ChatRef("telegram", chat_id)))
    assert saved.id is not None
    return saved.id


async def test_one_feed_many_owners_and_the_last_owner_stops_it(any_store: SqlStore) -> None:  # noqa: F811
    a, b = await _sub(any_store, "1"), await _sub(any_store, "2")
    first = await any_store.add_chat_feed(a, URL, name="News", limit=50, now=NOW)
    assert (first.outcome, first.owned) == ("added", 1)
    assert first.feed is not None and first.feed.origin == "chat"
    again = await any_store.add_chat_feed(a, URL, name="News", limit=50, now=NOW)
    assert again.outcome == "already"
    shared = await any_store.add_chat_feed(b, URL, name=None, limit=50, now=NOW)
    assert shared.outcome == "shared" and shared.feed is not None
    assert shared.feed.id == first.feed.id  # one row: polled once for both
    assert len(await any_store.list_feeds()) == 1
    async with any_store.transaction() as tx:
        assert await tx.feed_audience(first.feed.id) == {a, b}
    assert await any_store.remove_chat_feed(a, first.feed.id) == (True, False)
    assert await any_store.remove_chat_feed(a, first.feed.id) == (False, False)
    assert [f.url for f in await any_store.chat_feeds(b)] == [URL]
    assert await any_store.remove_chat_feed(b, first.feed.id) == (True, True)
    assert await any_store.list_feeds() == []


async def test_operator_feeds_stay_and_reach_everyone(any_store: SqlStore) -> None:  # noqa: F811
    a = await _sub(any_store, "1")
    feed, _ = await any_store.add_feed(URL, name="Operator", origin="file")
    added = await any_store.add_chat_feed(a, URL, name="Mine", limit=50, now=NOW)
    assert added.outcome == "shared"
    async with any_store.transaction() as tx:
        assert await tx.feed_audience(feed.id) is None  # the operator's: everyone
    assert await any_store.remove_chat_feed(a, feed.id) == (True, False)
    assert [f.url for f in await any_store.list_feeds()] == [URL]


async def test_operator_adopts_and_leaves_chat_feeds(any_store: SqlStore) -> None:  # noqa: F811
    a = await _sub(any_store, "1")
    added = await any_store.add_chat_feed(a, URL, name=None, limit=50, now=NOW)
    assert added.feed is not None
    adopted, created = await any_store.add_feed(URL)
    assert not created and adopted.origin == "command"
    # The operator drops it: the chat that added it keeps it, for itself alone.
    assert await any_store.remove_operator_feed(URL) == "kept for chats"
    kept = await any_store.get_feed(URL)
    assert kept is not None and kept.origin == "chat"
    await any_store.remove_chat_feed(a, added.feed.id)
    assert await any_store.remove_operator_feed(URL) is None


async def test_per_chat_limit(any_store: SqlStore) -> None:  # noqa: F811
    a = await _sub(any_store, "1")
    for n in range(2):
        assert (
            await any_store.add_chat_feed(a, f"{URL}?{n}", name=None, limit=2, now=NOW)
        ).outcome == "added"
    over = await any_store.add_chat_feed(a, f"{URL}?x", name=None, limit=2, now=NOW)
    assert (over.outcome, over.owned, over.feed) == ("limit", 2, None)
    assert len(await any_store.list_feeds()) == 2


async def test_digest_shows_chat_feed_cards_to_their_owners_only(any_store: SqlStore) -> None:  # noqa: F811
    a, b = await _sub(any_store, "1"), await _sub(any_store, "2")
    public, _ = await any_store.add_feed("https://public.example/feed")
    mine = await any_store.add_chat_feed(a, URL, name=None, limit=50, now=NOW)
    assert mine.feed is not None
    async with any_store.transaction() as tx:
        await tx.record_entries(public.id, [("p", card(1))], NOW)
        await tx.record_entries(mine.feed.id, [("m", card(2))], NOW)
    titles = lambda cards: sorted(c.card.title for c in cards)  # noqa: E731
    assert titles(await any_store.latest_cards(10, viewer=a)) == ["Card 1", "Card 2"]
    assert titles(await any_store.latest_cards(10, viewer=b)) == ["Card 1"]
    assert titles(await any_store.latest_cards(10)) == ["Card 1"]


async def test_a_chat_feed_is_polled_only_while_an_owner_is_subscribed(
    any_store: SqlStore,  # noqa: F811
) -> None:
    """A chat that blocked the bot (or unsubscribed) reads nothing from its feed, so the feed is
    not fetched for it; it is due again as soon as an owner subscribes again. The operator's
    feeds are polled whoever reads them."""
    a, b = await _sub(any_store, "1"), await _sub(any_store, "2")
    added = await any_store.add_chat_feed(a, URL, name=None, limit=50, now=NOW)
    assert added.feed is not None
    await any_store.add_chat_feed(b, URL, name=None, limit=50, now=NOW)
    operator, _ = await any_store.add_feed("https://operator.example/feed.xml")

    async def claimed(minute: int) -> set[int]:
        # Leases of 1 ms, then a pause: on PostgreSQL they run on the database's clock.
        when = datetime(2026, 3, 2, 9, minute, tzinfo=UTC)
        feeds = await any_store.claim_due_feeds(when, lease_seconds=0.001, limit=10)
        await asyncio.sleep(0.05)
        return {f.id for f in feeds}

    assert await claimed(0) == {added.feed.id, operator.id}
    await any_store.deactivate_subscription(a, "blocked", NOW)
    assert added.feed.id in await claimed(1)  # b still reads it
    await any_store.deactivate_subscription(b, "blocked", NOW)
    assert await claimed(2) == {operator.id}
    again = await any_store.get_subscription(ChatRef("telegram", "2"))
    assert again is not None
    await any_store.save_subscription(replace(again, active=True))
    assert added.feed.id in await claimed(3)
