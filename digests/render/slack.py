"""Cards as Slack Block Kit messages, within Slack's documented limits.

Limits honoured (https://api.slack.com/reference/block-kit): 50 blocks per message, 150
characters of header text, 3000 characters per section text, 3000 characters per button URL,
75 characters of button text, 10 context elements, and a 40000-character ``text`` fallback.
A text longer than one section is split across several sections, never rejected; each field of
a card is held to a few sections so that one card always fits in one message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from digests.models import Card
from digests.render import (
    hashtags,
    is_web_url,
    labels_for,
    meta_parts,
    reading_time,
    shorten,
    summary_text,
)
from digests.textclean import clean_card

MAX_BLOCKS = 50
MAX_HEADER_CHARS = 150
MAX_SECTION_CHARS = 3000
MAX_CONTEXT_CHARS = 3000
MAX_URL_CHARS = 3000
MAX_BUTTON_TEXT = 75
MAX_FALLBACK_CHARS = 40000
MAX_SECTIONS_PER_FIELD = 4  # summary, key facts and note each; keeps a card to <= 16 blocks
_CARD_FALLBACK_CHARS = 1500  # summary part of one card's fallback, before escaping

Block = dict[str, Any]


@dataclass(frozen=True)
class SlackMessage:
    """Arguments for ``chat.postMessage``: ``text`` (notification fallback) and ``blocks``."""

    text: str
    blocks: list[Block]
    card_indexes: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def escape(text: str) -> str:
    """Slack's own escaping for mrkdwn and fallback text: only ``& < >``, in that order."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")


def split_text(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Escaped mrkdwn cut into chunks of at most ``limit`` characters.

    Cuts prefer a line break, then a space, and never split an ``&amp;``-style escape.
    """
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = window.rfind("\n")
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
            tail = _ENTITY_TAIL.search(window)
            if tail:
                cut = tail.start()
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def _sections(mrkdwn: str) -> list[Block]:
    chunks = split_text(mrkdwn)
    if len(chunks) > MAX_SECTIONS_PER_FIELD:
        chunks = chunks[:MAX_SECTIONS_PER_FIELD]
        chunks[-1] = split_text(chunks[-1], MAX_SECTION_CHARS - 1)[0] + "…"
    return [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks]


def _context(plain: str) -> Block:
    # Shortened before escaping (no cut inside ``&amp;``); escaping grows text at most 5x.
    text = escape(shorten(plain, MAX_CONTEXT_CHARS // 5))
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _card_blocks(card: Card, index: int) -> list[Block]:
    title = shorten(card.title, MAX_HEADER_CHARS) or "(untitled)"
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": title, "emoji": False}}
    ]
    labels = labels_for(card)
    meta = [*meta_parts(card), *reading_time(card)]
    if meta:  # Slack rejects an empty text element (a link card may know none of these)
        blocks.append(_context(" · ".join(meta)))
    if card.summary:
        blocks.extend(_sections(escape(summary_text(card))))
    if card.key_facts:
        facts = "\n".join(f"• {escape(fact)}" for fact in card.key_facts)
        blocks.extend(_sections(f"*{escape(labels.key_facts)}*\n{facts}"))
    if card.editors_note:
        quoted = "\n".join(f"> {line}" for line in escape(card.editors_note).splitlines())
        blocks.extend(_sections(f"> *{escape(labels.editors_note)}*\n{quoted}"))
    tags = hashtags(card.topics)
    if tags:
        blocks.append(_context(" ".join(tags)))
    if _linkable(card.url):
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": labels.read_button[:MAX_BUTTON_TEXT]},
            "url": card.url,
            # Unique within a message: one card's index appears once per digest.
            "action_id": f"open_card_{index}",
        }
        blocks.append({"type": "actions", "elements": [button]})
    return blocks


def _fallback(card: Card) -> str:
    # Shortened before escaping so that a cut never lands inside ``&amp;`` or ``<url|...>``.
    title = escape(shorten(card.title, MAX_HEADER_CHARS))
    head = f"<{_link_target(card.url)}|{title}>" if _linkable(card.url) else title
    summary = escape(shorten(summary_text(card), _CARD_FALLBACK_CHARS))
    return f"{head}\n{summary}".strip()


def _link_target(url: str) -> str:
    """The URL inside Slack's ``<url|text>``: ``<``, ``>`` and ``|`` would end it early, and a
    feed could then smuggle ``<!channel>`` into the message; percent-encoding keeps the link."""
    return url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")


def _linkable(url: str) -> bool:
    return is_web_url(url) and len(url) <= MAX_URL_CHARS


def render_card(card: Card, *, index: int = 0) -> SlackMessage:
    """One card as a message; ``index`` makes the button's ``action_id`` unique in a digest."""
    card = clean_card(card)  # cards stored before cleaning existed, or built elsewhere
    return SlackMessage(
        text=_fallback(card), blocks=_card_blocks(card, index), card_indexes=(index,)
    )


def render_digest(cards: Sequence[Card]) -> list[SlackMessage]:
    """Cards packed into as few messages as fit (<= 50 blocks), split only between cards."""
    messages: list[SlackMessage] = []
    blocks: list[Block] = []
    texts: list[str] = []
    indexes: list[int] = []
    for index, card in enumerate(map(clean_card, cards)):
        card_blocks = _card_blocks(card, index)
        text = _fallback(card)
        divider = [{"type": "divider"}] if blocks else []
        too_many = len(blocks) + len(divider) + len(card_blocks) > MAX_BLOCKS
        too_long = len("\n\n".join([*texts, text])) > MAX_FALLBACK_CHARS
        if indexes and (too_many or too_long):
            messages.append(SlackMessage("\n\n".join(texts), blocks, tuple(indexes)))
            blocks, texts, indexes, divider = [], [], [], []
        blocks.extend(divider + card_blocks)
        texts.append(text)
        indexes.append(index)
    if indexes:
        messages.append(SlackMessage("\n\n".join(texts), blocks, tuple(indexes)))
    return messages


__all__ = ["SlackMessage", "escape", "render_card", "render_digest", "split_text"]
