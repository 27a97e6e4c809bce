"""The subscription index agrees with the plain matcher (``digests.topics.matches``): on the
matcher's own table of cases, and on random cards and filters (Hypothesis)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.matching import IndexedSubscription, SubscriptionIndex, filters_matcher, keyword_key
from digests.config import CONFIG_DIR
from digests.models import Card
from digests.topics import Taxonomy, matches
from tests.news import test_topics

TAXONOMY = Taxonomy.load(CONFIG_DIR / "topics.toml")


def _sub(sub_id: int, filters: tuple[str, ...]) -> IndexedSubscription:
    return IndexedSubscription(sub_id, "fake", filters, "instant", None, "UTC")


def _agree(card: Card, filter_sets: list[tuple[str, ...]], taxonomy: Taxonomy) -> None:
    expected = [n for n, filters in enumerate(filter_sets) if matches(card, filters, taxonomy)]
    for scan_above in (0, 64):  # both ways of finding candidate keywords
        index = SubscriptionIndex(taxonomy.names(), scan_above=scan_above)
        index.add_all(_sub(n, filters) for n, filters in enumerate(filter_sets))
        assert [s.id for s in index.matching(card)] == expected
    for n, filters in enumerate(filter_sets):
        assert filters_matcher(taxonomy.names(), filters)(card) is (n in expected)


def _matcher_table() -> list[Any]:
    # The very cases of digests.topics.matches' table test, whatever they grow to.
    [mark] = [m for m in test_topics.test_matches.pytestmark if m.name == "parametrize"]
    return list(mark.args[1])


@pytest.mark.parametrize(("filters", "card_fields", "expected"), _matcher_table())
def test_index_follows_the_matcher_table(
    filters: list[str], card_fields: dict[str, object], expected: bool
) -> None:
    card = test_topics._card(**card_fields)
    for scan_above in (0, 64):
        index = SubscriptionIndex(test_topics.SMALL.names(), scan_above=scan_above)
        index.add(_sub(1, tuple(filters)))
        assert bool(index.matching(card)) is expected


def test_add_remove_and_replace() -> None:
    card = test_topics._card()
    index = SubscriptionIndex(test_topics.SMALL.names())
    index.add_all([_sub(1, ("harbour",)), _sub(2, ("sport",)), _sub(3, ()), _sub(4, ("trade",))])
    assert [s.id for s in index.matching(card)] == [1, 3, 4]
    index.remove(1)
    index.add(_sub(4, ("sport",)))  # filters changed
    index.remove(99)  # unknown: nothing happens
    assert [s.id for s in index.matching(card)] == [3]
    assert len(index) == 3


@pytest.mark.parametrize(
    ("keyword", "key"),
    [
        ("company", "compan"),  # the plural may change the last letter: companies
        ("supply chain", "supply"),
        ("five-year plan", "five"),
        ("c++", "c"),
        ("ai", "a"),
        ("x", ""),
        ("Straße", "strass"),
        ("semiconductors", "semico"),
    ],
)
def test_keyword_key(keyword: str, key: str) -> None:
    assert keyword_key(keyword) == key


# Words that exercise the rules: plurals (y/ies, s/es), phrases with hyphens, punctuation
# joiners, taxonomy topic names and keywords, case folding oddities, CJK and Arabic.
VOCAB = [
    "trade", "tariff", "tariffs", "trademark", "economy", "economies", "company", "companies",
    "supply chain", "supply-chain", "five-year plan", "five year plans", "c++", "at&t", "ai",
    "AI", "chip", "chips", "climate", "climate change", "emission", "Emissions", "sport",
    "health", "vaccine", "hospital", "STRASSE", "straße", "ſtraße", "İstanbul", "istanbul",
    "KELVIN", "kelvin", "经济", "经济增长", "貿易", "경기 침체", "경기침체", "التجارة",
    "والتجارة", "торговля", "торгов*", "bank's", "u.s.", "e-commerce", "ecommerce", "2026",
    "covid-19", "gdp", "GDP's", "ally", "allies", "party", "parties", "first_voice",
    "first voice", "#Trade", "Trade!", "harbour",
]  # fmt: skip
WORD = st.sampled_from(VOCAB)
TEXT = st.lists(
    st.one_of(WORD, st.text(min_size=1, max_size=8), st.sampled_from([" ", "-", ", ", "\n"])),
    max_size=12,
).map(" ".join)
CARD = st.builds(
    Card,
    title=TEXT,
    url=st.just("https://example.com/a"),
    source=st.none(),
    published=st.none(),
    summary=st.lists(TEXT, max_size=3).map(tuple),
    key_facts=st.lists(TEXT, max_size=2).map(tuple),
    editors_note=st.none(),
    topics=st.lists(st.one_of(WORD, st.sampled_from(TAXONOMY.names())), max_size=3).map(tuple),
    reading_minutes=st.just(1),
    categories=st.lists(WORD, max_size=2).map(tuple),
)
FILTERS = st.lists(
    st.lists(
        st.one_of(WORD, st.sampled_from(TAXONOMY.names()), st.text(min_size=1, max_size=6)),
        max_size=3,
    ).map(tuple),
    min_size=1,
    max_size=8,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(card=CARD, filter_sets=FILTERS)
@example(  # the plural changes the keyword's last letter
    card=test_topics._card(title="Allies and parties", summary=("Two companies",)),
    filter_sets=[("ally",), ("party",), ("company",), ("compan",)],
)
@example(  # CJK substrings; Arabic "and" attached to the word; Korean with or without a space
    card=test_topics._card(title="经济增长 والتجارة 경기침체", summary=("AI技术",)),
    filter_sets=[("经济",), ("التجارة",), ("경기 침체",), ("ai",), ("技术",)],
)
@example(  # "İ" case-folds to "i" plus a combining dot; a regex ignoring case still finds "i"
    card=test_topics._card(title="x", topics=("İstanbul",)), filter_sets=[("istanbul",)]
)
def test_index_agrees_with_the_plain_matcher(
    card: Card, filter_sets: list[tuple[str, ...]]
) -> None:
    _agree(card, filter_sets, TAXONOMY)


def test_no_combining_mark_above_the_folded_range() -> None:
    import sys
    import unicodedata

    assert not [c for c in range(0x20000, sys.maxunicode + 1) if unicodedata.combining(chr(c))]


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(TEXT, st.text(max_size=40)))
def test_fold_is_casefold_nfkd_without_combining_marks(text: str) -> None:
    import unicodedata

    from bot.matching import _fold

    decomposed = unicodedata.normalize("NFKD", text.casefold())
    assert _fold(text) == "".join(c for c in decomposed if not unicodedata.combining(c))
