"""The subscription index updated in place equals the index rebuilt from scratch, and both agree
with the plain matcher: on random sequences of subscribe / change / unsubscribe, in memory
(Hypothesis) and through the store, with writes by this process and by another one."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.matching import IndexedSubscription, SubscriptionIndex
from bot.models import ChatRef, Subscription
from bot.store import SqlStore
from bot.subscription_sync import LiveIndex
from digests.models import Card
from digests.topics import matches
from tests.bot.test_bot_matching import CARD, TAXONOMY, VOCAB, WORD

NAMES = TAXONOMY.names()
FILTERS = st.lists(st.one_of(WORD, st.sampled_from(NAMES)), max_size=3).map(tuple)
# (subscription id, filters) adds or replaces; (subscription id, None) removes.
OPERATIONS = st.lists(st.tuples(st.integers(0, 12), st.none() | FILTERS), max_size=40)


def _sub(sub_id: int, filters: tuple[str, ...]) -> IndexedSubscription:
    return IndexedSubscription(sub_id, "fake", filters, "instant", None, "UTC")


def _ids(index: SubscriptionIndex, card: Card) -> list[int]:
    return [s.id for s in index.matching(card)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=OPERATIONS, cards=st.lists(CARD, min_size=1, max_size=3))
def test_updated_in_place_equals_rebuilt_equals_plain_matcher(
    operations: list[tuple[int, tuple[str, ...] | None]], cards: list[Card]
) -> None:
    live = SubscriptionIndex(NAMES)
    state: dict[int, tuple[str, ...]] = {}
    for step, (sub_id, filters) in enumerate(operations):
        if filters is None:
            live.remove(sub_id)
            state.pop(sub_id, None)
        else:
            live.add(_sub(sub_id, filters))
            state[sub_id] = filters
        if step % 7 == 0:  # match now and then along the way: caches must not go stale
            live.matching(cards[0])
    rebuilt = SubscriptionIndex(NAMES)
    rebuilt.add_all(_sub(i, f) for i, f in sorted(state.items()))
    assert len(live) == len(rebuilt) == len(state)
    for card in cards:
        plain = [i for i, f in sorted(state.items()) if matches(card, f, TAXONOMY)]
        assert _ids(live, card) == _ids(rebuilt, card) == plain


def _cards(rng: random.Random) -> list[Card]:
    return [
        Card(
            title=" ".join(rng.sample(VOCAB, 4)),
            url="https://example.com/a",
            source=None,
            published=None,
            summary=(" ".join(rng.sample(VOCAB, 6)),),
            key_facts=(),
            editors_note=None,
            topics=tuple(rng.sample(NAMES, 1)),
            reading_minutes=1,
        )
        for _ in range(6)
    ]


async def test_store_changes_reach_the_index_in_place(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    here, other = SqlStore.from_url(url), SqlStore.from_url(url)  # other: another process
    await here.upgrade()
    try:
        live = LiveIndex(here, NAMES)
        rng = random.Random(15)
        old = datetime(2020, 1, 1, tzinfo=UTC)  # a clock far behind: only the id log sees it
        for step in range(120):
            chat = ChatRef("fake", str(rng.randrange(15)))
            writer = here if rng.random() < 0.7 else other
            action = rng.random()
            if action < 0.6:
                filters = tuple(rng.sample([*VOCAB[:20], *NAMES[:5]], rng.randrange(3)))
                await writer.save_subscription(Subscription(chat, filters=filters))
            elif (sub := await writer.get_subscription(chat)) is not None and sub.id:
                now = old if writer is here else datetime.now(UTC)
                await writer.deactivate_subscription(sub.id, "unsubscribed", now, cancel=True)
            if step % 10 == 9:
                index = await live.current()
                rebuilt = SubscriptionIndex(NAMES)
                rebuilt.add_all(await here.indexed_subscriptions())
                assert len(index) == len(rebuilt)
                for card in _cards(rng):
                    assert _ids(index, card) == _ids(rebuilt, card)
        assert live.rebuilds == 1 and live.updates > 5  # kept up to date in place
    finally:
        await here.close()
        await other.close()


async def test_a_change_no_timestamp_shows_is_caught_by_the_count(tmp_path: Path) -> None:
    """Another process deactivates a subscription with a clock far behind: the id log cannot
    see it (another process) nor the timestamps (too old); the active count can."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    here, other = SqlStore.from_url(url), SqlStore.from_url(url)
    await here.upgrade()
    try:
        now = [0.0]
        live = LiveIndex(here, NAMES, check_every=60, monotonic=lambda: now[0])
        for n in range(3):
            await here.save_subscription(Subscription(ChatRef("fake", str(n)), filters=("trade",)))
        assert len(await live.current()) == 3
        gone = await other.get_subscription(ChatRef("fake", "0"))
        assert gone is not None and gone.id is not None
        await other.deactivate_subscription(gone.id, "x", datetime(2020, 1, 1, tzinfo=UTC))
        await here.save_subscription(Subscription(ChatRef("fake", "9"), filters=("trade",)))
        assert len(await live.current()) == 4  # not checked yet: the missed change stays
        now[0] = 61.0
        await here.save_subscription(Subscription(ChatRef("fake", "8"), filters=("trade",)))
        index = await live.current()
        assert len(index) == 4 and gone.id not in {s.id for s in index.matching(_trade())}
        assert live.rebuilds == 2
    finally:
        await here.close()
        await other.close()


def _trade() -> Card:
    return Card(
        title="trade",
        url="https://example.com/a",
        source=None,
        published=None,
        summary=(),
        key_facts=(),
        editors_note=None,
        topics=(),
        reading_minutes=1,
    )
