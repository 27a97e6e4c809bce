"""A local news site for ``bench/ingest.py``: N RSS feeds spread over P ports of 127.0.0.1,
each with its ETag (304 when the client repeats it), article pages of ~6 KB, and optionally one
feed that answers only after a delay. Run as a child process so that its CPU is not the
client's:

    python bench/feed_site.py --feeds 1000 --ports 50 [--slow-feed 0 --slow-seconds 10]
        [--latency 1.5]

``--latency`` delays every feed and page answer by that many seconds, as a distant server
would (``bench/scale.py`` uses it to make ingest wait on the network rather than on CPU).

``--pages DIR`` serves real article pages (the ``*.html.gz`` of ``../shared/bench/aeb-dev/html``,
read from there, never copied) in rotation instead of the built-in page, and gives every item an
author and a category as most real feeds do. The built-in page is one paragraph repeated twenty
times: trafilatura extracts it in ~2 ms, a tenth of a real news page, so a cycle of new items
on it weighs the card's own steps far above what real pages make of them.

It prints one JSON line ``{"ports": [...]}`` once listening. ``POST /control/new`` adds one new
item to every feed (their ETags change); ``GET /control/stats`` returns request counts and the
most requests ever in flight at once per port (the client's per-host politeness, seen from the
server).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import sys
from collections import Counter
from pathlib import Path

from aiohttp import web

PARAGRAPH = (
    "The central bank kept its interest rate unchanged on Tuesday, saying inflation had cooled "
    "but that wages were still rising faster than productivity in most sectors of the economy. "
    "Economists expect the first cut in the spring, once the labour market loosens further. "
)


def page_html(feed: int, item: int) -> str:
    title = f"Rates held as inflation cools, part {item} of feed {feed}"
    body = "".join(f"<p>{PARAGRAPH} Section {n}.</p>" for n in range(20))
    return (
        f"<!doctype html><html><head><title>{title}</title>"
        f'<meta property="og:title" content="{title}">'
        '<meta property="og:site_name" content="Bench News">'
        '<meta property="article:published_time" content="2026-11-30T10:00:00Z">'
        f"</head><body><article><h1>{title}</h1>{body}</article></body></html>"
    )


class Site:
    def __init__(
        self,
        feeds: int,
        ports: list[int],
        slow_feed: int,
        slow_seconds: float,
        latency: float = 0.0,
        pages: list[bytes] | None = None,
    ) -> None:
        self.feeds = feeds
        self.pages = pages or []
        self.latency = latency
        self.ports = ports
        self.version = 0
        self.slow_feed = slow_feed
        self.slow_seconds = slow_seconds
        self.in_flight: Counter[int] = Counter()
        self.peak: Counter[int] = Counter()
        self.requests: Counter[str] = Counter()

    def base(self, feed: int) -> str:
        return f"http://127.0.0.1:{self.ports[feed % len(self.ports)]}"

    def rss(self, feed: int) -> str:
        # With real pages, the item names its author and section as real feeds do (dc:creator,
        # category), which spares the card the page's own byline and category-link search.
        extra = (
            "<dc:creator>Jane Doe</dc:creator><category>Economy</category>" if self.pages else ""
        )
        items = "".join(
            f"<item><title>Item {v} of feed {feed}</title>"
            f"<link>{self.base(feed)}/p/{feed}-{v}.html</link>"
            f'<guid isPermaLink="false">f{feed}-{v}</guid>'
            f"<pubDate>Mon, 30 Nov 2026 {v % 24:02d}:00:00 GMT</pubDate>{extra}"
            "<description>Rates held as inflation cools.</description></item>"
            for v in range(self.version, max(-1, self.version - 20), -1)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<title>Feed {feed}</title><link>{self.base(feed)}/</link>"
            f"<description>bench</description>{items}</channel></rss>"
        )

    @web.middleware
    async def count(self, request: web.Request, handler):  # type: ignore[no-untyped-def]
        port = request.transport.get_extra_info("sockname")[1] if request.transport else 0
        self.in_flight[port] += 1
        self.peak[port] = max(self.peak[port], self.in_flight[port])
        try:
            if self.latency and not request.path.startswith("/control/"):
                await asyncio.sleep(self.latency)
            return await handler(request)
        finally:
            self.in_flight[port] -= 1

    async def feed(self, request: web.Request) -> web.StreamResponse:
        feed = int(request.match_info["n"])
        if feed == self.slow_feed:
            await asyncio.sleep(self.slow_seconds)
        etag = f'"v{self.version}-{feed}"'
        if request.headers.get("If-None-Match") == etag:
            self.requests["304"] += 1
            return web.Response(status=304, headers={"ETag": etag})
        self.requests["feed"] += 1
        return web.Response(
            text=self.rss(feed), content_type="application/rss+xml", headers={"ETag": etag}
        )

    async def page(self, request: web.Request) -> web.Response:
        self.requests["page"] += 1
        feed, version = int(request.match_info["n"]), int(request.match_info["v"])
        if self.pages:
            return web.Response(
                body=self.pages[(feed + version) % len(self.pages)], content_type="text/html"
            )
        return web.Response(text=page_html(feed, version), content_type="text/html")

    async def new(self, request: web.Request) -> web.Response:
        self.version += 1
        return web.json_response({"version": self.version})

    async def stats(self, request: web.Request) -> web.Response:
        peak = max(self.peak.values(), default=0)
        data = {"requests": dict(self.requests), "peak_per_port": peak}
        self.peak.clear()
        self.requests.clear()
        return web.json_response(data)


async def serve(args: argparse.Namespace) -> None:
    files = sorted(args.pages.glob("*.html.gz")) if args.pages else []
    pages = [gzip.decompress(path.read_bytes()) for path in files]
    site = Site(args.feeds, [], args.slow_feed, args.slow_seconds, args.latency, pages)
    app = web.Application(middlewares=[site.count])
    app.router.add_get("/f/{n}.xml", site.feed)
    app.router.add_get("/p/{n}-{v}.html", site.page)
    app.router.add_post("/control/new", site.new)
    app.router.add_get("/control/stats", site.stats)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    for _ in range(args.ports):
        await web.TCPSite(runner, "127.0.0.1", 0, backlog=1024).start()
    site.ports = [int(address[1]) for address in runner.addresses]
    print(json.dumps({"ports": site.ports}), flush=True)
    # Serve while the bench that started us runs: one killed outright (no time to stop this
    # server) left it running, holding the bench's output pipe open.
    parent = os.getppid()
    while True:
        await asyncio.sleep(1.0)
        if os.getppid() != parent:
            return


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--ports", type=int, default=50)
    parser.add_argument("--slow-feed", type=int, default=-1)
    parser.add_argument("--slow-seconds", type=float, default=10.0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--pages", type=Path, default=None, help="a folder of *.html.gz pages")
    try:
        asyncio.run(serve(parser.parse_args()))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
