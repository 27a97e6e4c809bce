"""Topics: tagging cards from a keyword taxonomy, and matching cards against topic filters.

The taxonomy lives in ``config/topics.toml`` (see its header for how to edit it). Keywords match
case-insensitively as whole words or phrases, with simple plurals ("tariff" finds "tariffs",
"company" finds "companies"); "trade" never matches "trademark".
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from digests.errors import ConfigError
from digests.models import Card

__all__ = ["Taxonomy", "TaxonomyError", "matches", "normalize_filter", "phrase_pattern"]

_MIN_TEXT_HITS = 2  # a single passing mention in the body is not what the piece is about
_WORDS_PER_EXTRA_HIT = 600  # long pieces mention more in passing: ask one more hit per 600 words
_RELATIVE_FLOOR = 0.25  # and a body-only topic needs a quarter of the strongest topic's hits

_FILTER_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
_FILTER_INNER = re.compile(r"[\s_]+")


class TaxonomyError(ConfigError, ValueError):
    """The topics file cannot be read or is not laid out as documented."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def normalize_filter(word: str) -> str:
    """A user's filter as compared: lower case, no '#', no surrounding punctuation.

    Underscores and runs of spaces become one space, so "#Climate_Change" is "climate change".
    """
    cleaned = _FILTER_INNER.sub(" ", word.strip().lstrip("#"))
    return _FILTER_EDGES.sub("", cleaned).lower()


def phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive regex for whole-word ``phrases``, with simple plurals."""
    alternatives = sorted({_phrase_regex(p) for p in phrases if p.strip()}, key=len, reverse=True)
    if not alternatives:
        return re.compile(r"(?!x)x")  # matches nothing
    return re.compile(rf"(?<![\w-])(?:{'|'.join(alternatives)})(?![\w-])", re.IGNORECASE)


def _phrase_regex(phrase: str) -> str:
    words = phrase.strip().lower().split()
    *head, last = words
    if re.fullmatch(r".*[^aeiou]y", last):
        last_re = re.escape(last[:-1]) + "(?:y|ies)"
    elif last[-1:].isalpha():
        last_re = re.escape(last) + "(?:e?s)?"
    else:
        last_re = re.escape(last)
    # Hyphens and spaces are interchangeable inside a phrase ("five-year plan").
    parts = [re.escape(w).replace(r"\-", r"[\s-]") for w in head]
    return r"[\s-]+".join([*parts, last_re.replace(r"\-", r"[\s-]")])


@dataclass(frozen=True)
class Taxonomy:
    """Topic name -> the keywords and phrases that signal it."""

    topics: Mapping[str, tuple[str, ...]]
    _patterns: Mapping[str, re.Pattern[str]] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _starts: re.Pattern[str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        topics = {normalize_filter(name): tuple(words) for name, words in self.topics.items()}
        object.__setattr__(self, "topics", MappingProxyType(topics))
        patterns = {name: phrase_pattern(words) for name, words in topics.items()}
        object.__setattr__(self, "_patterns", MappingProxyType(patterns))
        object.__setattr__(
            self, "_starts", _starts_pattern(w for words in topics.values() for w in words)
        )

    def __hash__(self) -> int:
        # The mapping is read-only after __post_init__, so hashing its items is stable.
        return hash(tuple(self.topics.items()))

    @classmethod
    def load(cls, path: Path) -> Taxonomy:
        """Read a topics file laid out as ``[topics.<name>] keywords = [...]``."""
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except OSError as exc:
            raise TaxonomyError(path, f"cannot read the topics file ({exc.strerror})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise TaxonomyError(path, f"not valid TOML: {exc}") from exc
        return cls(_parse(path, data))

    def names(self) -> tuple[str, ...]:
        return tuple(self.topics)

    def tag(self, *, title: str, text: str, categories: Sequence[str] = ()) -> tuple[str, ...]:
        """Topics the piece is about, strongest first, then the feed's own categories.

        A topic counts when one of its keywords is in the title, or when its keywords occur
        often enough in the text (at least twice, more for long pieces, and not far behind the
        strongest topic).
        """
        words = len(text.split())
        needed = _MIN_TEXT_HITS + words // _WORDS_PER_EXTRA_HIT
        evidence: dict[str, tuple[int, int]] = {}
        title_starts = self._starts_in(title) if title else []
        text_starts = self._starts_in(text)
        for name, pattern in self._patterns.items():
            in_title = _count(pattern, title, title_starts) if title_starts else 0
            in_text = _count(pattern, text, text_starts) if text_starts else 0
            if in_title or in_text >= needed:
                evidence[name] = (in_title, in_text)
        strongest = max((hits for _, hits in evidence.values()), default=0)
        kept = [
            name
            for name, (in_title, in_text) in evidence.items()
            if in_title or in_text >= _RELATIVE_FLOOR * strongest
        ]
        order = list(self.topics)
        kept.sort(key=lambda n: (-evidence[n][0], -evidence[n][1], order.index(n)))
        seen = dict.fromkeys(kept)
        for category in categories:
            cleaned = " ".join(category.split()).lower()
            if cleaned:
                seen.setdefault(cleaned)
        return tuple(seen)

    def _starts_in(self, text: str) -> list[int]:
        return [m.start() for m in self._starts.finditer(text)]


def _starts_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """Where a keyword of any topic starts: one scan of the text instead of one per topic.

    A zero-width lookahead finds every such position, overlapping ones included. The keywords
    are grouped by first character so that the engine tries a handful of them per word, not
    every keyword of the taxonomy (this cut ``tag`` by ~85% on ``bench/pipeline.py``'s pages).
    """
    groups: dict[str, set[str]] = {}
    others: set[str] = set()
    for regex in {_phrase_regex(p) for p in phrases if p.strip()}:
        if regex[0].isalnum():
            groups.setdefault(regex[0].lower(), set()).add(regex[1:])
        else:
            others.add(regex)
    branches = [
        f"{first}(?:{'|'.join(sorted(rests, key=len, reverse=True))})"
        for first, rests in sorted(groups.items())
    ]
    branches.extend(sorted(others))
    if not branches:
        return re.compile(r"(?!x)x")
    return re.compile(rf"(?<![\w-])(?=(?:{'|'.join(branches)})(?![\w-]))", re.IGNORECASE)


def _count(pattern: re.Pattern[str], text: str, starts: Sequence[int]) -> int:
    """``len(pattern.findall(text))``, trying ``pattern`` only where some keyword starts.

    ``pattern`` can only match where one of its own keywords starts, and every such place is
    in ``starts``; matching there in order and skipping past each match finds exactly the
    non-overlapping matches ``findall`` would.
    """
    count = 0
    resume = 0
    for start in starts:
        if start < resume:
            continue
        match = pattern.match(text, start)
        if match is not None:
            count += 1
            resume = match.end()
    return count


def matches(card: Card, filters: Collection[str], taxonomy: Taxonomy | None = None) -> bool:
    """Whether ``card`` passes any of ``filters`` (no filters: every card passes).

    A filter that names a topic (of ``taxonomy``, or among the card's own topics) matches
    cards tagged with it; any other filter is a keyword looked for as a whole word or phrase in
    the card's title, summary, key facts, topics and categories.
    """
    wanted = {normalize_filter(f) for f in filters} - {""}
    if not wanted:
        return True
    tagged = {normalize_filter(t) for t in card.topics}
    topic_names = set(taxonomy.names()) if taxonomy else set()
    keywords = []
    for word in wanted:
        if word in tagged:
            return True
        if word not in topic_names:
            keywords.append(word)
    if not keywords:
        return False
    haystack = "\n".join(
        [card.title, *card.summary, *card.key_facts, *card.topics, *card.categories]
    )
    return _keyword_pattern(frozenset(keywords)).search(haystack) is not None


@functools.lru_cache(maxsize=1024)
def _keyword_pattern(keywords: frozenset[str]) -> re.Pattern[str]:
    # A digest run matches many cards against the same few subscriber filters.
    return phrase_pattern(keywords)


def _parse(path: Path, data: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
    table = data.get("topics")
    if not isinstance(table, dict) or not table:
        raise TaxonomyError(path, "expected [topics.<name>] tables with a `keywords` list")
    topics: dict[str, tuple[str, ...]] = {}
    for name, body in table.items():
        keywords = body.get("keywords") if isinstance(body, dict) else None
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise TaxonomyError(path, f'[topics.{name}] needs `keywords = ["...", ...]`')
        cleaned = tuple(k.strip() for k in keywords if k.strip())
        if not cleaned:
            raise TaxonomyError(path, f"[topics.{name}] has no keywords")
        if not normalize_filter(name):
            raise TaxonomyError(path, f"topic name {name!r} is empty once normalised")
        topics[name] = cleaned
    return topics
