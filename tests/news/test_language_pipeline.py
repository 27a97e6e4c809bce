"""Where a card's language comes from (page, feed, text) and what it changes on the way."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from digests.cards import build_card, link_card
from digests.config import PipelineConfig
from digests.errors import ExtractionError
from digests.extract import article_from_entry, extract_article
from digests.feeds import parse_feed
from digests.models import Card, FeedEntry
from digests.topics import Taxonomy

CONFIG = PipelineConfig()
ZH_PARAGRAPH = (
    "今年以来，全球贸易面临关税上升和需求放缓的双重压力。在这样的背景下，中国和韩国之间的"
    "经贸往来却表现出相当的韧性。据中国海关统计，2024年中韩双边贸易额达到2,328亿美元，"
    "同比增长5.6%。中国已连续21年保持韩国最大贸易伙伴的地位。"
)


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load(CONFIG.topics_path)


def page(body: str, lang: str = "", meta: str = "") -> str:
    lang_attr = f' lang="{lang}"' if lang else ""
    return (
        f"<!DOCTYPE html><html{lang_attr}><head><meta charset='utf-8'><title>标题</title>{meta}"
        f"</head><body><article><h1>标题</h1>{body}</article></body></html>"
    )


def test_a_short_chinese_article_is_measured_in_characters() -> None:
    article = extract_article(page(f"<p>{ZH_PARAGRAPH}</p>", "zh-CN"), "https://x.example/a")
    assert article.language == "zh" and "2,328亿美元" in article.text
    with pytest.raises(ExtractionError, match="only 10 characters of text"):
        extract_article(page("<p>今天天气很好，我们出去。</p>", "zh"), "https://x.example/b")


def test_a_wrong_template_language_gives_way_to_the_text() -> None:
    article = extract_article(page(f"<p>{ZH_PARAGRAPH}</p>", "en"), "https://x.example/a")
    assert article.language == "zh"


def test_og_locale_and_detection_when_html_says_nothing() -> None:
    meta = '<meta property="og:locale" content="zh_CN">'
    assert (
        extract_article(page(f"<p>{ZH_PARAGRAPH}</p>", meta=meta), "https://x/a").language == "zh"
    )
    assert extract_article(page(f"<p>{ZH_PARAGRAPH}</p>"), "https://x/a").language == "zh"


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>观察</title><link>https://x.example/</link>
<language>zh-cn</language>
<item><title>中韩经贸合作</title><link>https://x.example/1</link><guid>1</guid>
<description><![CDATA[<p>{body}</p>]]></description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de"><title>Blick</title><id>urn:x</id>
<updated>2025-11-06T07:30:00Z</updated>
<entry><title>Schuldenbremse</title><id>urn:x:1</id><updated>2025-11-06T07:30:00Z</updated>
<link href="https://x.example/1"/><content type="html">&lt;p&gt;Text.&lt;/p&gt;</content></entry>
</feed>"""


def test_the_feed_language_reaches_the_entry_and_the_card(taxonomy: Taxonomy) -> None:
    (entry,) = parse_feed(RSS.format(body=ZH_PARAGRAPH).encode(), "https://x.example/f").entries
    assert entry.language == "zh-cn"
    article = article_from_entry(entry)
    assert article.language == "zh"
    card = build_card(article, taxonomy=taxonomy, config=CONFIG, entry=entry)
    assert card.language == "zh" and card.reading_minutes == 1
    assert link_card(entry, taxonomy=taxonomy, config=CONFIG).language == "zh"
    (atom_entry,) = parse_feed(ATOM.encode(), "https://x.example/atom").entries
    assert atom_entry.language == "de"


def test_json_feed_language() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Le Regard",
        "language": "fr-FR",
        "items": [
            {"id": "1", "url": "https://x.example/1", "content_text": "Texte."},
            {"id": "2", "url": "https://x.example/2", "content_text": "Text.", "language": "en"},
        ],
    }
    entries = parse_feed(json.dumps(doc).encode(), "https://x.example/feed.json").entries
    assert [e.language for e in entries] == ["fr-FR", "en"]


def test_card_language_round_trip_and_older_cards() -> None:
    card = Card(
        title="T",
        url="https://x.example/",
        source=None,
        published=datetime(2025, 11, 3, tzinfo=UTC),
        summary=("S.",),
        key_facts=(),
        editors_note=None,
        topics=(),
        reading_minutes=1,
        language="ja",
    )
    assert Card.from_dict(card.to_dict()) == card
    older = card.to_dict()
    del older["language"]  # stored before cards had a language
    assert Card.from_dict(older).language is None


def test_reading_time_of_a_long_cjk_article(taxonomy: Taxonomy) -> None:
    entry = FeedEntry(entry_id="1", feed_url="https://x/f", title="标题", language="zh")
    # 12 different paragraphs, ~1,300 characters: 3 minutes at 500 a minute
    text = "\n\n".join(f"第{i}部分。{ZH_PARAGRAPH}" for i in range(12))
    article = article_from_entry(
        FeedEntry(
            entry_id="1",
            feed_url="https://x/f",
            title="标题",
            content_html="".join(f"<p>{p}</p>" for p in text.split("\n\n")),
            language="zh",
        )
    )
    card = build_card(article, taxonomy=taxonomy, config=CONFIG, entry=entry)
    assert card.reading_minutes == 3
