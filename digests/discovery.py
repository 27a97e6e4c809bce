"""Feed autodiscovery: the feeds an HTML page links (``<link rel="alternate" type=...>`` in its
head); failing those, the links in its body that look like a feed ("RSS" in a footer, a
``/feeds/all.atom.xml``); and the few usual places a site keeps one. Pure functions; fetching
the page and checking the candidates is the caller's work (``bot.feed_probe``).

Public API::

    looks_like_html(content, content_type) -> bool
    feed_links(html, base_url) -> list[FeedLink]      # best first, each address once
    anchor_feed_urls(html, base_url) -> list[str]     # <a href> that look like feeds, best first
    page_feeds(html, base_url) -> (feed_links, anchor_feed_urls)  # the page read once
    common_feed_urls(page_url) -> list[str]           # /feed, /rss, ... on the page's site
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.etree
import lxml.html

from digests.textclean import clean_line

__all__ = [
    "COMMON_FEED_PATHS",
    "FeedLink",
    "anchor_feed_urls",
    "common_feed_urls",
    "feed_links",
    "looks_like_html",
    "page_feeds",
]

# The places feeds usually live when a page links none: WordPress and most blog engines
# (/feed), Hugo (/index.xml), Jekyll and static sites (/feed.xml, /atom.xml, /rss.xml).
COMMON_FEED_PATHS = ("/feed", "/rss", "/feed.xml", "/rss.xml", "/atom.xml", "/index.xml")

# Declared types that name a feed: the first ones always, the generic ones rank after them
# (WordPress pages link their REST API as an "application/json" alternate, not a feed).
_FEED_TYPES = {
    "application/rss+xml": 0,
    "application/atom+xml": 0,
    "application/feed+json": 0,
    "application/rdf+xml": 0,
    "application/x-rss+xml": 0,
    "application/x-atom+xml": 0,
    "application/json": 1,
    "text/xml": 1,
    "application/xml": 1,
}
_FEED_SUFFIXES = (".rss", ".xml", ".atom", ".rdf")
# Comments feeds (WordPress "Comments Feed", and its translations) are never the site's main
# feed: ranked last.
_COMMENTS = re.compile(
    r"comment|kommentar|коммент|коментар|coment|評論|评论|コメント|댓글|yorum|تعليق", re.I
)
_COMMENTS_HREF = re.compile(r"comments?[/-]|/comments?$|feed=comments", re.I)
# An <a href> that names a feed in its address ("/feed/", "/rss.php", "/feeds/all.atom.xml",
# "?feed=rss2") or, for an address that does not, in its text ("RSS", "Atom feed"). Sitemaps
# and OPML lists end in .xml too but are not feeds.
_FEED_WORD = re.compile(r"(?<![a-z])(?:rss2?|atom|feeds?|rdf)(?![a-z])", re.I)
_NOT_FEED_HREF = re.compile(r"sitemap|\.opml\?|/wp-json/|oembed", re.I)  # on "path?query"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_HTML_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|meta)\b",
    re.I | re.S,
)


@dataclass(frozen=True, slots=True)
class FeedLink:
    """A feed a page links: its absolute address, its ``title`` attribute, its declared type
    (lower case, ``""`` when the page declared none)."""

    url: str
    title: str | None
    type: str


def looks_like_html(content: bytes, content_type: str | None) -> bool:
    """Whether a fetched body is a web page (by its declared type, else by how it starts)."""
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if declared in _HTML_TYPES:
        return True
    return bool(_HTML_START.match(content[:2048].lstrip(b"\xef\xbb\xbf")))


def feed_links(html: bytes | str, base_url: str) -> list[FeedLink]:
    """The feeds ``html`` links with ``<link rel="alternate">``, resolved against its
    ``<base href>`` or else ``base_url``: main feeds first, then generic types (JSON, XML),
    then comments feeds; each address once; only http(s) addresses (never ``javascript:``,
    ``data:`` or a local file)."""
    return page_feeds(html, base_url)[0]


def anchor_feed_urls(html: bytes | str, base_url: str) -> list[str]:
    """The addresses of ``html``'s ``<a href>`` links that look like feeds, for a page with no
    ``<link rel="alternate">``: addresses that end like a feed file or name a feed in their
    path or query first, then links whose text alone says "RSS", "Atom" or "Feed"; links to
    the page's own site before others; comments feeds last; each address once."""
    return page_feeds(html, base_url)[1]


def page_feeds(html: bytes | str, base_url: str) -> tuple[list[FeedLink], list[str]]:
    """:func:`feed_links` and :func:`anchor_feed_urls` of one page, read once."""
    root = _parse(html)
    if root is None:
        return [], []
    base = _base(root, base_url)
    return _linked_feeds(root, base), _feed_anchors(root, base, base_url)


def _linked_feeds(root: lxml.html.HtmlElement, base: str) -> list[FeedLink]:
    ranked: dict[str, tuple[int, int, FeedLink]] = {}
    for order, element in enumerate(root.iter("link")):
        found = _feed_link(element, base)
        if found is None:
            continue
        link, rank = found
        previous = ranked.get(link.url)
        if previous is None or rank < previous[0]:  # a duplicate keeps its first place
            ranked[link.url] = (rank, previous[1] if previous else order, link)
    return [link for _, _, link in sorted(ranked.values(), key=lambda r: (r[0], r[1]))]


def _feed_anchors(root: lxml.html.HtmlElement, base: str, page_url: str) -> list[str]:
    site = (urlsplit(page_url).hostname or "").lower()
    ranked: dict[str, tuple[int, int]] = {}
    for order, element in enumerate(root.iter("a")):
        href = (element.get("href") or "").strip()
        url = _absolute(base, href) if href else None
        if url is None:
            continue
        parts = urlsplit(url)
        where = f"{parts.path}?{parts.query}"
        if _NOT_FEED_HREF.search(where):
            continue
        host = (parts.hostname or "").lower()
        # Another site's name counts too (feeds.feedburner.com); the page's own would make
        # every link of an "rss-news.example" look like a feed.
        named = where if host == site else f"{host}{where}"
        if parts.path.lower().endswith(_FEED_SUFFIXES) or _FEED_WORD.search(named):
            rank = 0
        elif _FEED_WORD.search(clean_line(element.text_content() or "")):
            rank = 2
        else:
            continue
        if host != site:
            rank += 1  # a feed service is fine, but the site's own feed is likelier
        if _COMMENTS_HREF.search(where):
            rank += 10
        if url not in ranked or rank < ranked[url][0]:
            ranked[url] = (rank, ranked[url][1] if url in ranked else order)
    return [url for url, _ in sorted(ranked.items(), key=lambda item: item[1])]


def common_feed_urls(page_url: str) -> list[str]:
    """:data:`COMMON_FEED_PATHS` at the root of ``page_url``'s site (http(s) only)."""
    parts = urlsplit(page_url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return []
    return [urlunsplit((parts.scheme, parts.netloc, path, "", "")) for path in COMMON_FEED_PATHS]


def _parse(html: bytes | str) -> lxml.html.HtmlElement | None:
    if isinstance(html, bytes):
        # Most pages are UTF-8; lxml would read undeclared bytes as Latin-1.
        with contextlib.suppress(UnicodeDecodeError):
            html = html.decode("utf-8")
    if not html or not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except ValueError:  # a str with an XML encoding declaration: let lxml read the bytes
        if isinstance(html, str):
            return _parse_bytes(html.encode("utf-8"))
        return None
    except lxml.etree.ParserError:
        return None


def _parse_bytes(data: bytes) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.document_fromstring(data)
    except (ValueError, lxml.etree.ParserError):
        return None


def _base(root: lxml.html.HtmlElement, page_url: str) -> str:
    for element in root.iter("base"):
        href = (element.get("href") or "").strip()
        if href:
            resolved = _absolute(page_url, href)
            return resolved or page_url
    return page_url


def _feed_link(element: lxml.html.HtmlElement, base: str) -> tuple[FeedLink, int] | None:
    rel = (element.get("rel") or "").lower().split()
    if "alternate" not in rel and "feed" not in rel:
        return None
    href = (element.get("href") or "").strip()
    kind = (element.get("type") or "").split(";", 1)[0].strip().lower()
    if kind:
        rank = _FEED_TYPES.get(kind)
        if rank is None:
            return None
    elif urlsplit(href).path.lower().endswith(_FEED_SUFFIXES):
        rank = 1
    else:  # an alternate without a type is another language or format of the page
        return None
    url = _absolute(base, href) if href else None
    if url is None:
        return None
    title = clean_line(element.get("title") or "") or None
    parts = urlsplit(url)
    if _COMMENTS.search(title or "") or _COMMENTS_HREF.search(f"{parts.path}?{parts.query}"):
        rank += 10
    return FeedLink(url, title, kind), rank


def _absolute(base: str, href: str) -> str | None:
    """``href`` resolved against ``base``; ``None`` unless it is an http(s) address.
    ``feed://host/x`` and ``feed:https://host/x`` (old feed-reader links) are their http(s)."""
    lowered = href.lower()
    if lowered.startswith("feed:"):
        rest = href[5:]
        href = rest if rest.lower().startswith(("http://", "https://")) else "http:" + rest
    try:
        url = urljoin(base, href)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return urlunsplit(parts._replace(fragment=""))
