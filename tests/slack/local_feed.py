"""A local RSS feed with article pages on 127.0.0.1, and an injectable clock, for worker tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web

PARAGRAPHS = [
    "Negotiators from both countries met in Geneva on Monday to resume trade talks that stalled "
    "last spring over tariffs on steel, aluminium and farm exports.",
    "Officials said the new round would focus on market access and customs rules, and that a "
    "framework agreement could be signed before the end of the year.",
    "Exporters welcomed the move, saying tariffs had cut two-way trade by 12 percent since the "
    "dispute began and cost thousands of jobs in port cities.",
    "Critics warned that any deal must include enforceable labour and environmental standards, "
    "or it would repeat the mistakes of earlier agreements.",
    "The next session is scheduled for February in Brussels, where ministers are expected to "
    "review a draft text prepared by their teams.",
]


def page(title: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title><meta property='og:site_name' content='Local Times'></head>"
        f"<body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{body}</article>"
        "<footer>Copyright Local Times.</footer></body></html>"
    )


@dataclass
class FeedSite:
    """An RSS feed and its article pages, served on 127.0.0.1; entries can be added live."""

    entries: list[tuple[str, str]] = field(default_factory=list)  # (slug, title)
    base: str = ""

    def rss(self) -> str:
        items = "".join(
            f"<item><title>{title}</title><link>{self.base}/a/{slug}</link>"
            f"<guid>{self.base}/a/{slug}</guid>"
            "<pubDate>Sat, 28 Nov 2026 08:00:00 GMT</pubDate><category>Trade</category></item>"
            for slug, title in self.entries
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Local Times</title><link>{self.base}/</link><description>News</description>"
            f"{items}</channel></rss>"
        )


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def no_sleep(_: float) -> None:
    return None


@asynccontextmanager
async def serve_feed_site() -> AsyncIterator[FeedSite]:
    """Serve ``/feed.xml`` and ``/a/{slug}`` until the block ends."""
    site = FeedSite()

    async def feed(_: web.Request) -> web.Response:
        return web.Response(text=site.rss(), content_type="application/rss+xml")

    async def article(request: web.Request) -> web.Response:
        titles = dict(site.entries)
        slug = request.match_info["slug"]
        if slug not in titles:
            raise web.HTTPNotFound()
        return web.Response(text=page(titles[slug]), content_type="text/html")

    app = web.Application()
    app.router.add_get("/feed.xml", feed)
    app.router.add_get("/a/{slug}", article)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    site.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield site
    finally:
        await runner.cleanup()
