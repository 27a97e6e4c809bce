"""Seen entries, their cards and their outbox rows are written in one transaction: a failure
while queueing leaves the entries unseen, so the next poll queues them again (nothing lost)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bot.ports import ChatRef
from bot.store import Subscription
from tests.bot.conftest import open_app
from tests.bot.fakes import TRADE_BODY, FakeClock, FakeSender, FeedSite, Item


async def test_failure_while_queueing_loses_nothing(tmp_path: Path) -> None:
    site, sender, clock = FeedSite(), FakeSender(), FakeClock()
    async with open_app(tmp_path, sender, clock, site.transport) as app:
        await app.store.save_subscription(Subscription(chat=ChatRef("fake", "c")))
        await app.store.add_feed(site.add("a.example"))
        await app.run_once()  # first poll of an empty feed

        site.add("a.example", Item(guid="n1", title="Trade news", body=TRADE_BODY))
        real_transaction = app.store.transaction
        calls = 0

        @contextlib.asynccontextmanager
        async def broken_once() -> AsyncIterator[Any]:
            async with real_transaction() as tx:
                nonlocal calls
                calls += 1
                if calls == 1:
                    # The entries and the card are written; then queueing fails.
                    async def fail(*_args: object) -> int:
                        raise RuntimeError("database went away mid-queue")

                    yield SimpleNamespace(record_entries=tx.record_entries, enqueue=fail)
                else:
                    yield tx

        app.store.transaction = broken_once  # type: ignore[method-assign]
        clock.advance(minutes=11)
        failed = await app.run_once()
        assert failed.feeds[0].error is not None and sender.delivered == []
        assert await app.store.latest_cards(5) == []  # rolled back: not even the card stayed

        clock.advance(hours=1)  # past the feed's back-off
        retried = await app.run_once()
        assert retried.feeds[0].queued == 1
    assert sender.titles_for("c") == ["Trade news"]
