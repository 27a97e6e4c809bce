"""Article -> digest card: a pure function over plain data (no I/O, no clock)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from digests import lang
from digests.config import PipelineConfig
from digests.extract import html_fragment_paragraphs
from digests.facts import key_facts, stands_alone
from digests.lang import resolve_language
from digests.models import Article, Card, FeedEntry
from digests.summarize import article_sentences, summarize
from digests.textclean import clean_card
from digests.topics import Taxonomy, normalize_filter

_WORD = re.compile(r"\w+")


def reading_minutes(
    text: str,
    words_per_minute: int,
    language: str | None = None,
    chars_per_minute: int = lang.CJK_CHARS_PER_MINUTE,
) -> int:
    """Whole minutes to read ``text``, rounded up, at least one; characters, not words, count
    for Chinese, Japanese and Korean (:func:`digests.lang.reading_minutes`)."""
    return lang.reading_minutes(
        text, language, words_per_minute=words_per_minute, chars_per_minute=chars_per_minute
    )


def _unique(values: Iterable[str], *, key: str = "") -> tuple[str, ...]:
    """Values in first-seen order, blanks dropped, duplicates compared case-insensitively."""
    seen: dict[str, str] = {}
    for value in values:
        cleaned = " ".join(value.split())
        folded = cleaned.casefold()
        if cleaned and folded not in seen:
            seen[folded] = cleaned.lower() if key == "lower" else cleaned
    return tuple(seen.values())


_HOST = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[\w-]+(?:\.[\w-]+)+|localhost)(?::\d+)?\.?$")


def site_name(source: str | None) -> str | None:
    """A site's name, or ``None`` when it is only a host (``127.0.0.1:43109``,
    ``www.example.com``): the feed's name says more, and a bare host reads as an error."""
    if not source or _HOST.match(source.strip()):
        return None
    return source


def person_name(author: str | None, not_people: Iterable[str | None] = ()) -> str | None:
    """``author`` when it can be a person's name: not a section or column the feed also files the
    piece under ("First Voice" as author and category), not the site's name, no address or URL,
    some letters."""
    if not author or not any(c.isalpha() for c in author):
        return None
    if "@" in author or "://" in author:
        return None
    folded = " ".join(author.split()).casefold()
    if any(folded == " ".join(n.split()).casefold() for n in not_people if n):
        return None
    return author


def card_topics(
    tags: Iterable[str], categories: Iterable[str], taxonomy: Taxonomy
) -> tuple[str, ...]:
    """The topics shown on a card: taxonomy topics only. A feed's own categories ("Opinions",
    "First Voice", "China") stay in ``Card.categories``, where keyword filters still find
    them, and show as a topic only when they name a taxonomy topic."""
    known = set(taxonomy.names())
    # Taxonomy.tag appends the categories to its topics: both are filtered the same way.
    named = (normalize_filter(t) for t in [*tags, *categories])
    return _unique([t for t in named if t in known], key="lower")


def _folded(sentence: str) -> str:
    return " ".join(_WORD.findall(sentence.casefold()))


def _repeats(fact: str, summary: Iterable[str]) -> bool:
    """Does the summary already say ``fact`` (whole, or a trimmed summary sentence's start)?"""
    folded = _folded(fact)
    return any(folded in said or (said and said in folded) for said in map(_folded, summary))


def _tag(
    taxonomy: Taxonomy,
    title: str,
    text: str,
    categories: tuple[str, ...],
    language: str | None,
) -> tuple[str, ...]:
    # English (or unknown) is the taxonomy's default reading, so it is asked the way it always
    # was; only another language is named (its keywords, not the script's guess, apply).
    if language in (None, "en"):
        return taxonomy.tag(title=title, text=text, categories=categories)
    return taxonomy.tag(title=title, text=text, categories=categories, language=language)


def build_card(
    article: Article,
    *,
    taxonomy: Taxonomy,
    config: PipelineConfig,
    entry: FeedEntry | None = None,
) -> Card:
    """The digest card for ``article``; ``entry`` (when it came from a feed) adds its identity,
    categories and the dates or author the page did not give."""
    categories = _unique([*article.categories, *(entry.categories if entry else ())])
    sentences = article_sentences(article.text)  # split once for the summary and the facts
    summary = summarize(
        article.text,
        max_words=config.max_summary_words,
        max_sentences=config.max_summary_sentences,
        title=article.title,
        sentences=sentences,
        language=article.language,
    )
    # key_facts only ranks summary sentences lower; on one card a repeat reads as padding, so
    # ask for a few spare facts and drop those the summary already says.
    spare = key_facts(
        article.text,
        exclude=summary,
        max_facts=config.max_key_facts + len(summary),
        sentences=sentences,
        language=article.language,
    )
    # A bullet must stand alone: a figure a reader would quote, no "It ..." for what came before.
    facts = [f for f in spare if not _repeats(f, summary) and stands_alone(f, article.language)][
        : config.max_key_facts
    ]
    tags = _tag(taxonomy, article.title, article.text, categories, article.language)
    published = article.published or (entry.published or entry.updated if entry else None)
    card = Card(
        title=article.title or (entry.title if entry else "") or article.url,
        url=article.url,
        source=site_name(article.source),
        published=published,
        summary=tuple(summary),
        key_facts=tuple(facts),
        editors_note=article.editors_note,
        topics=card_topics(tags, categories, taxonomy),
        reading_minutes=reading_minutes(
            article.text,
            config.words_per_minute,
            article.language,
            config.cjk_chars_per_minute,
        ),
        text=article.text,
        categories=categories,
        author=person_name(
            article.author or (entry.author if entry else None), (*categories, article.source)
        ),
        entry_id=entry.entry_id if entry else None,
        feed_url=entry.feed_url if entry else None,
        language=article.language,
    )
    return clean_card(card)


def link_card(entry: FeedEntry, *, taxonomy: Taxonomy, config: PipelineConfig) -> Card:
    """The card for an entry whose piece could not be read at all (page unreachable, feed
    without content): headline, link, and the feed's own blurb when it has one.

    Subscribers still learn that the piece exists, which beats losing it; reading time is 0
    (unknown) so that renderers leave it out.
    """
    blurb = ""
    if entry.summary_html and entry.summary_html.strip():
        blurb = "\n\n".join(html_fragment_paragraphs(entry.summary_html))
    language = resolve_language([entry.language], f"{entry.title}\n{blurb}")
    summary = (
        summarize(blurb, max_words=config.max_summary_words, title=entry.title, language=language)
        if blurb
        else []
    )
    categories = _unique(entry.categories)
    tags = _tag(taxonomy, entry.title, blurb, categories, language)
    card = Card(
        title=entry.title or entry.link or entry.feed_url,
        url=entry.link or entry.feed_url,
        source=None,
        published=entry.published or entry.updated,
        summary=tuple(summary),
        key_facts=(),
        editors_note=None,
        topics=card_topics(tags, categories, taxonomy),
        reading_minutes=0,
        text=blurb,
        categories=categories,
        author=person_name(entry.author, categories),
        entry_id=entry.entry_id,
        feed_url=entry.feed_url,
        language=language,
    )
    return clean_card(card)
