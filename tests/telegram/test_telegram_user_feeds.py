"""Feeds added from the chat, end to end: the real App with the Telegram adapter from settings,
the fake Bot API (documents in and out), a local feed server and SQLite.

The issue's "done when": with user feeds on, ``/addfeed`` of a local feed replies with its
title and entry count, a new entry arrives only in that chat, and ``/addfeed`` of a private
address is refused with a clear message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import App
from bot.ports import ChatRef
from bot.settings import Settings
from bot.store import SqlStore
from bot.telegram import TelegramAdapter
from tests.bot.conftest import POSTGRES_URL, create_schema, drop_schema, store_in_schema
from tests.telegram.fake_bot_api import BOT_ID, DEFAULT_TOKEN, FakeBotApi
from tests.telegram.feed_server import FeedServer
from tests.telegram.test_telegram_end_to_end import START, Clock

ALICE, BOB = 1001, 1002
CLUB = -2001
OPML = """<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body>
<outline text="News"><outline text="Local" type="rss" xmlUrl="{feed}"/>
<outline text="Gone" type="rss" xmlUrl="{missing}"/>
<outline text="Disk" type="rss" xmlUrl="file:///etc/passwd"/></outline></body></opml>"""


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        server.add("old-1", "Central bank holds rates as inflation cools", "economy", START)
        yield server


def make_settings(tmp_path: Path, fake: FakeBotApi, **values: Any) -> Settings:
    base: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        "feeds_file": tmp_path / "no-feeds.toml",  # the operator has no feeds: chats add them
        "telegram_bot_token": SecretStr(DEFAULT_TOKEN),
        "telegram_base_url": fake.base_url,
        "poll_interval": 600,
        "users_may_add_feeds": True,
        "allow_private_addresses": True,  # the feed server is on 127.0.0.1
    }
    base.update(values)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path, fake: FakeBotApi) -> Iterator[Settings]:
    yield make_settings(tmp_path, fake)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[SqlStore | None]:
    """None: the App's own SQLite file; else a store in a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield None
        return
    if not POSTGRES_URL:
        pytest.skip("DIGESTBOT_TEST_POSTGRES_URL is not set")
    schema = await create_schema()
    try:
        yield store_in_schema(schema)
    finally:
        await drop_schema(schema)


@asynccontextmanager
async def worker(
    settings: Settings, clock: Clock, store: SqlStore | None = None
) -> AsyncIterator[App]:
    async with App(settings, clock=clock, pacing=False, store=store) as app:
        [adapter] = app.adapters
        assert isinstance(adapter, TelegramAdapter)
        await adapter.start()
        try:
            yield app
        finally:
            await adapter.stop()


async def ask(fake: FakeBotApi, chat_id: int, line: str, **kwargs: Any) -> str:
    before = len(fake.messages_to(chat_id))
    fake.push_text(chat_id, line, **kwargs)
    sent = await fake.wait_sent(before + 1, chat_id=chat_id)
    return sent[before].text


async def test_a_chats_own_feed_reaches_that_chat_only(
    settings: Settings, fake: FakeBotApi, feeds: FeedServer, store: SqlStore | None
) -> None:
    clock = Clock()
    async with worker(settings, clock, store) as app:
        for chat_id in (ALICE, BOB):
            assert "Subscribed" in await ask(fake, chat_id, "/subscribe")
        reply = await ask(fake, ALICE, f"/addfeed {feeds.feed_url}")
        assert "Added 'Local Opinion': 1 entry there now." in reply
        assert "1. Local Opinion - " + feeds.feed_url in await ask(fake, ALICE, "/feeds")
        assert "no feeds of its own" in await ask(fake, BOB, "/feeds")

        first = await app.run_once()  # the first poll records the entries, broadcasts nothing
        assert [(f.error, f.first_poll) for f in first.feeds] == [(None, True)]
        assert first.delivery.sent == 0

        feeds.add("new-1", "Why the economy outran the forecasts", "economy", START)
        clock.advance(hours=1)
        report = await app.run_once()
        assert report.delivery.sent == 1
        assert sum("outran" in m.text for m in fake.messages_to(ALICE)) == 1
        assert not any("outran" in m.text for m in fake.messages_to(BOB))
        # Nor does Bob's /digest show Alice's feed.
        assert "outran" not in await ask(fake, BOB, "/digest")
        assert "outran" in "".join(m.text for m in fake.messages_to(ALICE)[-1:])

        # Bob adds the same feed: shared, one feed row, polled once for both.
        assert "Added 'Local Opinion'" in await ask(fake, BOB, f"/addfeed {feeds.feed_url}")
        assert len(await app.store.list_feeds()) == 1
        assert "Removed 'Local Opinion'" in await ask(fake, ALICE, "/removefeed 1")
        assert len(await app.store.list_feeds()) == 1  # Bob still has it
        assert "Removed" in await ask(fake, BOB, f"/removefeed {feeds.feed_url}")
        assert await app.store.list_feeds() == []  # the last owner left: no more polling


async def test_private_addresses_are_refused(
    tmp_path: Path, fake: FakeBotApi, feeds: FeedServer
) -> None:
    settings = make_settings(tmp_path, fake, allow_private_addresses=False)
    async with worker(settings, Clock()) as app:
        reply = await ask(fake, ALICE, f"/addfeed {feeds.feed_url}")
        assert reply == (
            f"I may not read '{feeds.feed_url}': it points to a private or local network "
            "address (127.0.0.1). Only feeds on the public internet can be added here."
        )
        assert "not a web address" in await ask(fake, ALICE, "/addfeed file:///etc/passwd")
        assert await app.store.list_feeds() == []
    assert feeds.page_hits == 0


async def test_bad_addresses_say_why(
    settings: Settings, fake: FakeBotApi, feeds: FeedServer
) -> None:
    async with worker(settings, Clock()) as app:
        base = feeds.feed_url.rsplit("/", 1)[0]
        assert "answered HTTP 404" in await ask(fake, ALICE, f"/addfeed {base}/missing.xml")
        assert "Send the address" in await ask(fake, ALICE, "/addfeed")
        assert await app.store.list_feeds() == []
        # An article page that links no feed: its site's /feed.xml is found instead.
        page = f"{base}/opinion/old-1.html"
        found = await ask(fake, ALICE, f"/addfeed {page}")
        assert found.startswith("That page links no feed, but its site has one, 'Local Opinion'")
        assert f"Its address: {feeds.feed_url}" in found
        assert [f.url for f in await app.store.list_feeds()] == [feeds.feed_url]


async def test_off_by_default_and_in_the_menu_only_when_on(
    tmp_path: Path, fake: FakeBotApi, feeds: FeedServer
) -> None:
    settings = make_settings(tmp_path, fake, users_may_add_feeds=False)
    async with worker(settings, Clock()) as app:
        for line in (f"/addfeed {feeds.feed_url}", "/feeds", "/import", "/export"):
            assert "not enabled on this bot" in await ask(fake, ALICE, line)
        assert await app.store.list_feeds() == []
    assert "addfeed" not in [c["command"] for c in fake.commands_by_language[""]]


async def test_menu_lists_the_feed_commands_per_language(
    settings: Settings, fake: FakeBotApi
) -> None:
    async with worker(settings, Clock()):
        pass
    english = {c["command"]: c["description"] for c in fake.commands_by_language[""]}
    german = {c["command"]: c["description"] for c in fake.commands_by_language["de"]}
    assert english["addfeed"] == "Add a feed by its address"
    assert german["addfeed"] != english["addfeed"]
    assert {"feeds", "removefeed", "import", "export"} <= german.keys()


async def test_import_an_opml_document_and_export_one(
    settings: Settings, fake: FakeBotApi, feeds: FeedServer
) -> None:
    base = feeds.feed_url.rsplit("/", 1)[0]
    opml = OPML.format(feed=feeds.feed_url, missing=f"{base}/gone.xml").encode()
    async with worker(settings, Clock()) as app:
        fake.push_document(ALICE, "subscriptions.opml", opml, caption="/import")
        [checking, report] = await fake.wait_sent(2, chat_id=ALICE)
        assert checking.text == "Checking 2 feeds, at most 120 seconds..."
        assert report.text.startswith("Imported 1 feed.\n+ Local Opinion")
        assert "answered HTTP 404" in report.text and "file:///etc/passwd" in report.text
        # The same file again, as a /import replying to it: nothing new.
        fake.push_document(ALICE, "subscriptions.opml", opml, reply_to_text="/import")
        [*_, again] = await fake.wait_sent(3, chat_id=ALICE)  # only "gone.xml" checked
        assert "Imported 0 feeds." in again.text and "Already here: 1." in again.text

        assert "This chat's 1 feed as OPML." in await ask(fake, ALICE, "/export")
        await fake.wait_for(lambda f: len(f.documents) == 1)
        [document] = fake.documents
        assert document.chat_id == ALICE and document.filename == "digestbot-feeds.opml"
        assert f'xmlUrl="{feeds.feed_url}"'.encode() in document.content
        assert document.caption == "This chat's 1 feed as OPML."

        assert "not an OPML file" in await _import(fake, BOB, b"<html>no</html>")
        assert "larger than 512 KB" in await _import(fake, BOB, b" " * (600 * 1024))
        assert "Send an OPML file" in await ask(fake, BOB, "/import")
        sub = await app.store.get_subscription(ChatRef("telegram", str(BOB)))
        assert sub is None or sub.id is None or await app.store.chat_feeds(sub.id) == []


async def _import(fake: FakeBotApi, chat_id: int, content: bytes) -> str:
    before = len(fake.messages_to(chat_id))
    fake.push_document(chat_id, "list.opml", content, caption="/import")
    return (await fake.wait_sent(before + 1, chat_id=chat_id))[before].text


async def test_group_feeds_are_for_admins(
    settings: Settings, fake: FakeBotApi, feeds: FeedServer
) -> None:
    async with worker(settings, Clock()) as app:
        fake.register_chat(CLUB, "supergroup", "Reading club")
        fake.set_member(CLUB, 7, "member")
        fake.set_member(CLUB, 8, "administrator")
        line = f"/addfeed@digest_test_bot {feeds.feed_url}"
        assert "Only this chat's admins" in await ask(fake, CLUB, line, user_id=7)
        assert await app.store.list_feeds() == []
        assert "Added 'Local Opinion'" in await ask(fake, CLUB, line, user_id=8)
        assert "Local Opinion" in await ask(fake, CLUB, "/feeds@digest_test_bot", user_id=7)


async def test_a_channels_feeds_managed_from_a_private_chat(
    settings: Settings, fake: FakeBotApi, feeds: FeedServer
) -> None:
    channel, admin, stranger = -1001234567890, 7, 9
    clock = Clock()
    async with worker(settings, clock) as app:
        fake.register_chat(channel, "channel", "The Newsroom", username="newsroom")
        fake.set_member(channel, admin, "administrator", can_post_messages=True)
        fake.set_member(channel, BOT_ID, "administrator", can_post_messages=True)
        assert (await ask(fake, admin, "/subscribe @newsroom")).startswith("For @newsroom:")
        refused = await ask(fake, stranger, f"/addfeed @newsroom {feeds.feed_url}")
        assert "you are not one" in refused
        added = await ask(fake, admin, f"/addfeed @newsroom {feeds.feed_url}")
        assert added.startswith("For @newsroom:\nAdded 'Local Opinion'")
        assert "Local Opinion" in await ask(fake, admin, "/feeds @newsroom")
        assert "no feeds of its own" in await ask(fake, admin, "/feeds")  # the admin's own chat

        await app.run_once()
        feeds.add("new-1", "Why the economy outran the forecasts", "economy", START)
        clock.advance(hours=1)
        assert (await app.run_once()).delivery.sent == 1
        assert any("outran" in m.text for m in fake.messages_to(channel))
        assert not any("outran" in m.text for m in fake.messages_to(admin))


async def test_german_replies(settings: Settings, fake: FakeBotApi, feeds: FeedServer) -> None:
    async with worker(settings, Clock()):
        reply = await ask(fake, ALICE, f"/addfeed {feeds.feed_url}", language_code="de")
        assert reply.startswith("'Local Opinion' hinzugefügt: dort steht gerade 1 Eintrag.")
