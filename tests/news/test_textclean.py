"""Text cleaned at the boundary: no control, bidi-override or invisible character reaches a card
or a chat message, and text is NFC."""

from __future__ import annotations

import json
import re
import unicodedata

import pytest

from digests.cards import build_card, link_card
from digests.config import CONFIG_DIR, PipelineConfig
from digests.extract import article_from_entry
from digests.feeds import parse_feed
from digests.models import Card
from digests.render import slack, telegram, text
from digests.textclean import clean_block, clean_card, clean_line, is_clean
from digests.topics import Taxonomy

# Anything a chat must never show: C0 (but newline and tab in blocks), DEL, C1, bidi
# embeddings/overrides/isolates, zero-width space, word joiner, BOM, lone surrogates.
FORBIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff\ud800-\udfff]"
)


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        ("Plain title", "Plain title"),
        ("\x1b[31mRed\x1b[0m alert", "[31mRed[0m alert"),
        ("NUL\x00byte", "NULbyte"),
        ("bell\x07 and DEL\x7f and C1\x9b", "bell and DEL and C1"),
        ("txt.\u202eexe", "txt.exe"),
        ("isolate \u2066x\u2069", "isolate x"),
        ("zero\u200bwidth\u2060joiner\ufeff", "zerowidthjoiner"),
        ("soft\u00adhyphen", "softhyphen"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("e\u0301te\u0301", "été"),  # NFC
        ("two\nlines\tand\r\nCRLF", "two lines and CRLF"),
        ("  spaced   out  ", "spaced out"),
        ("family 👨\u200d👩\u200d👧 stays", "family 👨\u200d👩\u200d👧 stays"),  # ZWJ kept
        ("می\u200cخواهم", "می\u200cخواهم"),  # ZWNJ kept (Persian)
        ("\u200fمرحبا", "\u200fمرحبا"),  # RLM kept
    ],
)
def test_clean_line(raw: str, line: str) -> None:
    assert clean_line(raw) == line
    assert clean_line(line) == line


def test_clean_block_keeps_paragraphs_and_tabs() -> None:
    raw = "First\x00 para.\r\n\r\n\r\n\r\nSecond\tpara\x1b.\u2028Third."
    assert clean_block(raw) == "First para.\n\nSecond\tpara.\nThird."
    assert is_clean(clean_block(raw), block=True)


DIRTY_FEED = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Hostile &#27;feed</title><link>https://example.org/</link>
<item>
  <title>Breaking&#27;[2J&#0; news &#x202E;gnp.exe&#x200B; e&#x301;te&#x301;</title>
  <link>https://example.org/a</link>
  <guid>a</guid>
  <author>Jane &#27;Doe</author>
  <category>trade&#27;</category>
  <description>&lt;p&gt;In 2024 exports rose 5 percent&#7; to 12 billion dollars.&lt;/p&gt;
  &lt;p&gt;Officials&#x202E; said the rise would last.&lt;/p&gt;</description>
</item></channel></rss>"""


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load(CONFIG_DIR / "topics.toml")


def _all_text(card: Card) -> str:
    return json.dumps(card.to_dict(), ensure_ascii=False)


def test_control_characters_in_a_feed_never_reach_the_card(taxonomy: Taxonomy) -> None:
    (entry,) = parse_feed(DIRTY_FEED, "https://example.org/feed").entries
    config = PipelineConfig()
    cards = [
        build_card(article_from_entry(entry), taxonomy=taxonomy, config=config, entry=entry),
        link_card(entry, taxonomy=taxonomy, config=config),
    ]
    for card in cards:
        assert not FORBIDDEN.search(_all_text(card)), card
        assert card.title.startswith("Breaking[2J news gnp.exe été")
        assert unicodedata.is_normalized("NFC", card.title)
        assert card.author == "Jane Doe"


def test_renderers_clean_a_card_stored_before_cleaning() -> None:
    dirty = Card(
        title="Title\x1b[31m\x00 \u202eevil",
        url="https://example.org/a",
        source="Site\x07",
        published=None,
        summary=("Sum\x00mary.",),
        key_facts=("Fact\u200b 1 in 2024.",),
        editors_note="Note\x1b",
        topics=("trade\x00",),
        reading_minutes=1,
        author="A\u2066uthor",
    )
    rendered = [
        telegram.render_card(dirty),
        telegram.render_plain(dirty),
        *(m.text + m.plain for m in telegram.render_digest([dirty, dirty])),
        text.render_card(dirty),
        json.dumps(slack.render_card(dirty).to_dict(), ensure_ascii=False),
        *(json.dumps(m.to_dict(), ensure_ascii=False) for m in slack.render_digest([dirty])),
    ]
    for output in rendered:
        # json.dumps writes a newline as \n: only the text itself is checked.
        assert not FORBIDDEN.search(output.replace("\n", " ")), output
        assert "Titleevil" not in output and "Title[31m evil" in output


def test_clean_card_is_idempotent_and_keeps_identity() -> None:
    card = Card(
        title=" T\x00 ",
        url="https://example.org/a",
        source=None,
        published=None,
        summary=("", "S."),
        key_facts=(),
        editors_note="\x1b",
        topics=(),
        reading_minutes=1,
        entry_id="id\x00kept",
    )
    once = clean_card(card)
    assert once.title == "T" and once.summary == ("S.",) and once.editors_note is None
    assert once.entry_id == "id\x00kept"  # identity is matched against what was stored
    assert clean_card(once) is once


TWICE = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Twice</title><link>https://example.org/</link>
<item><title>Same</title><link>https://example.org/a</link><guid>g1</guid>
<description>One.</description></item>
<item><title>Other</title><link>https://example.org/b</link><guid>g2</guid></item>
<item><title>Same</title><link>https://example.org/a</link><guid>g1</guid>
<description>One.</description></item>
<item><title>No guid</title><link>https://example.org/c</link></item>
<item><title>No guid</title><link>https://example.org/c</link></item>
</channel></rss>"""


def test_an_entry_listed_twice_is_parsed_once() -> None:
    feed = parse_feed(TWICE, "https://example.org/feed")
    assert [e.title for e in feed.entries] == ["Same", "Other", "No guid"]
    assert len({e.entry_id for e in feed.entries}) == 3
