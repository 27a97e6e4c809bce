"""Several workers on one PostgreSQL database: every card reaches every subscriber once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import App
from bot.ports import ChatRef
from bot.store import Subscription
from tests.bot.conftest import (
    POSTGRES_URL,
    create_schema,
    drop_schema,
    make_settings,
    store_in_schema,
)
from tests.bot.fakes import (
    CLIMATE_BODY,
    TRADE_BODY,
    FakeAdapter,
    FakeClock,
    FakeSender,
    FeedSite,
    Item,
)

pytestmark = pytest.mark.postgres


async def test_three_workers_send_each_card_once(tmp_path: Path) -> None:
    if not POSTGRES_URL:
        pytest.skip("DIGESTBOT_TEST_POSTGRES_URL is not set")
    site = FeedSite()
    clock = FakeClock()
    sender = FakeSender(cards_per_message=1)
    schema = await create_schema()
    apps = []
    try:
        for _ in range(3):
            # One engine per worker, all on the same schema: separate processes in effect.
            store = store_in_schema(schema)
            apps.append(
                App(
                    make_settings(POSTGRES_URL or "", tmp_path),
                    fetch_transport=site.transport,
                    adapters=[FakeAdapter(sender)],
                    clock=clock,
                    pacing=False,
                    store=store,
                )
            )
        for app in apps:
            await app.__aenter__()
        first = apps[0]
        for chat in range(5):
            await first.store.save_subscription(Subscription(chat=ChatRef("fake", str(chat))))
        for host in ("a.example", "b.example"):
            await first.store.add_feed(site.add(host))
        await first.run_once()
        site.add("a.example", Item("a1", "Trade one", TRADE_BODY))
        site.add("b.example", Item("b1", "Climate two", CLIMATE_BODY))
        clock.advance(minutes=11)
        await asyncio.gather(*(app.run_once() for app in apps))
        await asyncio.gather(*(app.deliver() for app in apps))
    finally:
        for app in apps:
            await app.aclose()
        await drop_schema(schema)
    for chat in range(5):
        assert sorted(sender.titles_for(str(chat))) == ["Climate two", "Trade one"]
    assert len(sender.delivered) == 10


async def test_three_workers_fetch_each_due_feed_once_per_period(tmp_path: Path) -> None:
    if not POSTGRES_URL:
        pytest.skip("DIGESTBOT_TEST_POSTGRES_URL is not set")
    site, clock = FeedSite(), FakeClock()
    sender = FakeSender(cards_per_message=1)
    schema = await create_schema()
    apps = [
        App(
            make_settings(POSTGRES_URL or "", tmp_path),
            fetch_transport=site.transport,
            adapters=[FakeAdapter(sender)],
            clock=clock,
            pacing=False,
            store=store_in_schema(schema),
        )
        for _ in range(3)
    ]
    hosts = [f"f{n}.example" for n in range(12)]
    try:
        for app in apps:
            await app.__aenter__()
        await apps[0].store.save_subscription(Subscription(chat=ChatRef("fake", "1")))
        for host in hosts:
            await apps[0].store.add_feed(site.add(host))

        def feed_requests() -> list[str]:
            return [url for url in site.requests if url.endswith("/feed.xml")]

        await asyncio.gather(*(app.poll() for app in apps))
        assert sorted(feed_requests()) == sorted(site.url(h) for h in hosts)  # once each
        for host in hosts:
            site.add(host, Item(f"{host}-1", f"Trade in {host}", TRADE_BODY))
        # Within the period nobody polls again, however often the workers wake up.
        clock.advance(minutes=5)
        await asyncio.gather(*(app.poll() for app in apps))
        assert len(feed_requests()) == 12
        clock.advance(minutes=6)
        await asyncio.gather(*(app.poll() for app in apps))
        assert len(feed_requests()) == 24
        await asyncio.gather(*(app.deliver() for app in apps))
    finally:
        for app in apps:
            await app.aclose()
        await drop_schema(schema)
    assert sorted(sender.titles_for("1")) == sorted(f"Trade in {h}" for h in hosts)
