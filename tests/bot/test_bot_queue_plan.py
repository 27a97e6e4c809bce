"""Table tests of the poller's pure decisions: which subscriptions a new card is queued for
and when (plan_queue), and which new entries of a poll get cards (split_first_poll)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.models import ChatRef, StoredCard, Subscription
from bot.poller import split_first_poll
from bot.schedule import exponential_backoff, plan_queue
from digests.models import Card, FeedEntry

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _card(title: str, topics: tuple[str, ...] = ()) -> Card:
    return Card(
        title=title,
        url=f"https://x.example/{title}",
        source=None,
        published=None,
        summary=(),
        key_facts=(),
        editors_note=None,
        topics=topics,
        reading_minutes=1,
    )


def _sub(sub_id: int | None, filters: tuple[str, ...] = (), **kw: object) -> Subscription:
    return Subscription(chat=ChatRef("fake", str(sub_id)), filters=filters, id=sub_id, **kw)  # type: ignore[arg-type]


def _topic_match(card: Card, filters: object) -> bool:
    return bool(set(card.topics) & set(filters))  # type: ignore[call-overload]


TRADE = StoredCard(1, 1, _card("trade", ("trade",)), NOW)
SPORT = StoredCard(2, 1, _card("sport", ("sport",)), NOW)


@pytest.mark.parametrize(
    ("subs", "cards", "expected"),
    [
        # everything: every card, due now
        ([_sub(7)], [TRADE, SPORT], [(7, 1, NOW), (7, 2, NOW)]),
        # filters: only matching cards
        ([_sub(7, ("trade",))], [TRADE, SPORT], [(7, 1, NOW)]),
        ([_sub(7, ("culture",))], [TRADE, SPORT], []),
        # inactive and unsaved subscriptions get nothing
        ([_sub(7, active=False), _sub(None)], [TRADE], []),
        # hourly: due at the next full hour; daily: at the next daily time in its zone
        ([_sub(8, mode="hourly")], [TRADE], [(8, 1, datetime(2026, 3, 2, 10, tzinfo=UTC))]),
        (
            [_sub(9, mode="daily", daily_time="08:00", timezone="Europe/Berlin")],
            [TRADE],
            [(9, 1, datetime(2026, 3, 3, 7, tzinfo=UTC))],
        ),
        # no cards, nothing planned
        ([_sub(7)], [], []),
    ],
)
def test_plan_queue(
    subs: list[Subscription], cards: list[StoredCard], expected: list[tuple[int, int, datetime]]
) -> None:
    assert plan_queue(cards, subs, _topic_match, NOW) == expected


def _entry(n: int, hours_ago: int | None) -> FeedEntry:
    published = None if hours_ago is None else NOW - timedelta(hours=hours_ago)
    return FeedEntry(entry_id=f"e{n}", feed_url="f", title=f"t{n}", published=published)


@pytest.mark.parametrize(
    ("ages", "first_poll", "build", "only_seen"),
    [
        # newest first, first poll builds only first_poll_cards
        ([3, 1, 2], True, ["e1", "e2"], ["e0"]),
        # later polls build up to max_new_cards
        ([3, 1, 2], False, ["e1", "e2", "e0"], []),
        # undated entries keep feed order, after dated ones
        ([None, 5, None], False, ["e1", "e0", "e2"], []),
        ([], True, [], []),
    ],
)
def test_split_first_poll(
    ages: list[int | None], first_poll: bool, build: list[str], only_seen: list[str]
) -> None:
    entries = [_entry(n, age) for n, age in enumerate(ages)]
    to_build, seen = split_first_poll(entries, first_poll, first_poll_cards=2, max_new_cards=3)
    assert [e.entry_id for e in to_build] == build
    assert [e.entry_id for e in seen] == only_seen


@pytest.mark.parametrize(
    ("base", "exponent", "cap", "expected"),
    [(5, 0, 3600, 5), (5, 3, 3600, 40), (5, -1, 3600, 5), (600, 100, 21600, 21600)],
)
def test_exponential_backoff(base: float, exponent: int, cap: float, expected: float) -> None:
    assert exponential_backoff(base, exponent, cap) == expected
