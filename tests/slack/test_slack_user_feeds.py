"""Feeds added from Slack (``/digest addfeed URL``) through the same command core: the real
App wired from Slack settings, the fake Slack Web API and a local feed site on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.slack import SlackAdapter
from tests.slack.conftest import SIGNING_SECRET, slack_settings
from tests.slack.fake_slack_api import FakeSlackApi, block_kit_problem
from tests.slack.local_feed import Clock, FeedSite, no_sleep
from tests.slack.slack_requests import SlackRequests


@pytest.fixture
async def world(
    tmp_path: Path, fake_api: FakeSlackApi, feed_site: FeedSite
) -> AsyncIterator[tuple[App, SlackRequests, FakeSlackApi, FeedSite, Clock]]:
    settings = slack_settings(
        fake_api,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'feeds.sqlite3'}",
        DIGESTBOT_FEEDS_FILE=str(tmp_path / "none.toml"),
        DIGESTBOT_USERS_MAY_ADD_FEEDS=True,
    )
    clock = Clock()
    feed_site.entries.append(("old", "An old piece already in the feed"))
    async with App(settings, clock=clock, pacing=False, sleep=no_sleep) as app:
        [adapter] = app.adapters
        assert isinstance(adapter, SlackAdapter)
        await adapter.start()
        try:
            url = f"http://127.0.0.1:{adapter.port}/slack/events"
            yield app, SlackRequests(url, SIGNING_SECRET), fake_api, feed_site, clock
        finally:
            await adapter.stop()


async def ask(slack: SlackRequests, api: FakeSlackApi, text: str, **kw: Any) -> str:
    name = f"r{len(api.responses)}"
    status, _ = await slack.command(text, response_url=api.response_url(name), **kw)
    assert status == 200
    await api.wait_for(lambda: bool(api.responses[name]))
    reply = api.responses[name][0]
    assert block_kit_problem(reply) is None
    return str(reply["text"])


async def test_a_slack_channels_own_feed(
    world: tuple[App, SlackRequests, FakeSlackApi, FeedSite, Clock],
) -> None:
    app, slack, api, site, clock = world
    feed = f"{site.base}/feed.xml"
    assert "Subscribed" in await ask(slack, api, "subscribe")
    added = await ask(slack, api, f"addfeed {feed}")
    assert "Added" in added and "1 entry there now" in added
    listed = await ask(slack, api, "feeds")
    assert feed in listed and "/digest removefeed 1" in listed
    exported = await ask(slack, api, "export")
    assert "copy the text into a file" in exported and "xmlUrl=" in exported
    assert "works on Telegram only" in await ask(slack, api, "import")

    await app.run_once()  # first poll: recorded, not sent
    site.entries.append(("talks", "Trade talks resume in Geneva"))
    clock.advance(1200)
    report = await app.run_once()
    assert report.delivery.sent == 1
    assert len(api.delivered("C0NEWS")) == 1
    assert "Removed" in await ask(slack, api, "removefeed 1")
    assert await app.store.list_feeds() == []
