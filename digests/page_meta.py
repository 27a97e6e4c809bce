"""A page's title, site, author, address, date and categories for its card, read cheaply.

trafilatura's metadata pass (``bare_extraction(with_metadata=True)``) costs as much as a third
of the extraction: it reads the ``<meta>`` tags and JSON-LD (cheap), then always runs its
heuristics for the author (a copy of the whole tree searched for bylines), the date (htmldate),
categories and tags (links under the page's furniture), a licence and the host's registered
domain. A card needs most of those only when the page's tags do not say. This module takes the
same steps in the same order with trafilatura's own functions (the byline and category
searches with :mod:`digests.meta_search`, which finds the same for less CPU), and runs each
costly fallback only when the tags leave its field empty and the caller has no other source for
it (the feed entry's date or categories), so the fields come out as trafilatura's would; the
licence and the host are never read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document

from digests.meta_search import categories_and_tags, extract_author

__all__ = ["PageMeta", "page_meta", "published_time"]

log = logging.getLogger(__name__)

_PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "dc.date.issued",
    "sailthru.date",
)


@dataclass(frozen=True, slots=True)
class PageMeta:
    """What a page says about itself; ``None`` (or empty) where it says nothing."""

    title: str | None
    url: str | None
    sitename: str | None
    author: str | None
    published: datetime | None
    categories: tuple[str, ...]


def page_meta(
    tree: Any,
    url: str | None,
    *,
    need_author: bool = True,
    need_date: bool = True,
    need_categories: bool = True,
) -> PageMeta:
    """The page's metadata as ``trafilatura.extract_metadata`` reads it, its costly steps
    skipped where they are not needed.

    ``need_date=False``: the caller has a date (the feed entry's), so htmldate is not asked
    when the tags hold no publication time. ``need_categories=False``: the entry's categories
    will be used, so the page's category and tag links are not searched (the categories and
    keywords its tags name are still read). ``need_author``: search the page for a byline when
    its tags name no author.
    """
    document = examine_meta(tree)
    # As trafilatura does: a one-word "author" in the tags is a handle or a site, not a name.
    if document.author and " " not in document.author:
        document.author = None
    try:
        document = extract_meta_json(tree, document)
    except Exception as exc:  # trafilatura guards its JSON-LD reader the same way
        log.debug("JSON-LD metadata unreadable: %s", exc)
    if not document.title:
        document.title = extract_title(tree)
    if not document.author and need_author:
        document.author = extract_author(tree)
    if not document.url:
        document.url = extract_url(tree, url)
    published = published_time(tree)
    if published is None and need_date:
        published = _htmldate(tree, document.url)
    _name_site(document, tree)
    if need_categories and not (document.categories and document.tags):
        categories, tags = categories_and_tags(
            tree, categories=not document.categories, tags=not document.tags
        )
        document.categories = document.categories or categories
        document.tags = document.tags or tags
    document.clean_and_trim()
    return PageMeta(
        title=document.title or None,
        url=document.url or None,
        sitename=document.sitename or None,
        author=document.author or None,
        published=published,
        categories=_categories(document),
    )


def published_time(tree: Any) -> datetime | None:
    """The full publication timestamp from ``<meta>`` (trafilatura keeps only the day)."""
    for meta in tree.iter("meta"):
        name = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if name in _PUBLISHED_META:
            parsed = parse_datetime(meta.get("content"))
            if parsed is not None:
                return parsed
    return None


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 date or time as an aware UTC datetime (naive values are taken as UTC)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _htmldate(tree: Any, url: str | None) -> datetime | None:
    from htmldate import find_date
    from trafilatura.settings import set_date_params

    params = set_date_params(True)
    params["url"] = url
    return parse_datetime(find_date(tree, **params))


def _name_site(document: Document, tree: Any) -> None:
    # trafilatura.metadata.extract_metadata's steps for the site's name, in its order.
    if not document.sitename:
        document.sitename = extract_sitename(tree)
    if document.sitename:
        name = document.sitename.lstrip("@")
        if name and "." not in name and not name[0].isupper():
            name = name.title()
        document.sitename = name
    elif document.url:
        match = META_URL.match(document.url)
        if match:
            document.sitename = match[1]


def _categories(document: Document) -> tuple[str, ...]:
    values: list[str] = []
    for field in (document.categories, document.tags):
        for value in field or []:
            values.extend(part.strip() for part in str(value).split(","))
    return tuple(dict.fromkeys(v for v in values if v))
