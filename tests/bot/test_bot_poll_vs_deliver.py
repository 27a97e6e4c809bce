"""Digests that fall due while a long poll runs go out during it, not after it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bot.ports import ChatRef
from bot.store import Subscription
from digests.models import Card
from tests.bot.conftest import open_app
from tests.bot.fakes import FakeClock, FakeSender


async def test_delivery_runs_while_a_poll_is_stuck(tmp_path: Path) -> None:
    release = asyncio.Event()
    polling = asyncio.Event()

    async def slow_feed(request: httpx.Request) -> httpx.Response:
        polling.set()
        await release.wait()  # a feed server that takes its time
        return httpx.Response(404)

    sender, clock = FakeSender(), FakeClock()
    async with open_app(tmp_path, sender, clock, httpx.MockTransport(slow_feed)) as app:
        sub = await app.store.save_subscription(Subscription(chat=ChatRef("fake", "c")))
        feed, _ = await app.store.add_feed("https://slow.example/feed.xml")
        card = Card(
            title="Due now",
            url="https://slow.example/a",
            source=None,
            published=datetime(2026, 3, 1, tzinfo=UTC),
            summary=("A summary.",),
            key_facts=(),
            editors_note=None,
            topics=(),
            reading_minutes=1,
        )
        [stored] = await app.store.record_entries(feed.id, [("a", card)], clock())
        assert sub.id is not None
        await app.store.enqueue([(sub.id, stored.id, clock())], clock())

        cycle = asyncio.create_task(app.run_once())
        await asyncio.wait_for(polling.wait(), 5)
        await asyncio.wait_for(app._deliver_locked(), 5)  # the scheduler's delivery job
        assert sender.titles_for("c") == ["Due now"] and not cycle.done()
        release.set()
        await cycle
