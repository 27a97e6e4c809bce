"""Topics: tagging cards from a keyword taxonomy, and matching cards against topic filters.

The taxonomy lives in ``config/topics.toml`` (see its header for how to edit it): English
keywords per topic, and the same topics' keywords in other languages, so a French piece on
"commerce" and a German one on "Handel" are both tagged ``trade``. Keywords match
case-insensitively as whole words or phrases, with simple plurals ("tariff" finds "tariffs",
"company" finds "companies"); "trade" never matches "trademark". A keyword ending in ``*`` matches
any word it starts ("торгов*" finds "торговля", "торговли"); Arabic keywords also match after the
attached "و", "ف", "ب", "ل", "ك". Chinese, Japanese and Korean keywords match anywhere (no spaces
mark words there; Korean attaches particles to nouns).
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
from digests.summary_units import CJK_CHARS_PER_WORD, is_cjk, text_length

__all__ = [
    "Taxonomy",
    "TaxonomyError",
    "match_text",
    "matches",
    "normalize_filter",
    "phrase_pattern",
]

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


@functools.lru_cache(maxsize=4096)  # matching asks it of every topic of every card
def normalize_filter(word: str) -> str:
    """A user's filter as compared: lower case, no '#', no surrounding punctuation.

    Underscores and runs of spaces become one space, so "#Climate_Change" is "climate change".
    """
    cleaned = _FILTER_INNER.sub(" ", word.strip().lstrip("#"))
    return _FILTER_EDGES.sub("", cleaned).lower()


_CJK = "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
_HAS_CJK = re.compile(f"[{_CJK}]")
# Word edges for spaced scripts: no letter, digit or hyphen of a spaced script next to the
# keyword. A CJK character next to it is an edge ("AI" in "AI技术").
# The class is compiled without re.IGNORECASE, which does not change what it matches (no code
# point differs, checked over all of Unicode) but spares the compiler folding the case of
# ~40,000 CJK code points in every pattern: the English keyword patterns compile in a third of
# the time, most of what `digestbot preview` spent on them.
_WORD_NOT_CJK = rf"(?-i:[^\W{_CJK}])"
_EDGE_BEFORE = rf"(?<!{_WORD_NOT_CJK}|-)"
_EDGE_AFTER = rf"(?!{_WORD_NOT_CJK}|-)"
# Arabic attaches "and", "so", "with", "for", "like" to the next word: "والتجارة" is "and trade".
_ARABIC_PROCLITICS = "(?:[\u0648\u0641]?[\u0628\u0644\u0643]?)"
_ARABIC = re.compile("[\u0600-\u06ff]")


def phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive regex for ``phrases``: whole words with simple plurals, prefixes
    for a trailing ``*``, substrings for CJK phrases."""
    spaced, arabic, cjk = _by_script(phrases)
    return re.compile(
        _alternatives(_longest_first(spaced), _longest_first(arabic), _longest_first(cjk)),
        re.IGNORECASE,
    )


def _by_script(phrases: Iterable[str]) -> tuple[set[str], set[str], set[str]]:
    """The regexes of ``phrases``, apart by how they meet their neighbours."""
    spaced: set[str] = set()
    arabic: set[str] = set()
    cjk: set[str] = set()
    for phrase in phrases:
        if not phrase.strip():
            continue
        if _HAS_CJK.search(phrase):
            cjk.add(_phrase_regex(phrase))
        elif _ARABIC.match(phrase.strip()):
            arabic.add(_phrase_regex(phrase))
        else:
            spaced.add(_phrase_regex(phrase))
    return spaced, arabic, cjk


def _longest_first(regexes: Iterable[str]) -> list[str]:
    return sorted(regexes, key=len, reverse=True)


def _alternatives(spaced: Sequence[str], arabic: Sequence[str], cjk: Sequence[str]) -> str:
    parts = []
    if spaced:
        parts.append(f"{_EDGE_BEFORE}(?:{'|'.join(spaced)}){_EDGE_AFTER}")
    if arabic:
        parts.append(f"{_EDGE_BEFORE}{_ARABIC_PROCLITICS}(?:{'|'.join(arabic)}){_EDGE_AFTER}")
    if cjk:
        parts.append(f"(?:{'|'.join(cjk)})")
    return f"(?:{'|'.join(parts)})" if parts else r"(?!x)x"  # (?!x)x matches nothing


def _phrase_regex(phrase: str) -> str:
    if _HAS_CJK.search(phrase):
        # Korean writes "경기 침체" and "경기침체" alike.
        return r"\s*".join(re.escape(w) for w in phrase.split())
    words = phrase.strip().lower().split()
    *head, last = words
    if last.endswith("*"):
        last_re = re.escape(last[:-1]) + r"\w*"
    elif re.fullmatch(r".*[^aeiou]y", last):
        last_re = re.escape(last[:-1]) + "(?:y|ies)"
    elif last[-1:].isalpha():
        last_re = re.escape(last) + "(?:e?s)?"
    else:
        last_re = re.escape(last)
    # Hyphens and spaces are interchangeable inside a phrase ("five-year plan").
    parts = [
        (re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w)).replace(r"\-", r"[\s-]")
        for w in head
    ]
    return r"[\s-]+".join([*parts, last_re.replace(r"\-", r"[\s-]")])


@dataclass(frozen=True, slots=True)
class _Matcher:
    """The patterns of one language: one per topic, and where any keyword starts.

    ``by_first``: for an ASCII letter or digit, the topics (in taxonomy order) that have a
    keyword starting with it, or that have one starting with anything but an ASCII letter or
    digit (those are tried everywhere); a keyword found at a position starts there, so no other
    topic's pattern can match at it. Positions holding any other character try every topic.
    """

    patterns: Mapping[str, re.Pattern[str]]
    starts: re.Pattern[str]
    by_first: Mapping[str, tuple[str, ...]]

    @classmethod
    def build(cls, topics: Mapping[str, Sequence[str]]) -> _Matcher:
        patterns = {name: phrase_pattern(words) for name, words in topics.items()}
        starts = _starts_pattern(w for words in topics.values() for w in words)
        return cls(patterns, starts, _topics_by_first_character(topics))

    def starts_in(self, text: str) -> list[int]:
        return [m.start() for m in self.starts.finditer(text)]

    def count(self, text: str, starts: Sequence[int]) -> dict[str, int]:
        """Per topic, ``len(pattern.findall(text))``, trying each pattern only where one of
        its keywords can start (see :func:`_count`: the same matches, topic by topic)."""
        counts = dict.fromkeys(self.patterns, 0)
        resume = dict.fromkeys(self.patterns, 0)
        everyone = tuple(self.patterns)
        by_first = self.by_first
        patterns = self.patterns
        for start in starts:
            first = text[start]
            names = by_first.get(first.lower(), ()) if first.isascii() else everyone
            for name in names:
                if start < resume[name]:
                    continue
                match = patterns[name].match(text, start)
                if match is not None:
                    counts[name] += 1
                    resume[name] = match.end()
        return counts


@dataclass(frozen=True)
class Taxonomy:
    """Topic name -> the keywords and phrases that signal it, in English (``topics``) and in
    other languages (``translations``: language code -> topic name -> keywords)."""

    topics: Mapping[str, tuple[str, ...]]
    translations: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    _matchers: dict[str, _Matcher] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        topics = {normalize_filter(name): tuple(words) for name, words in self.topics.items()}
        object.__setattr__(self, "topics", MappingProxyType(topics))
        translations = {
            _base_language(lang): MappingProxyType(
                {normalize_filter(name): tuple(words) for name, words in table.items()}
            )
            for lang, table in self.translations.items()
        }
        object.__setattr__(self, "translations", MappingProxyType(translations))
        # Compiled on first use: most deployments read one or two languages.
        object.__setattr__(self, "_matchers", {})

    def __hash__(self) -> int:
        # The mappings are read-only after __post_init__, so hashing their items is stable.
        return hash(
            (
                tuple(self.topics.items()),
                tuple((lang, tuple(t.items())) for lang, t in self.translations.items()),
            )
        )

    @classmethod
    def load(cls, path: Path) -> Taxonomy:
        """Read a topics file laid out as ``[topics.<name>] keywords = [...]``, with
        ``<language code> = [...]`` beside ``keywords`` for other languages."""
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except OSError as exc:
            raise TaxonomyError(path, f"cannot read the topics file ({exc.strerror})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise TaxonomyError(path, f"not valid TOML: {exc}") from exc
        topics, translations = _parse(path, data)
        return cls(topics, translations)

    def names(self) -> tuple[str, ...]:
        return tuple(self.topics)

    def languages(self) -> tuple[str, ...]:
        """Languages with keywords of their own: "en", then the others as in the file."""
        return ("en", *self.translations)

    def tag(
        self,
        *,
        title: str,
        text: str,
        categories: Sequence[str] = (),
        language: str | None = None,
    ) -> tuple[str, ...]:
        """Topics the piece is about, strongest first, then the feed's own categories.

        A topic counts when one of its keywords is in the title, or when its keywords occur
        often enough in the text (at least twice, more for long pieces, and not far behind the
        strongest topic). ``language`` (a code such as "fr" or "zh-Hans") picks that
        language's keywords; without one (or for one with no keywords) the script of the text
        picks Chinese, Japanese, Korean, Arabic or Russian, else English.
        """
        language = self._keyword_language(language, f"{title}\n{text}")
        matcher = self._matcher(language)
        cjk = is_cjk(language)
        # Long pieces mention more in passing; CJK length in word equivalents (not split()).
        length = text_length(text, cjk)
        words = int(length / CJK_CHARS_PER_WORD) if cjk else length
        needed = _MIN_TEXT_HITS + words // _WORDS_PER_EXTRA_HIT
        evidence: dict[str, tuple[int, int]] = {}
        title_counts = matcher.count(title, matcher.starts_in(title)) if title else {}
        text_counts = matcher.count(text, matcher.starts_in(text))
        for name in matcher.patterns:
            in_title = title_counts.get(name, 0)
            in_text = text_counts[name]
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

    def _keyword_language(self, language: str | None, text: str) -> str:
        """The language whose keywords to use: ``language`` when it has keywords, else one
        told by the script of ``text`` (kana, hangul, Han, Arabic, Cyrillic), else English."""
        if language:
            base = _base_language(language)
            if base == "en" or base in self.translations:
                return base
        guess = _script_language(text)
        return guess if guess in self.translations else "en"

    def _matcher(self, language: str) -> _Matcher:
        matcher = self._matchers.get(language)
        if matcher is None:
            table = self.topics if language == "en" else self.translations[language]
            matcher = self._matchers[language] = _Matcher.build(table)
        return matcher

    def _starts_in(self, text: str, language: str = "en") -> list[int]:
        return self._matcher(language).starts_in(text)


_OTHER_SCRIPT = re.compile("[\u0400-\u04ff\u0600-\u06ff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
_SCRIPT_LANGUAGES = (
    ("ko", "\uac00", "\ud7af"),
    ("ja", "\u3040", "\u30ff"),
    ("zh", "\u4e00", "\u9fff"),
    ("ar", "\u0600", "\u06ff"),
    ("ru", "\u0400", "\u04ff"),
)


def _script_language(text: str) -> str:
    """A language told by script alone, from the first 2,000 characters ("en": Latin or none).

    Kana before Han: Japanese mixes both. A few letters of a script are not enough (English
    pieces quote names in other scripts): it must be a fifth of the sample.
    """
    sample = text[:2000]
    found = _OTHER_SCRIPT.findall(sample)
    if len(found) <= 0.2 * (len(sample) - sample.count(" ")):
        return "en"
    for language, low, high in _SCRIPT_LANGUAGES:
        if sum(low <= c <= high for c in found) > 0.2 * len(found):
            return language
    return "en"


def _base_language(language: str) -> str:
    return language.replace("_", "-").split("-")[0].lower()


def _starts_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """Where a keyword of any topic starts: one scan of the text instead of one per topic.

    A zero-width lookahead finds every such position, overlapping ones included. The keywords
    are grouped by first character so that the engine tries a handful of them per word, not
    every keyword of the taxonomy (this cut ``tag`` by ~85% on ``bench/pipeline.py``'s pages).
    """
    spaced, arabic, cjk = _by_script(phrases)
    return re.compile(
        f"(?={_alternatives(_grouped(spaced), _grouped(arabic), _grouped(cjk))})", re.IGNORECASE
    )


def _grouped(regexes: Iterable[str]) -> list[str]:
    groups: dict[str, set[str]] = {}
    others: set[str] = set()
    for regex in regexes:
        if regex[0].isalnum():
            groups.setdefault(regex[0].lower(), set()).add(regex[1:])
        else:
            others.add(regex)
    branches = [
        f"{first}(?:{'|'.join(_longest_first(rests))})" for first, rests in sorted(groups.items())
    ]
    branches.extend(sorted(others))
    return branches


def _topics_by_first_character(topics: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    firsts: dict[str, set[str]] = {}
    everywhere: set[str] = set()
    for name, words in topics.items():
        for word in words:
            first = word.strip()[:1].lower()
            # Only ASCII letters and digits are safe to dispatch on: re.IGNORECASE also folds
            # a few other characters onto them ("ſ" onto "s", the Kelvin sign onto "k").
            if first.isascii() and first.isalnum():
                firsts.setdefault(first, set()).add(name)
            else:
                everywhere.add(name)
    order = list(topics)
    return {
        char: tuple(sorted(names | everywhere, key=order.index))
        for char, names in {
            c: firsts.get(c, set()) for c in "abcdefghijklmnopqrstuvwxyz0123456789"
        }.items()
    }


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
    return _keyword_pattern(frozenset(keywords)).search(match_text(card)) is not None


def match_text(card: Card) -> str:
    """The text keyword filters are looked for in: title, summary, key facts, topics and
    categories (not the article text: a passing mention is not what the piece is about)."""
    return "\n".join([card.title, *card.summary, *card.key_facts, *card.topics, *card.categories])


@functools.lru_cache(maxsize=1024)
def _keyword_pattern(keywords: frozenset[str]) -> re.Pattern[str]:
    # A digest run matches many cards against the same few subscriber filters.
    return phrase_pattern(keywords)


_LANGUAGE_KEY = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")


def _parse(
    path: Path, data: Mapping[str, object]
) -> tuple[dict[str, tuple[str, ...]], dict[str, dict[str, tuple[str, ...]]]]:
    table = data.get("topics")
    if not isinstance(table, dict) or not table:
        raise TaxonomyError(path, "expected [topics.<name>] tables with a `keywords` list")
    topics: dict[str, tuple[str, ...]] = {}
    translations: dict[str, dict[str, tuple[str, ...]]] = {}
    for name, body in table.items():
        if not normalize_filter(name):
            raise TaxonomyError(path, f"topic name {name!r} is empty once normalised")
        if not isinstance(body, dict):
            raise TaxonomyError(path, f'[topics.{name}] needs `keywords = ["...", ...]`')
        for key, keywords in body.items():
            if key != "keywords" and not _LANGUAGE_KEY.fullmatch(key):
                raise TaxonomyError(
                    path,
                    f'[topics.{name}] needs `keywords = ["...", ...]` and language codes'
                    f' (`fr = ["...", ...]`); {key!r} is neither',
                )
            label = "keywords" if key == "keywords" else f"keywords in {key!r}"
            if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
                raise TaxonomyError(path, f'[topics.{name}] needs `{key} = ["...", ...]`')
            cleaned = tuple(k.strip() for k in keywords if k.strip().strip("*"))
            if not cleaned:
                raise TaxonomyError(path, f"[topics.{name}] has no {label}")
            if key == "keywords":
                topics[name] = cleaned
            else:
                translations.setdefault(key, {})[name] = cleaned
        if name not in topics:
            raise TaxonomyError(path, f'[topics.{name}] needs `keywords = ["...", ...]`')
    return topics, translations
