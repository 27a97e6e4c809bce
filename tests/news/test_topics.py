"""Topic tagging, the taxonomy file, and the card matcher: tables of cases."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from digests.models import Card
from digests.topics import (
    Taxonomy,
    TaxonomyError,
    _count,
    matches,
    normalize_filter,
    phrase_pattern,
)

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
REQUIRED = [
    "economy",
    "trade",
    "diplomacy",
    "technology",
    "climate",
    "culture",
    "security",
    "politics",
    "health",
    "science",
    "business",
    "sport",
]

SMALL = Taxonomy(
    {
        "trade": ("trade", "tariff", "free trade agreement"),
        "climate": ("climate change", "emission"),
        "health": ("vaccine", "hospital", "company"),
    }
)


def _card(**fields: object) -> Card:
    base: dict[str, object] = {
        "title": "Port traffic picks up",
        "url": "https://example.com/a",
        "source": None,
        "published": None,
        "summary": ("Ships queued outside the harbour on Monday.",),
        "key_facts": ("Volumes rose 12% in March.",),
        "editors_note": None,
        "topics": ("trade",),
        "reading_minutes": 2,
        "categories": ("Opinion",),
    }
    base.update(fields)
    return Card(**base)  # type: ignore[arg-type]


def test_shipped_taxonomy_loads_and_is_complete() -> None:
    taxonomy = Taxonomy.load(REPO / "config" / "topics.toml")
    assert set(REQUIRED) <= set(taxonomy.names())
    for name in taxonomy.names():
        assert 15 <= len(taxonomy.topics[name]) <= 40, name


def test_sample_piece_is_tagged_economy_trade_diplomacy() -> None:
    taxonomy = Taxonomy.load(REPO / "config" / "topics.toml")
    text = (DATA / "cgtn-body.txt").read_text(encoding="utf-8")
    tags = taxonomy.tag(
        title="Elevating the China-ROK Strategic Cooperative Partnership",
        text=text,
        categories=[" Opinion ", "opinion", "First Voice"],
    )
    assert {"economy", "trade", "diplomacy"} <= set(tags)
    assert not {"sport", "health"} & set(tags)
    # Taxonomy topics first, then the feed's categories normalised and deduplicated.
    assert tags[-2:] == ("opinion", "first voice")


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        pytest.param("New tariffs announced", "Nothing else.", ("trade",), id="title-hit-suffices"),
        pytest.param("", "Trade rose.", (), id="one-body-hit-is-not-enough"),
        pytest.param("", "Trade rose. Trade fell again.", ("trade",), id="two-body-hits"),
        pytest.param("", "A trademark and a trader traded.", (), id="whole-words-only"),
        pytest.param(
            "",
            "Climate change worsens. Climate-change policy and emissions cuts.",
            ("climate",),
            id="phrase-hyphen-plural",
        ),
        pytest.param("", "Two companies and a company.", ("health",), id="y-plural"),
        pytest.param(
            "Free Trade Agreement signed",
            "Vaccine makers and hospitals welcomed the trade deal.",
            ("trade", "health"),
            id="title-topics-first",
        ),
    ],
)
def test_tag(title: str, text: str, expected: tuple[str, ...]) -> None:
    assert SMALL.tag(title=title, text=text) == expected


def test_taxonomy_normalises_names_and_is_a_value() -> None:
    a = Taxonomy({"Trade ": ("tariff",)})
    b = Taxonomy({"trade": ("tariff",)})
    assert a.names() == ("trade",)
    assert a == b and hash(a) == hash(b)


def test_long_text_needs_more_evidence() -> None:
    filler = "word " * 1300
    assert SMALL.tag(title="", text=f"trade and trade {filler}") == ()
    assert SMALL.tag(title="", text=f"trade and trade and trade and trade {filler}") == ("trade",)


def test_minor_topic_far_behind_the_main_one_is_dropped() -> None:
    text = "trade " * 12 + "vaccine vaccine"
    assert SMALL.tag(title="", text=text) == ("trade",)


@pytest.mark.parametrize(
    ("filters", "card_fields", "expected"),
    [
        pytest.param([], {}, True, id="no-filters-match-all"),
        pytest.param(["", "#"], {}, True, id="blank-filters-are-no-filters"),
        pytest.param(["trade"], {}, True, id="topic-name"),
        pytest.param(["#Trade"], {}, True, id="hashtag-and-case"),
        pytest.param(["climate"], {}, False, id="topic-not-tagged"),
        pytest.param(
            ["climate"], {"summary": ("Climate talks stalled.",)}, False, id="topic-name-needs-tag"
        ),
        pytest.param(["harbour"], {}, True, id="keyword-in-summary"),
        pytest.param(["HARBOUR"], {}, True, id="keyword-case-insensitive"),
        pytest.param(["harb"], {}, False, id="keyword-whole-word"),
        pytest.param(["port traffic"], {}, True, id="phrase-in-title"),
        pytest.param(["traffic port"], {}, False, id="phrase-order-matters"),
        pytest.param(["march"], {}, True, id="keyword-in-key-facts"),
        pytest.param(["opinion"], {}, True, id="keyword-in-categories"),
        pytest.param(
            ["trade"],
            {"topics": (), "title": "Trademark row heats up", "summary": ()},
            False,
            id="trade-not-trademark",
        ),
        pytest.param(["sport", "harbour"], {}, True, id="any-filter-suffices"),
        pytest.param(["first_voice"], {"topics": ("first voice",)}, True, id="underscore-hashtag"),
    ],
)
def test_matches(filters: list[str], card_fields: dict[str, object], expected: bool) -> None:
    assert matches(_card(**card_fields), filters, SMALL) is expected


def test_matches_without_taxonomy_treats_card_topics_as_topics() -> None:
    assert matches(_card(), ["trade"]) is True
    assert matches(_card(topics=()), ["Ships"]) is True


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("#Trade", "trade"), ("  Climate_Change! ", "climate change"), ("AI,", "ai"), ("#", "")],
)
def test_normalize_filter(raw: str, expected: str) -> None:
    assert normalize_filter(raw) == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("topics = [", "not valid TOML"),
        ("[other]\nx = 1\n", "[topics.<name>]"),
        ("[topics.trade]\nwords = ['a']\n", "needs `keywords"),
        ("[topics.trade]\nkeywords = [1, 2]\n", "needs `keywords"),
        ("[topics.trade]\nkeywords = ['  ']\n", "no keywords"),
    ],
)
def test_bad_taxonomy_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TaxonomyError, match=message.replace("[", r"\[").replace("`", "`")):
        Taxonomy.load(path)


def test_missing_taxonomy_file(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read"):
        Taxonomy.load(tmp_path / "nope.toml")


def _keyword_soup(taxonomy: Taxonomy, seed: int) -> str:
    """Text dense with keywords of several topics, overlapping, in odd cases and spellings."""
    rng = random.Random(seed)
    keywords = [k for words in taxonomy.topics.values() for k in words]
    pieces = []
    for _ in range(300):
        word = rng.choice(keywords)
        variant = rng.choice([word, word.upper(), word.title(), word + "s", word.replace(" ", "-")])
        glue = rng.choice([" ", " ", "-", "", ", ", "\n", " the "])
        pieces.append(variant + glue)
    return "".join(pieces)


@pytest.mark.parametrize("seed", range(5))
def test_tag_counts_what_findall_counts(seed: int) -> None:
    # tag() tries each topic's pattern only where the one-pass scan saw a keyword start; the
    # counts must be those of a findall per topic, overlapping keywords of other topics too.
    taxonomy = Taxonomy.load(REPO / "config" / "topics.toml")
    texts = [_keyword_soup(taxonomy, seed), (DATA / "cgtn-body.txt").read_text(encoding="utf-8")]
    for text in texts:
        starts = taxonomy._starts_in(text)
        for name, words in taxonomy.topics.items():
            pattern = phrase_pattern(words)
            assert _count(pattern, text, starts) == len(pattern.findall(text)), name


def test_tag_with_keywords_shared_and_nested_across_topics() -> None:
    taxonomy = Taxonomy(
        {
            "trade": ("trade", "supply chain"),
            "war": ("trade war", "war"),
            "economy": ("supply chain", "chain"),
        }
    )
    text = (
        "Trade war. Trade-war talk. Supply chains, a supply-chain chain; trade, trade wars, chain."
    )
    # trade 5: "Trade war", "trade wars" and "trade" (not "Trade-war": a hyphen joins words),
    # both supply chains. economy 4: both supply chains and the two lone chains. war 3: the
    # three trade wars, each also counted for trade.
    assert taxonomy.tag(title="", text=text) == ("trade", "economy", "war")
