"""One :class:`~digests.models.Card`, three outputs: Telegram HTML, Slack Block Kit, plain text.

This package holds what the renderers share: how a date, a reading time, a hashtag and a
shortened piece of text look, so that a card reads the same on every platform. Each renderer
escapes for its own platform; the helpers here work on plain text only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from digests.lang import is_cjk
from digests.models import Card
from digests.render.labels import CardLabels, card_labels

ELLIPSIS = "…"
MAX_HASHTAGS = 8

_NON_WORD = re.compile(r"\W+")


def format_date(when: datetime | None, labels: CardLabels) -> str | None:
    """``28 Nov 2026`` (``28.11.2026``, ``2026年11月28日``, ... in the card's language); the day
    alone, since feeds rarely give a trustworthy time of day."""
    if when is None:
        return None
    return labels.format_date(when)


def labels_for(card: Card) -> CardLabels:
    """The words a renderer adds to ``card``, in the card's own language."""
    return card_labels(card.language)


def reading_time(card: Card) -> list[str]:
    """``["3 min read"]`` in the card's language, or nothing for a card whose page was never
    read (0 minutes)."""
    minutes = card.reading_minutes
    return [labels_for(card).reading_time(minutes)] if minutes > 0 else []


def summary_text(card: Card) -> str:
    """The summary sentences as one paragraph. Chinese and Japanese put no space after a full
    stop, so their sentences are joined without one (Korean spaces its sentences)."""
    return ("" if is_cjk(card.language) and card.language != "ko" else " ").join(card.summary)


def meta_parts(card: Card) -> list[str]:
    """Source, author and date, whichever the card has, in reading order."""
    parts = [p for p in (card.source, card.author) if p]
    date = format_date(card.published, labels_for(card))
    if date:
        parts.append(date)
    return parts


def hashtag(topic: str) -> str | None:
    """``#foreign_policy`` for ``foreign policy``; ``None`` when nothing word-like is left.

    Telegram and Slack only link a hashtag made of word characters, so everything else
    collapses into one underscore.
    """
    tag = _NON_WORD.sub("_", topic.strip()).strip("_")
    return f"#{tag}" if tag else None


def hashtags(topics: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for topic in topics:
        tag = hashtag(topic)
        if tag and tag.lower() not in (s.lower() for s in seen):
            seen.append(tag)
    return seen[:MAX_HASHTAGS]


def is_web_url(url: str) -> bool:
    """Only http(s) URLs become links: chat platforms reject the rest (a local file path)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, ending in "…"."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:  # a word boundary not too far back; else cut the long word
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + ELLIPSIS


def shorten_lines(lines: Sequence[str], limit: int) -> tuple[str, ...]:
    """Keep whole items while they fit in ``limit`` characters in total; shorten the next one.

    An item that would be cut to a stub is dropped instead, so the result never ends in
    a fragment of a few characters.
    """
    kept: list[str] = []
    used = 0
    for line in lines:
        room = limit - used
        if len(line) <= room:
            kept.append(line)
            used += len(line)
            continue
        if room >= 40 or not kept:
            kept.append(shorten(line, max(room, 1)))
        break
    return tuple(kept)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2
