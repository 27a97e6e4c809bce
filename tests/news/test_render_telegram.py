"""Telegram HTML: escaping, allowed tags only, balanced tags, and the 4096-unit limit."""

from __future__ import annotations

import html
import itertools
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from digests.models import Card
from digests.render.telegram import (
    MESSAGE_LIMIT,
    render_card,
    render_digest,
    render_plain,
)

ALLOWED = {"b", "i", "u", "s", "a", "code", "pre", "blockquote", "tg-spoiler"}


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class TelegramHTML(HTMLParser):
    """Checks what Telegram's parser would: known tags, balanced nesting, only href on <a>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ALLOWED, f"tag <{tag}> is not allowed by Telegram"
        if tag == "a":
            assert [name for name, _ in attrs] == ["href"]
            self.hrefs.append(attrs[0][1] or "")
        else:
            assert attrs == [], f"<{tag}> must not carry attributes"
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> in {self.stack}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(markup: str) -> TelegramHTML:
    parser = TelegramHTML()
    parser.feed(markup)
    parser.close()
    assert parser.stack == [], f"unclosed tags {parser.stack}"
    # Entities Telegram understands: &lt; &gt; &amp; &quot; and numeric ones only.
    for chunk in markup.split("&")[1:]:
        name = chunk.split(";", 1)[0]
        assert name in {"lt", "gt", "amp", "quot"} or name.startswith("#"), name
    return parser


def card(**changes: object) -> Card:
    base = Card(
        title="Elevating the China-ROK Strategic Cooperative Partnership",
        url="https://news.cgtn.com/news/2025-11-01/elevating/index.html",
        source="CGTN",
        published=datetime(2025, 11, 1, 9, 30, tzinfo=UTC),
        summary=(
            "Xi Jinping's state visit culminated in talks with Lee Jae-myung.",
            "Both pledged to strengthen ties.",
        ),
        key_facts=(
            "In 2024, two-way trade reached 328.08 billion U.S. dollars.",
            "China has been the ROK's largest trading partner for 21 years in a row.",
        ),
        editors_note="CGTN's First Voice provides instant commentary on breaking stories.",
        topics=("economy", "trade", "foreign policy"),
        reading_minutes=4,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


HOSTILE = card(
    title='<script>alert("x")</script> Tom & Jerry </a>',
    url='https://example.com/a?b=1&c="2"',
    source="Bad <b>Source</b>",
    summary=("A & B </a> <i>unclosed", "Second <tg-spoiler> sentence &amp; more."),
    key_facts=("Fact with <pre> and & and </blockquote>",),
    editors_note="Note </blockquote><b>bold",
    topics=("c++", "<x>", "foreign policy", "#already", "..."),
)


def test_golden_card() -> None:
    assert render_card(card()) == (
        '<b><a href="https://news.cgtn.com/news/2025-11-01/elevating/index.html">'
        "Elevating the China-ROK Strategic Cooperative Partnership</a></b>\n"
        "<i>CGTN · 1 Nov 2025 · 4 min read</i>\n\n"
        "Xi Jinping's state visit culminated in talks with Lee Jae-myung. "
        "Both pledged to strengthen ties.\n\n"
        "<b>Key facts</b>\n"
        "• In 2024, two-way trade reached 328.08 billion U.S. dollars.\n"
        "• China has been the ROK's largest trading partner for 21 years in a row.\n\n"
        "<blockquote><b>Editor's note:</b> CGTN's First Voice provides instant commentary on "
        "breaking stories.</blockquote>\n\n"
        "#economy #trade #foreign_policy"
    )


def test_hostile_text_is_escaped_everywhere() -> None:
    markup = render_card(HOSTILE)
    parsed = parse(markup)  # fails on any <script>, </a> or stray tag that leaked through
    shown = "".join(parsed.text)
    for piece in (
        '<script>alert("x")</script> Tom & Jerry </a>',
        "Bad <b>Source</b>",
        "A & B </a> <i>unclosed",
        "Second <tg-spoiler> sentence &amp; more.",
        "Fact with <pre> and & and </blockquote>",
        "Note </blockquote><b>bold",
    ):
        assert piece in shown
    assert parsed.hrefs == ['https://example.com/a?b=1&c="2"']
    assert "#c #x #foreign_policy #already" in shown
    assert "#..." not in shown


def test_non_web_url_is_not_linked() -> None:
    parsed = parse(render_card(card(url="/home/me/page.html")))
    assert parsed.hrefs == []


def test_card_without_optional_parts() -> None:
    bare = card(source=None, published=None, summary=(), key_facts=(), editors_note=None, topics=())
    markup = render_card(bare)
    parse(markup)
    assert "<i>4 min read</i>" in markup
    assert "Key facts" not in markup and "blockquote" not in markup


def test_overlong_card_is_shortened_not_cut_mid_tag() -> None:
    long_summary = tuple(f"Sentence {i} says A & B <c> over and over again." for i in range(400))
    long_facts = tuple("Fact & figure " * 40 for _ in range(20))
    big = card(summary=long_summary, key_facts=long_facts, editors_note="Note & " * 900)
    markup = render_card(big)
    assert utf16(markup) <= MESSAGE_LIMIT
    parsed = parse(markup)
    shown = "".join(parsed.text)
    assert "…" in shown
    assert big.title in shown and "Editor's note:" in shown and "Key facts" in shown
    assert utf16(render_plain(big)) <= MESSAGE_LIMIT


def test_limit_counts_utf16_units() -> None:
    emoji = card(summary=("😀" * 3000,), key_facts=(), editors_note=None)
    markup = render_card(emoji)
    assert len(markup) <= MESSAGE_LIMIT  # would pass with code points alone...
    assert utf16(markup) <= MESSAGE_LIMIT  # ...but the limit is in UTF-16 units
    assert utf16(markup) > MESSAGE_LIMIT - 200  # and the room is used, not thrown away


def test_huge_title_and_url_still_fit() -> None:
    monster = card(
        title="T&" * 5000,
        url="https://example.com/" + "x" * 5000,
        source="S<" * 3000,
        author="A>" * 3000,
    )
    markup = render_card(monster)
    assert utf16(markup) <= MESSAGE_LIMIT
    parse(markup)


def test_digest_splits_at_card_boundaries() -> None:
    cards = [
        card(title=f"Piece {i} <&>", summary=(f"Summary {i} " + "word " * 120,)) for i in range(30)
    ]
    messages = render_digest(cards)
    assert len(messages) > 1
    indexes = [i for m in messages for i in m.card_indexes]
    assert indexes == list(range(30))
    for message in messages:
        assert utf16(message.text) <= MESSAGE_LIMIT
        assert utf16(message.plain) <= MESSAGE_LIMIT
        parse(message.text)
        expected = "\n\n".join(render_card(cards[i]) for i in message.card_indexes)
        assert message.text == expected
        assert message.plain == "\n\n".join(render_plain(cards[i]) for i in message.card_indexes)
    # Packing is greedy: the next card would not have fitted in the message before it.
    for before, after in itertools.pairwise(messages):
        first_next = render_card(cards[after.card_indexes[0]])
        assert utf16(before.text + "\n\n" + first_next) > MESSAGE_LIMIT


def test_digest_of_oversized_cards_gives_one_message_each() -> None:
    big = card(summary=tuple("A long & loud sentence. " * 10 for _ in range(100)))
    messages = render_digest([big, big, big])
    assert [m.card_indexes for m in messages] == [(0,), (1,), (2,)]
    assert all(utf16(m.text) <= MESSAGE_LIMIT for m in messages)


def test_empty_digest() -> None:
    assert render_digest([]) == []


def test_plain_fallback_has_no_markup() -> None:
    plain = render_plain(HOSTILE)
    assert '<script>alert("x")</script> Tom & Jerry </a>' in plain
    assert HOSTILE.url in plain
    assert "Editor's note: Note </blockquote><b>bold" in plain
    assert "&amp;" not in plain.replace("&amp; more", "")


@pytest.mark.parametrize("cut", [100, 1000, 4000])
def test_shortened_text_is_valid_at_any_size(cut: int) -> None:
    text = html.unescape("&lt;&amp;&gt; " * cut)
    markup = render_card(card(summary=(text,), editors_note=text))
    assert utf16(markup) <= MESSAGE_LIMIT
    parse(markup)
