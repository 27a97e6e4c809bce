"""Seen entries, their cards and their outbox rows are written in one transaction: a failure
while queueing leaves the entries unseen, so the next poll queues them again (nothing lost)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.ports import ChatRef
from bot.store import Subscription
from digests.models import Card
from tests.bot.conftest import open_app
from tests.bot.fakes import TRADE_BODY, FakeClock, FakeSender, FeedSite, Item


async def test_failure_while_queueing_loses_nothing(tmp_path: Path) -> None:
    site, sender, clock = FeedSite(), FakeSender(), FakeClock()
    async with open_app(tmp_path, sender, clock, site.transport) as app:
        await app.store.save_subscription(Subscription(chat=ChatRef("fake", "c")))
        await app.store.add_feed(site.add("a.example"))
        await app.run_once()  # first poll of an empty feed

        site.add("a.example", Item(guid="n1", title="Trade news", body=TRADE_BODY))
        real_matches = app.poller.matches
        calls = 0

        def broken_once(card: Card, filters: Sequence[str]) -> bool:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RuntimeError("database went away mid-queue")
            return real_matches(card, filters)

        app.poller.matches = broken_once
        # The subscription has no filters, so force the matcher to be consulted.
        await app.store.save_subscription(
            Subscription(chat=ChatRef("fake", "c"), filters=("trade",))
        )
        clock.advance(minutes=11)
        failed = await app.run_once()
        assert failed.feeds[0].error is not None and sender.delivered == []
        assert await app.store.latest_cards(5) == []  # rolled back: not even the card stayed

        clock.advance(hours=1)  # past the feed's back-off
        retried = await app.run_once()
        assert retried.feeds[0].queued == 1
    assert sender.titles_for("c") == ["Trade news"]
