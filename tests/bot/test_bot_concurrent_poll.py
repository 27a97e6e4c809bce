"""Feeds are polled concurrently, politely (at most 2 requests in flight per site), and one
slow feed holds neither the others nor the cycle past its deadline."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.bot.conftest import open_app
from tests.bot.fakes import TRADE_BODY, FakeClock, FakeSender, Item, rss, streamed


class CountingSite:
    """Feeds on a few hosts; each answer takes ``delay`` seconds; records how many requests
    were in flight, per host and in all, at the busiest moment."""

    def __init__(self, delay: float = 0.02) -> None:
        self.delay = delay
        self.in_flight: Counter[str] = Counter()
        self.peak_per_host = 0
        self.peak_total = 0
        self.hang: set[str] = set()
        self.release = asyncio.Event()
        self.done: list[str] = []
        self.transport = httpx.MockTransport(self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.in_flight[host] += 1
        self.peak_per_host = max(self.peak_per_host, self.in_flight[host])
        self.peak_total = max(self.peak_total, sum(self.in_flight.values()))
        try:
            if str(request.url) in self.hang:
                await self.release.wait()
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight[host] -= 1
        if not request.url.path.endswith(".xml"):
            return streamed(404)  # pages: the card falls back to the feed's text
        self.done.append(str(request.url))
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304, headers={"ETag": '"v1"'})
        item = Item(f"{host}{request.url.path}", "Trade deal", TRADE_BODY)
        body = rss([item], base=f"https://{host}")
        return streamed(200, body, {"content-type": "application/rss+xml", "ETag": '"v1"'})


def feed_urls(hosts: int, per_host: int) -> list[str]:
    return [f"https://h{h}.example/feed{n}.xml" for h in range(hosts) for n in range(per_host)]


async def test_feeds_are_polled_concurrently_with_two_per_host_at_most(tmp_path: Path) -> None:
    site = CountingSite()
    clock = FakeClock()
    async with open_app(tmp_path, FakeSender(), clock, site.transport) as app:
        for url in feed_urls(hosts=6, per_host=5):
            await app.store.add_feed(url)
        reports = await app.poll()
        assert len(reports) == 30 and not [r for r in reports if r.error]
        assert site.peak_per_host == 2
        assert site.peak_total > 2  # several sites at once, not one feed after another
        # The second cycle is all 304s, recorded in one batch: the validators stick.
        clock.advance(seconds=app.poller.interval)
        second = await app.poll()
        assert len(second) == 30 and all(r.not_modified for r in second)
        # Counted a batch at a time, every one of them by the cycle's end.
        sample = ("digestbot_feed_polls_total", {"outcome": "not_modified"})
        assert app.metrics.registry.get_sample_value(*sample) == 30
        feeds = await app.store.list_feeds()
        assert {f.etag for f in feeds} == {'"v1"'} and all(f.error_count == 0 for f in feeds)


async def test_pool_size_bounds_the_requests_in_flight(tmp_path: Path) -> None:
    site = CountingSite()
    async with open_app(tmp_path, FakeSender(), FakeClock(), site.transport) as app:
        app.poller.feed_concurrency = 3
        for url in feed_urls(hosts=10, per_host=1):
            await app.store.add_feed(url)
        await app.poll()
        assert site.peak_total == 3


async def test_a_hanging_feed_holds_neither_the_others_nor_the_cycle(tmp_path: Path) -> None:
    site = CountingSite()
    slow = "https://h0.example/feed0.xml"
    site.hang.add(slow)
    async with open_app(tmp_path, FakeSender(), FakeClock(), site.transport) as app:
        app.poller.cycle_deadline = 1.0
        for url in feed_urls(hosts=4, per_host=3):
            await app.store.add_feed(url)
        started = time.monotonic()
        reports = await app.poll()
        elapsed = time.monotonic() - started
        assert 0.9 < elapsed < 5
        failed = [r for r in reports if r.error]
        assert [r.url for r in failed] == [slow] and "deadline" in (failed[0].error or "")
        # Everyone else finished long before the deadline (at 20 ms a request).
        assert len(site.done) == 11
        feed = await app.store.get_feed(slow)
        assert feed is not None and feed.error_count == 1  # backed off like any failure
        site.release.set()


async def test_feeds_not_started_by_the_deadline_stay_due(tmp_path: Path) -> None:
    site = CountingSite()
    first = "https://h0.example/feed0.xml"
    site.hang.add(first)
    async with open_app(tmp_path, FakeSender(), FakeClock(), site.transport) as app:
        app.poller.feed_concurrency = 1
        app.poller.cycle_deadline = 0.3
        for url in [first, *feed_urls(hosts=3, per_host=1)[1:]]:
            await app.store.add_feed(url)
        reports = await app.poll()
        assert [r.url for r in reports] == [first]
        waiting = [f for f in await app.store.list_feeds() if f.url != first]
        assert waiting and all(f.last_polled_at is None for f in waiting)
        site.release.set()
        app.poller.cycle_deadline = 30
        assert len(await app.poll()) == len(waiting)  # the hanging one backs off
