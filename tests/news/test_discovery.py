"""Feed autodiscovery (digests.discovery): the table of pages and the feeds found in them."""

from __future__ import annotations

import pytest

from digests.discovery import (
    FeedLink,
    anchor_feed_urls,
    common_feed_urls,
    feed_links,
    looks_like_html,
    page_feeds,
)

PAGE = "https://blog.example/2026/12/some-article.html"


def head(*links: str, base: str = "") -> str:
    return f"<!doctype html><html><head><title>x</title>{base}{''.join(links)}</head><body/></html>"


WORDPRESS = head(
    '<link rel="alternate" type="application/rss+xml" title="Blog &raquo; Post Comments Feed" '
    'href="https://blog.example/2026/12/some-article.html/feed/">',
    '<link rel="alternate" type="application/rss+xml" title="Blog &raquo; Comments Feed" '
    'href="https://blog.example/comments/feed/">',
    '<link rel="alternate" type="application/rss+xml" title="Blog &raquo; Feed" '
    'href="https://blog.example/feed/">',
    '<link rel="alternate" type="application/json" href="https://blog.example/wp-json/wp/v2/posts/9">',
    '<link rel="alternate" type="application/json+oembed" href="https://blog.example/oembed">',
)

CASES: list[tuple[str, str, list[tuple[str, str | None, str]]]] = [
    (
        "relative href against the page",
        head('<link rel="alternate" type="application/rss+xml" title="News" href="../rss.xml">'),
        [("https://blog.example/2026/rss.xml", "News", "application/rss+xml")],
    ),
    (
        "base href wins over the page address",
        head(
            '<link rel="alternate" type="application/atom+xml" href="atom.xml">',
            base='<base href="https://cdn.example/site/">',
        ),
        [("https://cdn.example/site/atom.xml", None, "application/atom+xml")],
    ),
    (
        "rel with several tokens, type in capitals with parameters",
        head('<LINK REL="home Alternate" TYPE="Application/Atom+XML; charset=utf-8" HREF="/atom">'),
        [("https://blog.example/atom", None, "application/atom+xml")],
    ),
    (
        "JSON Feed",
        head('<link rel="alternate" type="application/feed+json" href="/feed.json">'),
        [("https://blog.example/feed.json", None, "application/feed+json")],
    ),
    (
        "no type, but a feed-like href; a typeless hreflang alternate is no feed",
        head(
            '<link rel="alternate" hreflang="de" href="/de/some-article.html">',
            '<link rel="alternate" href="/index.rss" title="RSS">',
        ),
        [("https://blog.example/index.rss", "RSS", "")],
    ),
    (
        "WordPress: the main feed first, JSON after it, comments feeds last",
        WORDPRESS,
        [
            ("https://blog.example/feed/", "Blog » Feed", "application/rss+xml"),
            ("https://blog.example/wp-json/wp/v2/posts/9", None, "application/json"),
            (
                "https://blog.example/2026/12/some-article.html/feed/",
                "Blog » Post Comments Feed",
                "application/rss+xml",
            ),
            ("https://blog.example/comments/feed/", "Blog » Comments Feed", "application/rss+xml"),
        ],
    ),
    (
        "a translated comments feed is ranked last too",
        head(
            '<link rel="alternate" type="application/rss+xml" title="Blog » Kommentar-Feed" '
            'href="/comments/feed/">',
            '<link rel="alternate" type="application/rss+xml" title="Blog » Feed" href="/feed/">',
        ),
        [
            ("https://blog.example/feed/", "Blog » Feed", "application/rss+xml"),
            ("https://blog.example/comments/feed/", "Blog » Kommentar-Feed", "application/rss+xml"),
        ],
    ),
    (
        "duplicates once, at their first place; fragments dropped",
        head(
            '<link rel="alternate" type="application/rss+xml" href="/rss.xml">',
            '<link rel="alternate" type="application/atom+xml" href="/atom.xml">',
            '<link rel="alternate" type="application/rss+xml" href="https://blog.example/rss.xml#x">',
        ),
        [
            ("https://blog.example/rss.xml", None, "application/rss+xml"),
            ("https://blog.example/atom.xml", None, "application/atom+xml"),
        ],
    ),
    (
        "javascript:, data:, file: and empty hrefs refused",
        head(
            '<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">',
            '<link rel="alternate" type="application/rss+xml" href="data:text/xml,<rss/>">',
            '<link rel="alternate" type="application/rss+xml" href="file:///etc/passwd">',
            '<link rel="alternate" type="application/rss+xml" href="  ">',
            '<link rel="alternate" type="application/rss+xml">',
        ),
        [],
    ),
    (
        "feed: scheme links are their http address",
        head('<link rel="alternate" type="application/rss+xml" href="feed://news.example/rss">'),
        [("http://news.example/rss", None, "application/rss+xml")],
    ),
    (
        "stylesheets, icons and other alternates are no feeds",
        head(
            '<link rel="stylesheet" type="text/css" href="/s.css">',
            '<link rel="icon" href="/favicon.xml">',
            '<link rel="alternate" type="text/html" href="/print.html">',
            '<link rel="alternate" media="only screen" href="/m/">',
        ),
        [],
    ),
    (
        "malformed HTML: unclosed tags, a link in the body, no head",
        "<html><body><div><p>text<link rel=alternate type=application/rss+xml href=/r.xml "
        'title="Body feed"><p',
        [("https://blog.example/r.xml", "Body feed", "application/rss+xml")],
    ),
    ("empty page", "", []),
    ("not HTML at all", "\x00\x01 binary \xff", []),
]


@pytest.mark.parametrize(("html", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_feed_links(html: str, expected: list[tuple[str, str | None, str]]) -> None:
    assert feed_links(html, PAGE) == [FeedLink(*row) for row in expected]


def test_bytes_in_utf8_and_in_a_declared_charset() -> None:
    link = (
        '<link rel="alternate" type="application/rss+xml" title="Nachrichten für alle" href="/f">'
    )
    assert feed_links(head(link).encode("utf-8"), PAGE)[0].title == "Nachrichten für alle"
    latin = head('<meta charset="iso-8859-1">', link).encode("latin-1")
    assert feed_links(latin, PAGE)[0].title == "Nachrichten für alle"
    xhtml = '<?xml version="1.0" encoding="utf-8"?>' + head(link)
    assert feed_links(xhtml, PAGE)[0].url == "https://blog.example/f"


def body(*anchors: str, base: str = "") -> str:
    return f"<html><head>{base}</head><body><p>text</p><footer>{''.join(anchors)}</footer></body>"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (body('<a href="/feed/">Subscribe</a>'), ["https://blog.example/feed/"]),
        (body('<a href="../rss.php">RSS</a>'), ["https://blog.example/2026/rss.php"]),
        (body('<a href="/feeds/all.atom.xml">x</a>'), ["https://blog.example/feeds/all.atom.xml"]),
        (body('<a href="/?feed=rss2">x</a>'), ["https://blog.example/?feed=rss2"]),
        (body('<a href="/subscribe">RSS</a>'), ["https://blog.example/subscribe"]),
        (body('<a href="/follow">Atom feed</a>'), ["https://blog.example/follow"]),
        # words that only contain a feed word, sitemaps, OPML lists and script links: none
        (body('<a href="/feedback">Contact</a>', '<a href="/atomic-habits">Read</a>'), []),
        (body('<a href="/sitemap.xml">Sitemap</a>', '<a href="/blogroll.opml">OPML</a>'), []),
        (body('<a href="javascript:rss()">RSS</a>', '<a href="mailto:a@b.c">RSS</a>'), []),
        (body('<a href="/about">About us</a>'), []),
        # an address that names a feed before text alone; the site's own before a service;
        # comments last; each address once
        (
            body(
                '<a href="/comments/feed/">Comments RSS</a>',
                '<a href="/subscribe">RSS</a>',
                '<a href="https://feeds.feedburner.com/blog">Feed</a>',
                '<a href="/feed/">x</a>',
                '<a href="/feed/">again</a>',
            ),
            [
                "https://blog.example/feed/",
                "https://feeds.feedburner.com/blog",
                "https://blog.example/subscribe",
                "https://blog.example/comments/feed/",
            ],
        ),
        (
            body('<a href="rss.xml">RSS</a>', base='<base href="https://cdn.example/news/">'),
            ["https://cdn.example/news/rss.xml"],
        ),
    ],
)
def test_anchor_feed_urls(html: str, expected: list[str]) -> None:
    assert anchor_feed_urls(html, PAGE) == expected


def test_a_site_named_like_a_feed_does_not_make_every_link_one() -> None:
    page = body('<a href="/about">About</a>', '<a href="https://feeds.example/news">x</a>')
    assert anchor_feed_urls(page, "https://rss-news.example/a.html") == [
        "https://feeds.example/news"
    ]


def test_page_feeds_reads_both_from_one_page() -> None:
    page = WORDPRESS.replace("<body/>", '<body><a href="/rss.xml">RSS</a></body>')
    assert page_feeds(page, PAGE) == (feed_links(page, PAGE), ["https://blog.example/rss.xml"])
    assert page_feeds("", PAGE) == ([], [])


def test_common_places_on_the_pages_site() -> None:
    assert common_feed_urls("https://blog.example:8443/a/b.html?x=1") == [
        f"https://blog.example:8443{p}"
        for p in ("/feed", "/rss", "/feed.xml", "/rss.xml", "/atom.xml", "/index.xml")
    ]
    assert common_feed_urls("file:///srv/page.html") == []


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        (b"<rss/>", "text/html; charset=utf-8", True),
        (b"\xef\xbb\xbf  <!DOCTYPE html><p>", None, True),
        (b"<!-- generator --><html lang=en>", "application/octet-stream", True),
        (b'<?xml version="1.0"?><rss version="2.0"/>', "application/xml", False),
        (b'<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN">', None, True),
        (b'{"version": "https://jsonfeed.org/version/1.1"}', None, False),
    ],
)
def test_looks_like_html(content: bytes, content_type: str | None, expected: bool) -> None:
    assert looks_like_html(content, content_type) is expected
