"""Text from feeds, pages and chat users, cleaned at the boundary before it is stored or shown.

A feed title may carry ``&#27;`` (ESC) or ``&#0;`` (NUL) character references, a page may hide a
right-to-left override that makes ``exe.txt`` read as ``txt.exe``, and a JSON feed may contain
a lone surrogate that no chat API can encode. :func:`clean_line` and :func:`clean_block` remove
what can spoof or break a message and normalise to NFC, so that the same words compare equal
and render the same on every platform. :func:`clean_card` applies them to every text field of
a card; it is idempotent, so cleaning at build time and again before rendering is harmless.

Removed: C0 and C1 control characters (a block keeps newline and tab), explicit bidi
embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), invisible characters
(zero-width space U+200B, word joiner U+2060, invisible operators U+2061-U+2064, BOM U+FEFF,
Mongolian vowel separator U+180E, soft hyphen U+00AD) and noncharacters; lone surrogates
become U+FFFD. Kept: the zero-width joiner and non-joiner (emoji sequences and Persian or
Indic spelling need them) and the left-to-right / right-to-left marks (Arabic and Hebrew
punctuation needs them, and they cannot reorder a run of letters).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from digests.models import Card, FeedEntry

__all__ = ["clean_block", "clean_card", "clean_entry", "clean_line", "is_clean"]

_INVISIBLE = "\u00ad\u180e\u200b\u2060-\u2064\ufeff\ufff9-\ufffb\ufffe\uffff"
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
# Everything a block drops; a line also turns newline and tab into a space (below).
_DROP = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI_CONTROLS}{_INVISIBLE}]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_SPACE = re.compile(r"[\s\u2028\u2029]+")
_BLOCK_BREAK = re.compile("\r\n?|[\u2028\u2029\x85\x0b\x0c]")
_TRAILING = re.compile(r"[ \t]+\n")
_BLANK_RUNS = re.compile(r"\n{3,}")


def _common(text: str) -> str:
    text = _SURROGATE.sub("\ufffd", text)
    return unicodedata.normalize("NFC", text)


def clean_line(text: str) -> str:
    """One line of text: no control, bidi or invisible characters, whitespace runs (newlines
    and tabs included) as one space, trimmed, NFC."""
    text = _DROP.sub("", _LINE_SPACE.sub(" ", _common(text)))
    return _LINE_SPACE.sub(" ", text).strip()


def clean_block(text: str) -> str:
    """Paragraphs of text: as :func:`clean_line`, but newlines (any convention, as ``\\n``) and
    tabs stay; at most one blank line in a row."""
    text = _DROP.sub("", _BLOCK_BREAK.sub("\n", _common(text)))
    text = _TRAILING.sub("\n", text)
    return _BLANK_RUNS.sub("\n\n", text).strip()


def is_clean(text: str, *, block: bool = False) -> bool:
    """Does ``text`` survive cleaning unchanged?"""
    return text == (clean_block(text) if block else clean_line(text))


def _opt(text: str | None) -> str | None:
    if text is None:
        return None
    return clean_line(text) or None


def _lines(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c for c in map(clean_line, values) if c)


def clean_card(card: Card) -> Card:
    """``card`` with every text field cleaned (identity fields, entry and feed URL, as they are:
    they must match what was stored before)."""
    cleaned = replace(
        card,
        title=clean_line(card.title),
        url=clean_line(card.url),
        source=_opt(card.source),
        summary=_lines(card.summary),
        key_facts=_lines(card.key_facts),
        editors_note=_opt(card.editors_note),
        topics=_lines(card.topics),
        text=clean_block(card.text),
        categories=_lines(card.categories),
        author=_opt(card.author),
    )
    return card if cleaned == card else cleaned


def clean_entry(entry: FeedEntry) -> FeedEntry:
    """``entry`` with its text cleaned; its HTML keeps its markup, but loses the characters an
    HTML parser refuses (lxml raises on a NUL or ESC in a fragment). ``entry_id`` stays: it
    must match the id stored at earlier polls."""
    cleaned = replace(
        entry,
        title=clean_line(entry.title),
        link=clean_line(entry.link) or None if entry.link else None,
        author=_opt(entry.author),
        summary_html=clean_block(entry.summary_html) if entry.summary_html else None,
        content_html=clean_block(entry.content_html) if entry.content_html else None,
        categories=_lines(entry.categories),
    )
    return entry if cleaned == entry else cleaned
