"""Which subscriptions a card goes to, without trying every subscription's filters.

:class:`SubscriptionIndex` holds the active subscriptions' filters compiled once: filter word
-> subscriptions, "everything" subscriptions apart, and the keywords (filters that name no
topic of the taxonomy) behind a literal prefilter. Matching a card costs in proportion to the
card's text and to the matches, not to the number of subscriptions.

The rules are those of :func:`digests.topics.matches`, built on what that module exposes
(:func:`~digests.topics.normalize_filter`, :func:`~digests.topics.phrase_pattern`,
:func:`~digests.topics.match_text`): a subscription matches when it has no filters, when one of
its filter words is a topic the card is tagged with, or when one of its keywords (a filter word
that names no taxonomy topic) is found by its phrase pattern. Only the prefilter is ours: a
keyword's pattern can only match where its first run of word characters (less the last one,
which a plural may change) appears in the text, case-folded, so only keywords whose such piece
occurs in the card's text are tried. ``tests/bot/test_bot_matching.py`` checks index and plain
matcher agree on the matcher's own table and on random cards and filters.

Public API::

    index = SubscriptionIndex(topic_names)
    index.add(IndexedSubscription(...)); index.remove(sub_id)
    index.matching(card) -> list[IndexedSubscription]
    filters_matcher(topic_names, filters) -> (card -> bool)     # one filter list, e.g. /digest
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from digests.models import Card
from digests.topics import match_text, normalize_filter, phrase_pattern

__all__ = ["IndexedSubscription", "SubscriptionIndex", "filters_matcher", "keyword_key"]

_KEY_LENGTH = 6  # longest prefilter key: long enough to be rare, short enough to index cheaply
_WORD_RUN = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class IndexedSubscription:
    """What queueing needs of an active subscription."""

    id: int
    platform: str
    filters: tuple[str, ...]
    mode: str
    daily_time: str | None
    timezone: str


# Every character with a combining class, mapped to nothing (for str.translate). None lies
# above U+1FFFF (tests/bot/test_bot_matching.py checks it for the running Unicode version).
_COMBINING = {cp: None for cp in range(0x20000) if unicodedata.combining(chr(cp))}


def _fold(text: str) -> str:
    """Case-folded and without combining marks: a regex that ignores case finds "istanbul"
    in "İstanbul", whose case-fold keeps a combining dot ("i̇stanbul"), so the prefilter
    compares text folded this far, which only ever finds more candidates, never fewer.

    ``str.translate``, not a loop over characters: every card's text is folded for every
    match, and the loop was most of a ``/digest`` over 200 cards."""
    if text.isascii():
        return text.lower()  # the same as casefold + NFKD for ASCII
    return unicodedata.normalize("NFKD", text.casefold()).translate(_COMBINING)


def keyword_key(keyword: str) -> str:
    """A piece of ``keyword`` found, case-folded, in any text its phrase pattern matches.

    Its first run of word characters appears literally in every match, except that the
    keyword's last character may change ("company" matches "companies"). ``""`` when no such
    piece is left: the keyword is then tried on every card.
    """
    run = _WORD_RUN.search(keyword)
    if run is None:
        return ""
    piece = run.group()
    if run.end() == len(keyword):
        piece = piece[:-1]
    return _fold(piece)[:_KEY_LENGTH]


# Subscriptions share most of their filter words: a rebuild normalises each word once.
_normalized = functools.lru_cache(maxsize=65_536)(normalize_filter)


def _filter_words(filters: tuple[str, ...]) -> frozenset[str]:
    return frozenset(map(_normalized, filters)) - {""}


@functools.lru_cache(maxsize=65_536)
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    # Compiling a phrase pattern costs milliseconds; rebuilt indexes keep the compiled ones.
    return phrase_pattern([keyword])


class _Keywords:
    """Keywords behind their prefilter keys; each keyword's pattern compiled once."""

    def __init__(self, scan_above: int = 64) -> None:
        # Few keys (a /digest's filters): look each up in the text. Many (every
        # subscription's): look every short piece of the text up among them.
        self._scan_above = scan_above
        self._by_key: dict[str, set[str]] = {}
        self._lengths: dict[int, int] = {}  # key length -> how many keys have it

    def add(self, keyword: str) -> None:
        key = keyword_key(keyword)
        found = self._by_key.get(key)
        if found is None:
            found = self._by_key[key] = set()
            self._lengths[len(key)] = self._lengths.get(len(key), 0) + 1
        found.add(keyword)

    def discard(self, keyword: str) -> None:
        key = keyword_key(keyword)
        found = self._by_key.get(key)
        if found is None:
            return
        found.discard(keyword)
        if not found:
            del self._by_key[key]
            self._lengths[len(key)] -= 1
            if not self._lengths[len(key)]:
                del self._lengths[len(key)]

    def found_in(self, text: str) -> set[str]:
        folded = _fold(text)
        candidates: set[str] = set(self._by_key.get("", ()))
        by_key = self._by_key
        if len(by_key) <= self._scan_above:
            for key, keywords in by_key.items():
                if key in folded:
                    candidates.update(keywords)
            return {k for k in candidates if _keyword_pattern(k).search(text)}
        for length in self._lengths:
            if length == 0:
                continue
            for start in range(len(folded) - length + 1):
                hit = by_key.get(folded[start : start + length])
                if hit:
                    candidates.update(hit)
        return {k for k in candidates if _keyword_pattern(k).search(text)}


class SubscriptionIndex:
    """Active subscriptions by what they ask for; see the module docstring."""

    def __init__(self, topic_names: Collection[str] = (), *, scan_above: int = 64) -> None:
        self._topic_names = frozenset(normalize_filter(t) for t in topic_names)
        self._subs: dict[int, IndexedSubscription] = {}
        self._words_of: dict[int, frozenset[str]] = {}
        self._everything: set[int] = set()
        self._by_word: dict[str, set[int]] = {}
        self._keywords = _Keywords(scan_above)

    def __len__(self) -> int:
        return len(self._subs)

    def add(self, sub: IndexedSubscription) -> None:
        """Index ``sub`` (replacing what was indexed under its id)."""
        if sub.id in self._subs:
            self.remove(sub.id)
        words = _filter_words(sub.filters)
        self._subs[sub.id] = sub
        self._words_of[sub.id] = words
        if not words:
            self._everything.add(sub.id)
        for word in words:
            holders = self._by_word.get(word)
            if holders is None:
                holders = self._by_word[word] = set()
                if word not in self._topic_names:
                    self._keywords.add(word)
            holders.add(sub.id)

    def add_all(self, subs: Iterable[IndexedSubscription]) -> None:
        for sub in subs:
            self.add(sub)

    def remove(self, sub_id: int) -> None:
        if self._subs.pop(sub_id, None) is None:
            return
        self._everything.discard(sub_id)
        for word in self._words_of.pop(sub_id):
            holders = self._by_word[word]
            holders.discard(sub_id)
            if not holders:
                del self._by_word[word]
                self._keywords.discard(word)

    def matching(self, card: Card) -> list[IndexedSubscription]:
        """The subscriptions ``card`` matches, in subscription id order."""
        ids = set(self._everything)
        for topic in card.topics:
            ids.update(self._by_word.get(normalize_filter(topic), ()))
        for keyword in self._keywords.found_in(match_text(card)):
            ids.update(self._by_word[keyword])
        return [self._subs[i] for i in sorted(ids)]


def filters_matcher(topic_names: Collection[str], filters: Sequence[str]) -> Callable[[Card], bool]:
    """``matches(card, filters, taxonomy)`` for many cards: the keyword prefilter skips the
    patterns for cards that cannot match (most, for a rare keyword)."""
    index = SubscriptionIndex(topic_names)
    index.add(IndexedSubscription(0, "", tuple(filters), "instant", None, "UTC"))
    return lambda card: bool(index.matching(card))
