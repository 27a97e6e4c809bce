"""build_card: a pure function from Article (+ feed entry) to Card."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from digests.cards import (
    build_card,
    card_topics,
    link_card,
    person_name,
    reading_minutes,
    site_name,
)
from digests.config import PipelineConfig
from digests.facts import stands_alone
from digests.models import Article, FeedEntry
from digests.topics import Taxonomy

TEXT = "\n\n".join(
    [
        "Chinese President Xi Jinping's state visit to the Republic of Korea culminated in talks "
        "with ROK President Lee Jae-myung on Saturday, with both pledging to strengthen ties.",
        "The relationship between China and the ROK is one of the most consequential in "
        "Northeast Asia, woven with threads of economic interdependence and cultural exchange.",
        "In 2024, their two-way trade reached 328.08 billion U.S. dollars, up by 5.6 percent year "
        "on year. China has been the ROK's largest trading partner for 21 years in a row, and "
        "the ROK is China's second largest trading partner.",
        "Since the China-ROK Free Trade Agreement entered into force in 2015, trade and "
        "investment between the two countries has continuously grown.",
        "Elevating this partnership is a strategic imperative for both nations and the region, "
        "from supply chain partnerships to upgrading the bilateral free trade agreement.",
    ]
)

ARTICLE = Article(
    url="https://news.cgtn.com/news/elevating.html",
    title="Elevating the China-ROK Strategic Cooperative Partnership",
    text=TEXT,
    source="CGTN",
    editors_note="CGTN's First Voice provides instant commentary on breaking stories.",
    categories=("Opinion",),
)

ENTRY = FeedEntry(
    entry_id="guid-1",
    feed_url="https://www.cgtn.com/subscribe/rss/section/opinions.xml",
    title="Elevating the China-ROK partnership",
    link="https://news.cgtn.com/news/elevating.html",
    published=datetime(2025, 11, 1, 8, tzinfo=UTC),
    author="CGTN Opinion",
    categories=("opinion", "Asia Pacific"),
)


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load(PipelineConfig().topics_path)


def test_card_from_article_and_entry(taxonomy: Taxonomy) -> None:
    card = build_card(ARTICLE, taxonomy=taxonomy, config=PipelineConfig(), entry=ENTRY)
    assert card.title == ARTICLE.title and card.url == ARTICLE.url
    assert card.source == "CGTN"
    assert card.editors_note == ARTICLE.editors_note
    assert 2 <= len(card.summary) <= 3
    assert len(" ".join(card.summary).split()) <= 75
    assert any("328.08 billion" in fact for fact in card.key_facts)
    assert any("21 years" in fact for fact in card.key_facts)
    assert not set(card.summary) & set(card.key_facts)
    assert {"economy", "trade"} <= set(card.topics)
    # Feed and page categories merged once each (case-insensitively); the card shows only
    # taxonomy topics, so they stay categories (keyword filters still find them there).
    assert card.categories == ("Opinion", "Asia Pacific")
    assert not {"opinion", "asia pacific"} & set(card.topics)
    assert len(card.topics) == len({t.casefold() for t in card.topics})
    assert card.entry_id == "guid-1" and card.feed_url == ENTRY.feed_url
    assert card.published == ENTRY.published  # the page gave none
    assert card.author == "CGTN Opinion"
    assert card.text == TEXT
    assert card.reading_minutes == 1


def test_page_metadata_wins_over_the_entry(taxonomy: Taxonomy) -> None:
    page_date = datetime(2025, 11, 2, tzinfo=UTC)
    article = Article(
        url=ARTICLE.url, title="Page title", text=TEXT, published=page_date, author="Page Author"
    )
    card = build_card(article, taxonomy=taxonomy, config=PipelineConfig(), entry=ENTRY)
    assert (card.title, card.published, card.author) == ("Page title", page_date, "Page Author")


def test_without_entry(taxonomy: Taxonomy) -> None:
    card = build_card(ARTICLE, taxonomy=taxonomy, config=PipelineConfig())
    assert card.entry_id is None and card.feed_url is None and card.published is None
    assert card.categories == ("Opinion",)


def test_config_limits_are_applied(taxonomy: Taxonomy) -> None:
    config = PipelineConfig(
        max_summary_words=30, max_summary_sentences=1, max_key_facts=1, words_per_minute=20
    )
    card = build_card(ARTICLE, taxonomy=taxonomy, config=config)
    assert len(card.summary) == 1 and len(card.summary[0].split()) <= 30
    assert len(card.key_facts) <= 1
    assert card.reading_minutes == reading_minutes(TEXT, 20) > 1


@pytest.mark.parametrize(
    ("words", "per_minute", "minutes"),
    [(0, 230, 1), (1, 230, 1), (230, 230, 1), (231, 230, 2), (1000, 230, 5), (100, 0, 100)],
)
def test_reading_minutes(words: int, per_minute: int, minutes: int) -> None:
    assert reading_minutes(" ".join(["word"] * words), per_minute) == minutes


def test_link_card_for_an_unreadable_piece(taxonomy: Taxonomy) -> None:
    entry = FeedEntry(
        entry_id="e1",
        feed_url="https://example.org/feed.xml",
        title="Tariffs & trade: a <b>bold</b> bet",
        link="https://example.org/a",
        published=datetime(2026, 3, 1, tzinfo=UTC),
        summary_html=(
            "<p>Exporters face new tariffs on trade with the bloc. More trade talks follow.</p>"
        ),
        categories=("Opinion",),
    )
    card = link_card(entry, taxonomy=taxonomy, config=PipelineConfig())
    assert (card.title, card.url, card.entry_id) == (entry.title, entry.link, "e1")
    assert card.summary and card.summary[0].startswith("Exporters face new tariffs")
    assert card.key_facts == () and card.editors_note is None and card.reading_minutes == 0
    assert card.topics == ("trade",) and card.categories == ("Opinion",)

    bare = link_card(
        FeedEntry(entry_id="e2", feed_url="f", title="T", link="https://example.org/b"),
        taxonomy=taxonomy,
        config=PipelineConfig(),
    )
    assert bare.summary == () and bare.text == ""


def test_renderers_leave_out_an_unknown_reading_time(taxonomy: Taxonomy) -> None:
    from digests.render import slack, telegram, text

    entry = FeedEntry(entry_id="e", feed_url="f", title="T", link="https://example.org/b")
    card = link_card(entry, taxonomy=taxonomy, config=PipelineConfig())
    assert "min read" not in telegram.render_card(card)
    assert "min read" not in text.render_card(card)
    assert "min read" not in str(slack.render_card(card).blocks)
    assert "&lt;b&gt;" in telegram.render_card(
        link_card(
            FeedEntry(entry_id="x", feed_url="f", title="<b>x</b>", link="https://e.org/"),
            taxonomy=taxonomy,
            config=PipelineConfig(),
        )
    )


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("CGTN", "CGTN"),
        ("The Harbour Ledger", "The Harbour Ledger"),
        ("127.0.0.1:43109", None),
        ("localhost:8080", None),
        ("[::1]:8080", None),
        ("www.example.com", None),
        ("news.example.org.", None),
        (None, None),
        ("", None),
    ],
)
def test_a_bare_host_is_never_the_source(source: str | None, shown: str | None) -> None:
    assert site_name(source) == shown


def test_card_topics_are_taxonomy_topics_only(taxonomy: Taxonomy) -> None:
    topics = card_topics(("trade", "opinions"), ("Economy", "First Voice", "China"), taxonomy)
    assert topics == ("trade", "economy")


@pytest.mark.parametrize(
    ("fact", "alone"),
    [
        ("In 2024, two-way trade reached 328.08 billion U.S. dollars.", True),
        ("Exports rose five percent last year.", True),
        ("2024年，双边贸易额达到2.63万亿元。", True),
        ("出口增长了百分之五。", True),
        ("The small ports have shown they can be that second door.", False),  # no figure
        ("It needs passing loops on the rail spurs and a 2 km bypass road.", False),  # "It"?
        ("This is the 3rd rise in a row.", False),
        ("Dies ist ein Rekord von 5,6 %.", False),
        ("Parents on Fridays pay for childcare, which hits families with the least money.", False),
    ],
)
def test_a_key_fact_carries_a_figure_and_opens_on_no_pronoun(fact: str, alone: bool) -> None:
    assert stands_alone(fact) is alone


@pytest.mark.parametrize(
    ("author", "expected"),
    [
        ("Maren Holt", "Maren Holt"),
        ("First Voice", None),  # the column the feed also files the piece under
        ("first  voice", None),
        ("CGTN", None),  # the site
        ("opinions@cgtn.com", None),
        ("https://example.org/staff", None),
        ("---", None),
        (None, None),
    ],
)
def test_the_author_is_a_person_or_nothing(author: str | None, expected: str | None) -> None:
    assert person_name(author, ("Opinions", "First Voice", "CGTN")) == expected
