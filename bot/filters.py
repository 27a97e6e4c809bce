"""Subscription filters: parse and validate what a user typed, match cards against them.

A filter is a topic name from the taxonomy (``economy``) or any other keyword (``semiconductor``),
normalised by :func:`digests.topics.normalize_filter`. An empty filter list means "everything".
Validation is pure; the taxonomy sits behind the small :class:`TopicCatalog` Protocol.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from digests.models import Card
from digests.topics import Taxonomy, matches, normalize_filter

__all__ = [
    "MAX_FILTERS",
    "MAX_FILTER_LENGTH",
    "FilterParse",
    "TaxonomyCatalog",
    "TopicCatalog",
    "parse_filters",
]

MAX_FILTERS = 20
MAX_FILTER_LENGTH = 40
MIN_FILTER_LENGTH = 2
# Letters of any script, digits, and the joiners a keyword needs ("e-commerce", "c++", "at&t");
# single spaces inside a quoted phrase ("supply chain").
_ALLOWED = re.compile(r"^[\w][\w\-+.&'’#]*(?: [\w\-+.&'’#]+)*$", re.UNICODE)
# A phrase in straight or typographic double quotes (phone keyboards type “…”), else a word.
_TOKEN = re.compile(r'["“”„«»]([^"“”„«»]*)["“”„«»]?|([^\s,"“”„«»]+)')


class TopicCatalog(Protocol):
    def names(self) -> list[str]: ...

    def normalize(self, word: str) -> str: ...

    def matches(self, card: Card, filters: Sequence[str]) -> bool: ...


class TaxonomyCatalog:
    """:class:`TopicCatalog` over ``digests.topics`` (the news side's taxonomy)."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy

    def names(self) -> list[str]:
        return list(self.taxonomy.names())

    def normalize(self, word: str) -> str:
        return normalize_filter(word)

    def matches(self, card: Card, filters: Sequence[str]) -> bool:
        return matches(card, list(filters), self.taxonomy)


@dataclass(frozen=True, slots=True)
class FilterParse:
    """Valid filters (topics first, then keywords, in the order typed) and what was wrong."""

    topics: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    too_long: tuple[str, ...] = ()
    too_short: tuple[str, ...] = ()
    bad_chars: tuple[str, ...] = ()

    @property
    def filters(self) -> tuple[str, ...]:
        return (*self.topics, *self.keywords)

    @property
    def problems(self) -> bool:
        return bool(self.too_long or self.too_short or self.bad_chars)


def split_words(args: Iterable[str]) -> list[str]:
    """Command arguments to filter words: blanks and commas separate, a quoted phrase
    (``"supply chain"``) stays one filter; ``#`` prefixes drop.

    Adapters split the command line on blanks (python-telegram-bot's ``context.args`` does),
    so the arguments are joined again before quotes are read.
    """
    words: list[str] = []
    for match in _TOKEN.finditer(" ".join(args)):
        phrase, word = match.groups()
        text = " ".join((phrase if phrase is not None else word).split())
        text = unicodedata.normalize("NFC", text).lstrip("#")
        if text:
            words.append(text)
    return words


def parse_filters(args: Iterable[str], catalog: TopicCatalog) -> FilterParse:
    topics: list[str] = []
    keywords: list[str] = []
    too_long: list[str] = []
    too_short: list[str] = []
    bad: list[str] = []
    known = set(catalog.names())
    for word in split_words(args):
        if len(word) > MAX_FILTER_LENGTH:
            too_long.append(word[:MAX_FILTER_LENGTH] + "…")
            continue
        if not _ALLOWED.match(word):
            bad.append(word)
            continue
        normalized = catalog.normalize(word)
        if len(normalized) < MIN_FILTER_LENGTH:
            too_short.append(word)
            continue
        target = topics if normalized in known else keywords
        if normalized not in topics and normalized not in keywords:
            target.append(normalized)
    return FilterParse(
        tuple(topics), tuple(keywords), tuple(too_long), tuple(too_short), tuple(bad)
    )
