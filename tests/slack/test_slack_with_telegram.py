"""Slack and Telegram credentials together: the App wires both, and a card reaches both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.ports import ChatRef
from bot.slack import SlackAdapter
from bot.store import Subscription
from tests.slack.conftest import slack_settings
from tests.slack.fake_slack_api import FakeSlackApi, block_kit_problem
from tests.slack.local_feed import Clock, FeedSite, no_sleep
from tests.telegram.fake_bot_api import DEFAULT_TOKEN, FakeBotApi

POLL_SECONDS = 600


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


async def test_both_platforms_are_wired_and_both_get_the_new_card(
    tmp_path: Path, fake_api: FakeSlackApi, telegram_api: FakeBotApi, feed_site: FeedSite
) -> None:
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feeds]]\nurl = "{feed_site.base}/feed.xml"\n')
    settings = slack_settings(
        fake_api,
        TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
        TELEGRAM_BASE_URL=telegram_api.base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'both.sqlite3'}",
        DIGESTBOT_FEEDS_FILE=str(feeds),
        DIGESTBOT_POLL_INTERVAL=POLL_SECONDS,
    )
    clock = Clock()
    feed_site.entries.append(("old", "An old piece"))
    async with App(settings, clock=clock, pacing=False, sleep=no_sleep) as app:
        assert sorted(a.platform for a in app.adapters) == ["slack", "telegram"]
        assert sorted(app.senders) == ["slack", "telegram"]
        assert any(isinstance(a, SlackAdapter) for a in app.adapters)

        await app.run_once()
        await app.store.save_subscription(Subscription(chat=ChatRef("slack", "C0NEWS")))
        await app.store.save_subscription(Subscription(chat=ChatRef("telegram", "4242")))
        feed_site.entries.append(("talks", "Trade talks resume in Geneva"))
        clock.advance(POLL_SECONDS * 2)
        report = await app.run_once()
        # run_once never started the adapters, but the Telegram sender opened its HTTP session
        # on the first send; App.aclose does not release senders (reported to the lead).
        for adapter in app.adapters:
            await adapter.stop()

    assert report.delivery.sent == 2
    [slack_message] = fake_api.delivered("C0NEWS")
    assert block_kit_problem(slack_message) is None
    [telegram_message] = telegram_api.messages_to(4242)
    assert "Trade talks resume in Geneva" in telegram_message.text
