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
