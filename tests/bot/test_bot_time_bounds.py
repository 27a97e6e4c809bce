"""The worker's poll of one feed is bounded: pages that trickle past the feed bound are built
from the feed's own text, the cycle ends in time, and nothing is lost or sent twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx

from bot.app import App
from bot.models import ChatRef, Subscription
from bot.poll_decisions import merge_topics as _merge_topics
from digests.models import Card
from tests.bot.conftest import make_settings
from tests.bot.fakes import TRADE_BODY, FakeAdapter, FakeClock, FakeSender, FeedSite, Item


class TricklingPages(FeedSite):
    """Feeds answer at once; every page sends one byte every 0.2 s."""

    def _handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/feed.xml":
            return super()._handle(request)
        self.requests.append(str(request.url))

        async def trickle() -> AsyncIterator[bytes]:
            for _ in range(1000):
                await asyncio.sleep(0.2)
                yield b" "

        return httpx.Response(200, content=trickle(), headers={"content-type": "text/html"})


async def test_pages_past_the_feed_bound_do_not_hold_the_poll(tmp_path: Path) -> None:
    site = TricklingPages()
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
        tmp_path,
        fetch_timeout=30.0,
        feed_timeout=1.0,
    )
    sender = FakeSender()
    clock = FakeClock()
    items = [Item(f"g{n}", f"Trade story {n}", TRADE_BODY) for n in range(3)]
    url = site.add("slow.example", *items)
    async with App(
        settings,
        fetch_transport=site.transport,
        adapters=[FakeAdapter(sender)],
        clock=clock,
        pacing=False,
    ) as app:
        await app.store.add_feed(url)
        await app.store.save_subscription(Subscription(chat=ChatRef("fake", "1")))
        await app.run_once()  # first poll: recorded, not broadcast
        site.add("slow.example", Item("g9", "Trade story new", TRADE_BODY))
        clock.advance(minutes=11)
        started = time.monotonic()
        report = await app.run_once()
        took = time.monotonic() - started
    assert took < 1.0 + 2.0
    assert [f.error for f in report.feeds] == [None]
    assert sender.titles_for("1") == ["Trade story new"]


def test_the_source_is_the_feeds_configured_name_else_the_sites_else_the_feeds_title() -> None:
    card = link_card_stub()
    assert _merge_topics(card, (), "Harbour Ledger", "Feed title").source == "Harbour Ledger"
    assert _merge_topics(replace(card, source="Site"), (), None, "Feed title").source == "Site"
    assert _merge_topics(card, (), None, "Feed title").source == "Feed title"


def link_card_stub() -> Card:
    return Card(
        title="T",
        url="https://example.org/a",
        source=None,
        published=None,
        summary=(),
        key_facts=(),
        editors_note=None,
        topics=(),
        reading_minutes=0,
    )
