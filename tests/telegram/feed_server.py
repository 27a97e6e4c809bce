"""A local news site for the end-to-end tests: one RSS feed and its article pages, served by
aiohttp on 127.0.0.1. Tests add entries and edit their dates while the bot runs."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

from aiohttp import web

TOPIC_TEXT = {
    "economy": (
        "Inflation has cooled, yet the central bank keeps its interest rate high. "
        "The economy grew faster than forecast and economic growth is spreading to "
        "households. Monetary policy is now the main story for the economy."
    ),
    "technology": (
        "A new semiconductor plant opened this week. The chip industry says technology "
        "investment keeps rising, and chipmakers want more engineers for software and "
        "artificial intelligence work."
    ),
}


@dataclass
class Entry:
    guid: str
    title: str
    topic: str
    published: datetime

    def page(self) -> str:
        paragraphs = "".join(
            f"<p>{html.escape(TOPIC_TEXT[self.topic])} Paragraph {n} of the piece "
            f"'{html.escape(self.title)}' explains what it means for readers.</p>"
            for n in range(1, 7)
        )
        return (
            "<!doctype html><html><head>"
            f"<title>{html.escape(self.title)}</title>"
            f'<meta property="og:title" content="{html.escape(self.title)}">'
            '<meta property="og:site_name" content="Local Opinion">'
            "</head><body><header><nav>Home · Opinion</nav></header>"
            f"<article><h1>{html.escape(self.title)}</h1>{paragraphs}</article>"
            "<footer>Cookie settings · Contact</footer></body></html>"
        )


@dataclass
class FeedServer:
    entries: list[Entry] = field(default_factory=list)
    port: int = 0
    page_hits: int = 0

    def __post_init__(self) -> None:
        self._runner: web.AppRunner | None = None

    @property
    def feed_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/feed.xml"

    def link(self, entry: Entry) -> str:
        return f"http://127.0.0.1:{self.port}/opinion/{entry.guid}.html"

    def add(self, guid: str, title: str, topic: str, published: datetime) -> Entry:
        entry = Entry(guid, title, topic, published)
        self.entries.append(entry)
        return entry

    def rss(self) -> str:
        items = "".join(
            "<item>"
            f"<title>{html.escape(e.title)}</title>"
            f"<link>{self.link(e)}</link>"
            f'<guid isPermaLink="false">{e.guid}</guid>'
            f"<pubDate>{format_datetime(e.published)}</pubDate>"
            f"<description>{html.escape(TOPIC_TEXT[e.topic])}</description>"
            "</item>"
            for e in reversed(self.entries)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            "<title>Local Opinion</title>"
            f"<link>http://127.0.0.1:{self.port}/</link>"
            f"<description>Opinion pieces</description>{items}</channel></rss>"
        )

    async def _feed(self, request: web.Request) -> web.Response:
        return web.Response(text=self.rss(), content_type="application/rss+xml")

    async def _page(self, request: web.Request) -> web.Response:
        guid = request.match_info["guid"]
        for entry in self.entries:
            if entry.guid == guid:
                self.page_hits += 1
                return web.Response(text=entry.page(), content_type="text/html")
        raise web.HTTPNotFound()

    async def __aenter__(self) -> FeedServer:
        app = web.Application()
        app.router.add_get("/feed.xml", self._feed)
        app.router.add_get("/opinion/{guid}.html", self._page)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
