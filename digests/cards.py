"""Article -> digest card: a pure function over plain data (no I/O, no clock)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from digests.config import PipelineConfig
from digests.extract import html_fragment_paragraphs
from digests.facts import key_facts
from digests.models import Article, Card, FeedEntry
from digests.summarize import article_sentences, summarize
from digests.textclean import clean_card
from digests.topics import Taxonomy

_WORD = re.compile(r"\w+")


def reading_minutes(text: str, words_per_minute: int) -> int:
    """Whole minutes to read ``text``, rounded up, at least one."""
    words = len(_WORD.findall(text))
    return max(1, math.ceil(words / max(1, words_per_minute)))


def _unique(values: Iterable[str], *, key: str = "") -> tuple[str, ...]:
    """Values in first-seen order, blanks dropped, duplicates compared case-insensitively."""
    seen: dict[str, str] = {}
    for value in values:
        cleaned = " ".join(value.split())
        folded = cleaned.casefold()
        if cleaned and folded not in seen:
            seen[folded] = cleaned.lower() if key == "lower" else cleaned
    return tuple(seen.values())


def _folded(sentence: str) -> str:
    return " ".join(_WORD.findall(sentence.casefold()))


def _repeats(fact: str, summary: Iterable[str]) -> bool:
    """Does the summary already say ``fact`` (whole, or a trimmed summary sentence's start)?"""
    folded = _folded(fact)
    return any(folded in said or (said and said in folded) for said in map(_folded, summary))


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
    )
    # key_facts only ranks summary sentences lower; on one card a repeat reads as padding, so
    # ask for a few spare facts and drop those the summary already says.
    spare = key_facts(
        article.text,
        exclude=summary,
        max_facts=config.max_key_facts + len(summary),
        sentences=sentences,
    )
    facts = [f for f in spare if not _repeats(f, summary)][: config.max_key_facts]
    tags = taxonomy.tag(title=article.title, text=article.text, categories=categories)
    published = article.published or (entry.published or entry.updated if entry else None)
    card = Card(
        title=article.title or (entry.title if entry else "") or article.url,
        url=article.url,
        source=article.source,
        published=published,
        summary=tuple(summary),
        key_facts=tuple(facts),
        editors_note=article.editors_note,
        topics=_unique([*tags, *categories], key="lower"),
        reading_minutes=reading_minutes(article.text, config.words_per_minute),
        text=article.text,
        categories=categories,
        author=article.author or (entry.author if entry else None),
        entry_id=entry.entry_id if entry else None,
        feed_url=entry.feed_url if entry else None,
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
    summary = (
        summarize(blurb, max_words=config.max_summary_words, title=entry.title) if blurb else []
    )
    categories = _unique(entry.categories)
    tags = taxonomy.tag(title=entry.title, text=blurb, categories=categories)
    card = Card(
        title=entry.title or entry.link or entry.feed_url,
        url=entry.link or entry.feed_url,
        source=None,
        published=entry.published or entry.updated,
        summary=tuple(summary),
        key_facts=(),
        editors_note=None,
        topics=_unique([*tags, *categories], key="lower"),
        reading_minutes=0,
        text=blurb,
        categories=categories,
        author=entry.author,
        entry_id=entry.entry_id,
        feed_url=entry.feed_url,
    )
    return clean_card(card)
