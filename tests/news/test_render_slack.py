"""Slack Block Kit: structure, escaping and limits, checked by us and by slack_sdk's models."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import Block

from digests.models import Card
from digests.render.slack import (
    MAX_BLOCKS,
    MAX_FALLBACK_CHARS,
    MAX_SECTION_CHARS,
    escape,
    render_card,
    render_digest,
    split_text,
)

TYPES = {"header", "context", "section", "actions", "divider"}


def card(**changes: object) -> Card:
    base = Card(
        title="Elevating the China-ROK Strategic Cooperative Partnership",
        url="https://news.cgtn.com/news/2025-11-01/elevating/index.html",
        source="CGTN",
        published=datetime(2025, 11, 1, 9, 30, tzinfo=UTC),
        summary=("Xi Jinping's state visit culminated in talks.", "Both pledged closer ties."),
        key_facts=("Two-way trade reached 328.08 billion U.S. dollars.",),
        editors_note="CGTN's First Voice provides instant commentary on breaking stories.",
        topics=("economy", "trade"),
        reading_minutes=4,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def check_message(blocks: list[dict[str, Any]], text: str) -> None:
    """Every limit Slack enforces on chat.postMessage that our blocks could hit."""
    assert 0 < len(blocks) <= MAX_BLOCKS
    assert len(text) <= MAX_FALLBACK_CHARS
    action_ids: list[str] = []
    for block in blocks:
        assert block["type"] in TYPES
        Block.parse(block).validate_json()  # type: ignore[union-attr]  # slack_sdk's checks
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= 150
        elif block["type"] == "section":
            assert block["text"]["type"] == "mrkdwn"
            assert 0 < len(block["text"]["text"]) <= MAX_SECTION_CHARS
        elif block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10
            assert all(len(e["text"]) <= 3000 for e in block["elements"])
        elif block["type"] == "actions":
            for element in block["elements"]:
                assert len(element["url"]) <= 3000
                assert len(element["text"]["text"]) <= 75
                action_ids.append(element["action_id"])
    assert len(action_ids) == len(set(action_ids)), "action_id must be unique in a message"
    json.dumps(blocks)


def test_card_layout() -> None:
    message = render_card(card())
    check_message(message.blocks, message.text)
    assert [b["type"] for b in message.blocks] == [
        "header",
        "context",
        "section",
        "section",
        "section",
        "context",
        "actions",
    ]
    header, meta, summary, facts, note, topics, actions = message.blocks
    assert header["text"]["text"] == card().title
    assert meta["elements"][0]["text"] == "CGTN · 1 Nov 2025 · 4 min read"
    assert summary["text"]["text"] == (
        "Xi Jinping's state visit culminated in talks. Both pledged closer ties."
    )
    assert facts["text"]["text"] == (
        "*Key facts*\n• Two-way trade reached 328.08 billion U.S. dollars."
    )
    assert note["text"]["text"].startswith("> *Editor's note:*\n> CGTN's First Voice")
    assert topics["elements"][0]["text"] == "#economy #trade"
    assert actions["elements"][0]["url"] == card().url
    assert message.text.startswith(f"<{card().url}|Elevating the China-ROK")
    assert message.to_dict() == {"text": message.text, "blocks": message.blocks}


def test_escaping() -> None:
    hostile = card(
        title="<script>x</script> & co",
        summary=("A & B <@U123> <!channel> </a>",),
        key_facts=("Fact <b> & more",),
        editors_note="Note > quote & <tag>",
        source="S&P <Ratings>",
    )
    message = render_card(hostile)
    check_message(message.blocks, message.text)
    dumped = json.dumps(message.blocks[1:])  # all mrkdwn; the header is plain_text
    assert "<@U123>" not in dumped and "<!channel>" not in dumped and "<script>" not in dumped
    texts = section_texts(message.blocks)
    assert texts[0] == "A &amp; B &lt;@U123&gt; &lt;!channel&gt; &lt;/a&gt;"
    assert "Fact &lt;b&gt; &amp; more" in texts[1]
    assert "Note &gt; quote &amp; &lt;tag&gt;" in texts[2]
    # plain_text is shown verbatim by Slack, so the header is not escaped.
    assert message.blocks[0]["text"]["text"] == "<script>x</script> & co"
    assert "S&amp;P &lt;Ratings&gt;" in message.blocks[1]["elements"][0]["text"]
    assert "<!channel>" not in message.text


def test_long_key_facts_are_split_across_sections() -> None:
    facts = tuple(f"Fact {i}: " + "figures & numbers " * 30 for i in range(12))
    assert sum(map(len, facts)) > MAX_SECTION_CHARS
    message = render_card(card(key_facts=facts))
    check_message(message.blocks, message.text)
    fact_sections = [t for t in section_texts(message.blocks) if "Fact " in t]
    assert len(fact_sections) >= 2
    joined = "\n".join(fact_sections)
    for fact in facts:  # nothing lost, nothing cut inside an escape
        assert escape(fact).strip() in joined
    assert "&am\n" not in joined and "&a\n" not in joined


def test_one_fact_longer_than_a_section() -> None:
    message = render_card(card(key_facts=("word&word " * 700,)))
    check_message(message.blocks, message.text)
    assert len([t for t in section_texts(message.blocks) if "word" in t]) >= 3


def test_monster_card_still_fits_one_message() -> None:
    monster = card(
        title="T" * 500,
        summary=("s " * 100_000,),
        key_facts=tuple("f " * 5000 for _ in range(10)),
        editors_note="n " * 50_000,
        url="https://example.com/" + "u" * 4000,
        source="&" * 5000,
        author="<" * 5000,
    )
    message = render_card(monster)
    check_message(message.blocks, message.text)
    assert message.blocks[0]["text"]["text"].endswith("…")
    assert not any(b["type"] == "actions" for b in message.blocks)  # URL too long to link


def test_local_path_gets_no_button() -> None:
    message = render_card(card(url="/tmp/page.html"))
    check_message(message.blocks, message.text)
    assert not any(b["type"] == "actions" for b in message.blocks)


def test_digest_splits_at_card_boundaries() -> None:
    cards = [card(title=f"Piece {i}", key_facts=("A fact.",) * (i % 3 + 1)) for i in range(30)]
    messages = render_digest(cards)
    assert len(messages) > 1
    assert [i for m in messages for i in m.card_indexes] == list(range(30))
    for message in messages:
        check_message(message.blocks, message.text)
        headers = [b["text"]["text"] for b in message.blocks if b["type"] == "header"]
        assert headers == [f"Piece {i}" for i in message.card_indexes]
        assert message.blocks[0]["type"] == "header"  # a message never starts mid-card
        assert message.blocks[-1]["type"] == "actions"  # ...nor ends mid-card
    for before, after in itertools.pairwise(messages):
        next_card = render_card(cards[after.card_indexes[0]])
        assert len(before.blocks) + 1 + len(next_card.blocks) > MAX_BLOCKS


def test_digest_respects_fallback_text_limit() -> None:
    cards = [card(title=f"Piece {i}", summary=("<&> " * 400,)) for i in range(40)]
    messages = render_digest(cards)
    assert [i for m in messages for i in m.card_indexes] == list(range(40))
    for message in messages:
        check_message(message.blocks, message.text)


def test_split_text_never_breaks_an_escape() -> None:
    text = escape("&" * 5000)
    chunks = split_text(text, 3000)
    assert all(len(c) <= 3000 for c in chunks)
    assert "".join(chunks) == text


def test_card_with_no_metadata_has_no_empty_context() -> None:
    # A headline-and-link card (page unreadable) may know no source, author, date or length.
    bare = card(source=None, published=None, reading_minutes=0, summary=(), key_facts=())
    message = render_card(bare)
    check_message(message.blocks, message.text)
    for block in message.blocks:
        if block["type"] == "context":
            assert all(element["text"] for element in block["elements"])


def test_feed_url_cannot_break_out_of_the_fallback_link() -> None:
    hostile = card(url="https://ex.org/a?x=<!channel>|y", title="Hi")
    text = render_card(hostile).text
    assert "<!channel>" not in text
    assert text.startswith("<https://ex.org/a?x=%3C!channel%3E%7Cy|Hi>")
