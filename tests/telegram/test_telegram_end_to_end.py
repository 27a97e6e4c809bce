"""The worker end to end with Telegram: a local feed and its pages, the real App (store,
pipeline, poller, outbox, delivery) wired with the Telegram adapter from settings, and the fake
Bot API. The clock is injected so that retries and the next poll come without sleeping."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import App
from bot.ports import ChatRef
from bot.settings import Settings
from bot.store import Subscription
from bot.telegram import TelegramAdapter
from tests.telegram.fake_bot_api import DEFAULT_TOKEN, FakeBotApi
from tests.telegram.feed_server import FeedServer

ALICE, BOB, CAROL, DAVE = 1001, 1002, 1003, 1004
CLUB = -2001
START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        server.add("old-1", "Central bank holds rates as inflation cools", "economy", START)
        yield server


@pytest.fixture
def settings(tmp_path: Path, fake: FakeBotApi, feeds: FeedServer) -> Iterator[Settings]:
    feeds_file = tmp_path / "feeds.toml"
    feeds_file.write_text(f'[[feeds]]\nname = "Local Opinion"\nurl = "{feeds.feed_url}"\n')
    yield Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        feeds_file=feeds_file,
        telegram_bot_token=SecretStr(DEFAULT_TOKEN),
        telegram_base_url=fake.base_url,
        poll_interval=600,
        allow_private_addresses=True,  # the feed server is on 127.0.0.1
    )


@asynccontextmanager
async def worker(settings: Settings, clock: Clock) -> AsyncIterator[App]:
    """An App as `digestbot run` builds it (adapters from settings), pacing off."""
    async with App(settings, clock=clock, pacing=False) as app:
        [adapter] = app.adapters
        assert isinstance(adapter, TelegramAdapter)  # the default wiring called our factory
        try:
            yield app
        finally:
            await adapter.stop()


async def subscribe(app: App, chat_id: int, *filters: str) -> None:
    await app.store.save_subscription(
        Subscription(chat=ChatRef("telegram", str(chat_id)), filters=filters)
    )


def headlines(fake: FakeBotApi, chat_id: int, words: str) -> int:
    return sum(words in m.text for m in fake.messages_to(chat_id))


async def test_new_entry_reaches_exactly_the_matching_chats_once(
    settings: Settings, fake: FakeBotApi, feeds: FeedServer
) -> None:
    clock = Clock()
    async with worker(settings, clock) as app:
        adapter = app.adapters[0]
        await adapter.start()  # subscriptions come in as chat commands, like in production
        fake.register_chat(CLUB, "supergroup", "Reading club")
        fake.set_member(CLUB, 42, "creator")  # the club's members change nothing, its admin may
        for chat_id, line in [
            (ALICE, "/subscribe economy"),
            (BOB, "/subscribe"),
            (CAROL, "/subscribe technology"),
            (CLUB, "/subscribe@digest_test_bot inflation"),
        ]:
            fake.push_text(chat_id, line)
            await fake.wait_sent(1, chat_id=chat_id)
        replies = len(fake.sent)

        first = await app.run_once()  # a new feed: its entries are recorded, not broadcast
        assert [f.error for f in first.feeds] == [None]
        assert len(fake.sent) == replies

        feeds.add("new-1", "Why the economy outran the forecasts", "economy", START)
        clock.advance(hours=1)
        report = await app.run_once()
        assert report.delivery.sent == 3
        for chat_id in (ALICE, BOB, CLUB):
            assert headlines(fake, chat_id, "Why the economy outran the forecasts") == 1
        assert headlines(fake, CAROL, "economy outran") == 0
        card = next(m for m in fake.messages_to(ALICE) if "outran" in m.text)
        assert card.parse_mode == "HTML" and feeds.link(feeds.entries[-1]) in card.text

        clock.advance(hours=1)
        again = await app.run_once()
        assert again.delivery.sent == 0
        assert len(fake.sent) == replies + 3


async def test_restart_between_queueing_and_sending(
    settings: Settings, fake: FakeBotApi, feeds: FeedServer
) -> None:
    clock = Clock()
    async with worker(settings, clock) as app:
        await subscribe(app, ALICE, "economy")
        await subscribe(app, BOB)
        await app.run_once()
        feeds.add("new-1", "Interest rates and the economy next year", "economy", START)
        clock.advance(hours=1)
        await app.poll()  # queued ... and the worker stops before delivering
        assert (await app.store.outbox_counts()).get("pending") == 2
    assert fake.sent == []

    async with worker(settings, clock) as app:  # a new process on the same database
        report = await app.run_once()
        assert report.delivery.sent == 2
        clock.advance(hours=1)
        assert (await app.run_once()).delivery.sent == 0
    assert sorted(m.chat_id for m in fake.sent) == [ALICE, BOB]


async def test_changed_entry_dates_do_not_resend(
    settings: Settings, fake: FakeBotApi, feeds: FeedServer
) -> None:
    clock = Clock()
    async with worker(settings, clock) as app:
        await subscribe(app, ALICE)
        await app.run_once()
        entry = feeds.add("new-1", "A chip plant and the technology race", "technology", START)
        clock.advance(hours=1)
        assert (await app.run_once()).delivery.sent == 1

        # The site re-stamps every entry (a CMS migration, a feed generator bug).
        for moved in feeds.entries:
            moved.published += timedelta(days=2)
        entry.title = "A chip plant and the technology race (updated)"
        clock.advance(hours=1)
        report = await app.run_once()
        assert [f.error for f in report.feeds] == [None]
        assert report.delivery.sent == 0
    assert len(fake.messages_to(ALICE)) == 1


async def test_send_failures_through_the_outbox(
    settings: Settings, fake: FakeBotApi, feeds: FeedServer
) -> None:
    clock = Clock()
    async with worker(settings, clock) as app:
        for chat_id in (ALICE, BOB, CAROL, DAVE):
            await subscribe(app, chat_id)
        await app.run_once()
        feeds.add("new-1", "Inflation, growth and the central bank", "economy", START)
        fake.fail_next(ALICE, "retry_after", retry_after=30)
        fake.block(BOB)
        fake.fail_next(CAROL, "network")
        fake.fail_next(DAVE, "parse_error")
        clock.advance(hours=1)
        report = await app.run_once()
        assert (report.delivery.sent, report.delivery.retry, report.delivery.chats_gone) == (
            1,
            2,
            1,
        )
        dave = fake.messages_to(DAVE)
        assert len(dave) == 1 and dave[0].parse_mode is None  # resent as plain text
        bob = await app.store.get_subscription(ChatRef("telegram", str(BOB)))
        assert bob is not None and not bob.active

        clock.advance(seconds=10)  # Telegram asked for 30 s: not yet
        assert (await app.deliver()).sent == 1  # the network failure's back-off (5 s) is over
        assert len(fake.messages_to(ALICE)) == 0
        clock.advance(seconds=30)
        assert (await app.deliver()).sent == 1
        clock.advance(hours=1)
        assert (await app.run_once()).delivery.sent == 0
    for chat_id in (ALICE, CAROL, DAVE):
        assert len(fake.messages_to(chat_id)) == 1
    assert fake.messages_to(BOB) == []
