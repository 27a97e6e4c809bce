"""The whole worker with Slack: a feed on 127.0.0.1, the real App, Bolt, and the fake Web API.

A channel subscribes with a signed ``/digest subscribe``; a new feed entry then reaches it once,
as Block Kit within Slack's limits; a 429 delays it, a vanished channel deactivates it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.ports import ChatRef
from bot.slack import SlackAdapter
from tests.slack.conftest import SIGNING_SECRET, slack_settings
from tests.slack.fake_slack_api import Error, FakeSlackApi, RateLimited, block_kit_problem
from tests.slack.local_feed import Clock, FeedSite, no_sleep
from tests.slack.slack_requests import SlackRequests

NEWS = ChatRef("slack", "C0NEWS")
POLL_SECONDS = 600


@dataclass
class World:
    app: App
    slack_adapter: SlackAdapter
    slack: SlackRequests
    api: FakeSlackApi
    site: FeedSite
    clock: Clock

    async def subscribe(self, text: str = "subscribe") -> dict[str, Any]:
        name = f"r{len(self.api.responses)}"
        status, _ = await self.slack.command(text, response_url=self.api.response_url(name))
        assert status == 200
        await self.api.wait_for(lambda: bool(self.api.responses[name]))
        return self.api.responses[name][0]

    async def next_cycle(self) -> Any:
        self.clock.advance(POLL_SECONDS * 2)
        return await self.app.run_once()


@pytest.fixture
async def world(
    tmp_path: Path, fake_api: FakeSlackApi, feed_site: FeedSite
) -> AsyncIterator[World]:
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feeds]]\nurl = "{feed_site.base}/feed.xml"\nname = "Local Times"\n')
    settings = slack_settings(
        fake_api,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'e2e.sqlite3'}",
        DIGESTBOT_FEEDS_FILE=str(feeds),
        DIGESTBOT_POLL_INTERVAL=POLL_SECONDS,
    )
    clock = Clock()
    feed_site.entries.append(("old", "An old piece already in the feed"))
    async with App(settings, clock=clock, pacing=False, sleep=no_sleep) as app:
        [adapter] = app.adapters  # default wiring: only SLACK_* is set
        assert isinstance(adapter, SlackAdapter)
        await adapter.start()
        try:
            url = f"http://127.0.0.1:{adapter.port}/slack/events"
            yield World(
                app, adapter, SlackRequests(url, SIGNING_SECRET), fake_api, feed_site, clock
            )
        finally:
            await adapter.stop()


def headers(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "header"]


async def test_a_new_entry_reaches_the_subscribed_channel_once(world: World) -> None:
    first = await world.app.run_once()  # a new feed's first poll: seen, not broadcast
    assert not first.failed_feeds
    await world.subscribe("subscribe")
    world.site.entries.append(("talks", "Trade talks resume in Geneva"))

    await world.next_cycle()
    [message] = world.api.delivered("C0NEWS")
    assert headers(message) == ["Trade talks resume in Geneva"]
    assert block_kit_problem(message) is None
    assert len(message["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in message["blocks"] if b["type"] == "section")
    assert message["unfurl_links"] is False

    await world.next_cycle()
    await world.next_cycle()
    assert len(world.api.delivered("C0NEWS")) == 1


async def test_a_rate_limited_digest_is_delivered_later(world: World) -> None:
    await world.app.run_once()
    await world.subscribe("subscribe")
    world.site.entries.append(("talks", "Trade talks resume in Geneva"))
    world.api.script("chat.postMessage", "C0NEWS", RateLimited(5))

    report = await world.next_cycle()
    assert report.delivery.retry == 1
    assert world.api.delivered("C0NEWS") == []

    await world.next_cycle()
    [message] = world.api.delivered("C0NEWS")
    assert headers(message) == ["Trade talks resume in Geneva"]


async def test_a_channel_slack_no_longer_knows_is_deactivated(world: World) -> None:
    await world.app.run_once()
    await world.subscribe("subscribe")
    world.site.entries.append(("talks", "Trade talks resume in Geneva"))
    world.api.script("chat.postMessage", "C0NEWS", Error("channel_not_found"))

    report = await world.next_cycle()
    assert report.delivery.chats_gone == 1
    sub = await world.app.store.get_subscription(NEWS)
    assert sub is not None and not sub.active
    assert sub.deactivated_reason and "channel_not_found" in sub.deactivated_reason

    world.site.entries.append(("more", "More trade news"))
    await world.next_cycle()
    assert len(world.api.calls_to("chat.postMessage")) == 1


async def test_now_shows_stored_cards_in_the_channel_reply(world: World) -> None:
    world.site.entries.append(("talks", "Trade talks resume in Geneva"))
    await world.app.run_once()  # the first poll stores cards for /digest now
    await world.subscribe("subscribe")
    name = "now"
    status, _ = await world.slack.command("now", response_url=world.api.response_url(name))
    assert status == 200
    await world.api.wait_for(
        lambda: any(m.get("blocks") and headers(m) for m in world.api.responses[name])
    )
    cards = [m for m in world.api.responses[name] if headers(m)]
    assert "Trade talks resume in Geneva" in headers(cards[0])
    assert all(block_kit_problem(m) is None for m in world.api.responses[name])
