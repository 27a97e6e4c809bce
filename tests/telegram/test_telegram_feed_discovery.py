"""Feed autodiscovery from the chat, end to end: the real App with the Telegram adapter, the
fake Bot API, SQLite, and a local site on 127.0.0.1 whose pages link their feeds (or do not).

``/addfeed`` of a page adds the feed the page links (the site's main feed, never its comments
feed first) and lists the others; a page that links none leads to the site's usual places, a
bounded few requests; a site with no feed at all gets the old "not a feed" reply.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.test_telegram_end_to_end import Clock
from tests.telegram.test_telegram_user_feeds import ALICE, ask, make_settings, worker

RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
    "<link>http://example.org/</link><description>d</description>{items}</channel></rss>"
)


def rss(title: str, entries: int) -> str:
    items = "".join(
        f"<item><title>Entry {n}</title><link>http://example.org/{n}</link>"
        f"<guid>{title}-{n}</guid></item>"
        for n in range(entries)
    )
    return RSS.format(title=title, items=items)


def page(*links: str) -> str:
    return f"<!doctype html><html><head><title>A post</title>{''.join(links)}</head><body>x</body>"


@dataclass
class Site:
    """Paths to (content type, body); every request is recorded."""

    routes: dict[str, tuple[str, str]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _serve(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        if request.path not in self.routes:
            raise web.HTTPNotFound()
        kind, body = self.routes[request.path]
        return web.Response(text=body, content_type=kind)


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    served = Site()
    app = web.Application()
    app.router.add_get("/{tail:.*}", served._serve)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    served.port = int(runner.addresses[0][1])
    try:
        yield served
    finally:
        await runner.cleanup()


RSS_TYPE = "application/rss+xml"


async def test_a_page_leads_to_its_main_feed_and_lists_the_others(
    tmp_path: Path, fake: FakeBotApi, site: Site
) -> None:
    site.routes["/2026/post.html"] = (
        "text/html",
        page(
            '<link rel="alternate" type="application/rss+xml" title="Blog &raquo; Comments '
            'Feed" href="/comments/feed/">',
            '<link rel="alternate" type="application/rss+xml" title="Blog &raquo; Feed" '
            'href="../feed/">',
            '<link rel="alternate" type="application/atom+xml" title="Blog (Atom)" '
            'href="/atom.xml">',
        ),
    )
    site.routes["/feed/"] = (RSS_TYPE, rss("Blog", 2))
    site.routes["/comments/feed/"] = (RSS_TYPE, rss("Comments", 5))
    settings = make_settings(tmp_path, fake, allow_private_addresses=True)
    async with worker(settings, Clock()) as app:
        reply = await ask(fake, ALICE, f"/addfeed {site.url('/2026/post.html')}")
        assert reply.splitlines() == [
            "Found the feed 'Blog' on that page: added, 2 entries there now.",
            f"Its address: {site.url('/feed/')}",
            "New entries come to this chat, filtered by the topics and keywords it follows.",
            "The page links 2 other feeds; add one with:",
            f"- Blog (Atom): /addfeed {site.url('/atom.xml')}",
            f"- Blog » Comments Feed: /addfeed {site.url('/comments/feed/')}",
            "This chat is not subscribed yet: send /subscribe to get them.",
        ]
        assert [f.url for f in await app.store.list_feeds()] == [site.url("/feed/")]
        # The page again: the chat has its feed already.
        again = await ask(fake, ALICE, f"/addfeed {site.url('/2026/post.html')}")
        assert again.startswith("This chat has 'Blog' already.")
        # Another listed feed, added by the command the reply offered.
        other = await ask(fake, ALICE, f"/addfeed {site.url('/comments/feed/')}")
        assert other.startswith("Added 'Comments': 5 entries")
    assert "/atom.xml" not in site.requests  # the first good feed ends the search


async def test_a_broken_first_link_falls_to_the_next(
    tmp_path: Path, fake: FakeBotApi, site: Site
) -> None:
    site.routes["/p.html"] = (
        "text/html",
        page(
            '<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">',
            '<link rel="alternate" type="application/rss+xml" href="/gone.xml">',
            '<link rel="alternate" type="application/atom+xml" title="News" href="/news.xml">',
        ),
    )
    site.routes["/news.xml"] = (RSS_TYPE, rss("News", 1))
    async with worker(make_settings(tmp_path, fake), Clock()) as app:
        reply = await ask(fake, ALICE, f"/addfeed {site.url('/p.html')}")
        assert reply.startswith("Found the feed 'News' on that page: added, 1 entry there now.")
        assert "other feed" not in reply  # the broken one is not offered
        assert [f.url for f in await app.store.list_feeds()] == [site.url("/news.xml")]
    assert site.requests == ["/p.html", "/gone.xml", "/news.xml"]


async def test_a_page_without_links_leads_to_the_sites_usual_places(
    tmp_path: Path, fake: FakeBotApi, site: Site
) -> None:
    site.routes["/about.html"] = ("text/html", page())
    site.routes["/index.xml"] = (RSS_TYPE, rss("Hugo site", 3))
    async with worker(make_settings(tmp_path, fake), Clock()) as app:
        reply = await ask(fake, ALICE, f"/addfeed {site.url('/about.html')}")
        assert reply.startswith(
            "That page links no feed, but its site has one, 'Hugo site': added, 3 entries"
        )
        assert [f.url for f in await app.store.list_feeds()] == [site.url("/index.xml")]
    assert site.requests == [
        "/about.html", "/feed", "/rss", "/feed.xml", "/rss.xml", "/atom.xml", "/index.xml"
    ]  # fmt: skip


def page_with_body(body: str) -> str:
    return f"<!doctype html><html><head><title>A post</title></head><body>{body}</body></html>"


async def test_a_page_whose_footer_links_its_feed_leads_to_it(
    tmp_path: Path, fake: FakeBotApi, site: Site
) -> None:
    # No <link rel="alternate">, only an "RSS" link at the bottom of the page: found there,
    # before any guess at the site's usual places.
    site.routes["/2026/a-post.html"] = (
        "text/html",
        page_with_body('<p>Text</p><footer><a href="/about">About</a> '
                       '<a href="/blog/rss.php">RSS</a></footer>'),
    )  # fmt: skip
    site.routes["/blog/rss.php"] = (RSS_TYPE, rss("Footer feed", 2))
    async with worker(make_settings(tmp_path, fake), Clock()) as app:
        reply = await ask(fake, ALICE, f"/addfeed {site.url('/2026/a-post.html')}")
        assert reply.startswith("Found the feed 'Footer feed' on that page: added, 2 entries")
        assert [f.url for f in await app.store.list_feeds()] == [site.url("/blog/rss.php")]
    assert site.requests == ["/2026/a-post.html", "/blog/rss.php"]


async def test_links_that_only_look_like_feeds_are_tried_then_the_usual_places(
    tmp_path: Path, fake: FakeBotApi, site: Site
) -> None:
    site.routes["/a.html"] = ("text/html", page_with_body('<a href="/rss">RSS</a>'))
    site.routes["/rss"] = ("text/html", page())  # a page about feeds, not one
    site.routes["/atom.xml"] = (RSS_TYPE, rss("Atom", 1))
    async with worker(make_settings(tmp_path, fake), Clock()) as app:
        reply = await ask(fake, ALICE, f"/addfeed {site.url('/a.html')}")
        assert reply.startswith("That page links no feed, but its site has one, 'Atom'")
        assert [f.url for f in await app.store.list_feeds()] == [site.url("/atom.xml")]
    # /rss, tried as the page's link, is not asked for again among the usual places
    assert site.requests == ["/a.html", "/rss", "/feed", "/feed.xml", "/rss.xml", "/atom.xml"]


async def test_a_site_without_feeds_gets_the_old_reply_after_a_bounded_search(
    tmp_path: Path, fake: FakeBotApi, site: Site
) -> None:
    site.routes["/a.html"] = ("text/html", page('<link rel="alternate" hreflang="de" href="/de">'))
    site.routes["/feed"] = ("text/html", page())  # a catch-all page where /feed would be
    async with worker(make_settings(tmp_path, fake), Clock()) as app:
        reply = await ask(fake, ALICE, f"/addfeed {site.url('/a.html')}")
        assert reply == (
            f"'{site.url('/a.html')}' is not a feed: I found no RSS, Atom or JSON Feed entries "
            "there. Look for the site's RSS or feed link."
        )
        assert await app.store.list_feeds() == []
    assert len(site.requests) == 7  # the page and the six usual places, no more


async def test_private_pages_are_refused_before_any_discovery(
    tmp_path: Path, fake: FakeBotApi, site: Site
) -> None:
    site.routes["/p.html"] = (
        "text/html",
        page(f'<link rel="alternate" type="{RSS_TYPE}" href="/f">'),
    )
    settings = make_settings(tmp_path, fake, allow_private_addresses=False)
    async with worker(settings, Clock()):
        reply = await ask(fake, ALICE, f"/addfeed {site.url('/p.html')}")
        assert "private or local network address (127.0.0.1)" in reply
    assert site.requests == []
