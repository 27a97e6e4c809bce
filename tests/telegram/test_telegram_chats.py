"""Telegram where news is read: group admins, channels, forum topics and the user's language,
through the real PTB adapter, the real command core and delivery, against the fake Bot API."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.commands import CommandCore
from bot.delivery import Delivery
from bot.filters import TaxonomyCatalog
from bot.i18n import LANGUAGES
from bot.models import ChatRef
from bot.pacing import Pacer
from bot.store import SqlStore
from bot.telegram import build_telegram_adapter
from tests.telegram.factories import make_card
from tests.telegram.fake_bot_api import BOT_ID, FakeBotApi, SentMessage
from tests.telegram.test_telegram_adapter import TAXONOMY, Bot, only, settings_for, store

__all__ = ["store"]  # the SQLite store fixture, shared with the adapter tests

USER, ADMIN, MEMBER = 1001, 7, 8
GROUP = -1002001
FORUM = -1003001
CHANNEL, CHANNEL_NAME = -1001234567890, "newsroom"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
_CARD_NUMBERS = itertools.count(1)


async def start_bot(fake: FakeBotApi, store: SqlStore, **settings: Any) -> AsyncIterator[Bot]:
    policy = settings.pop("group_commands", "admins")
    core = CommandCore(store, TaxonomyCatalog(TAXONOMY), group_commands=policy)
    adapter = build_telegram_adapter(settings_for(fake, **settings), core)
    await adapter.start()
    try:
        yield Bot(fake, adapter, store)
    finally:
        await adapter.stop()


@pytest.fixture
async def running(fake: FakeBotApi, store: SqlStore) -> AsyncIterator[Bot]:
    async for bot in start_bot(fake, store):
        yield bot


async def deliver_new(bot: Bot, *topics: str) -> None:
    """A new card per topic, queued for every active subscription it matches, then sent."""
    store = bot.store
    feed, _ = await store.add_feed("https://news.example.org/feed.xml")
    cards = [make_card(next(_CARD_NUMBERS), topics=(t,), title=f"News on {t}") for t in topics]
    stored = await store.record_entries(feed.id, [(c.entry_id, c) for c in cards], NOW)
    catalog = TaxonomyCatalog(TAXONOMY)
    rows = [
        (sub.id or 0, s.id, NOW)
        for sub in await store.active_subscriptions()
        for s in stored
        if not sub.filters or catalog.matches(s.card, sub.filters)
    ]
    await store.enqueue(rows, NOW)
    await Delivery(
        store, {"telegram": bot.adapter.sender}, pacer=Pacer(enabled=False), clock=lambda: NOW
    ).run()


def texts(messages: list[SentMessage]) -> str:
    return "\n".join(m.text for m in messages)


# --- admins manage, everyone reads ------------------------------------------------------------


async def test_only_admins_change_a_group(running: Bot) -> None:
    fake = running.fake
    fake.register_chat(GROUP, "supergroup", "Reading club")
    fake.set_member(GROUP, ADMIN, "administrator")
    fake.set_member(GROUP, MEMBER, "member")
    assert "economy" in only(await running.say(GROUP, "/subscribe economy", user_id=ADMIN)).text

    refused = only(await running.say(GROUP, "/unsubscribe@digest_test_bot all", user_id=MEMBER))
    assert "Only this chat's admins" in refused.text and "/list" in refused.text
    sub = await running.subscription(GROUP)
    assert sub is not None and sub.active and sub.filters == ("economy",)
    # Reading stays open to every member.
    assert "economy" in only(await running.say(GROUP, "/list", user_id=MEMBER)).text

    bye = only(await running.say(GROUP, "/unsubscribe@digest_test_bot all", user_id=ADMIN))
    assert "Unsubscribed" in bye.text
    assert not (await running.subscription(GROUP)).active  # type: ignore[union-attr]

    # An anonymous admin writes as the group itself: no look-up, allowed.
    calls = len(fake.calls)
    back = only(await running.say(GROUP, "/subscribe trade", anonymous=True))
    assert "trade" in back.text
    assert "getchatmember" not in [m for m, _ in fake.calls[calls:]]
    assert (await running.subscription(GROUP)).active  # type: ignore[union-attr]


async def test_member_lookups_are_cached(running: Bot) -> None:
    fake = running.fake
    fake.register_chat(GROUP, "supergroup", "Reading club")
    fake.set_member(GROUP, ADMIN, "creator")
    for line in ("/subscribe economy", "/subscribe trade", "/settings hourly"):
        await running.say(GROUP, line, user_id=ADMIN)
    lookups = [p for m, p in fake.calls if m == "getchatmember"]
    assert len(lookups) == 1 and lookups[0]["user_id"] == ADMIN


async def test_everyone_may_manage_when_configured(fake: FakeBotApi, store: SqlStore) -> None:
    async for bot in start_bot(fake, store, group_commands="everyone"):
        fake.register_chat(GROUP, "supergroup", "Reading club")
        reply = only(await bot.say(GROUP, "/subscribe economy", user_id=MEMBER))
        assert "Subscribed" in reply.text
        assert "getchatmember" not in [m for m, _ in fake.calls]


async def test_a_bot_that_cannot_check_says_so(running: Bot) -> None:
    running.fake.register_chat(GROUP, "supergroup", "Reading club")
    running.fake.hide_members(GROUP)  # getChatMember now fails
    reply = only(await running.say(GROUP, "/subscribe", user_id=ADMIN))
    assert "could not check" in reply.text
    assert await running.subscription(GROUP) is None


# --- channels ------------------------------------------------------------------------------------


def open_channel(fake: FakeBotApi, *, bot_can_post: bool = True) -> None:
    fake.register_chat(CHANNEL, "channel", "The Newsroom", username=CHANNEL_NAME)
    fake.set_member(CHANNEL, ADMIN, "administrator", can_post_messages=True)
    fake.set_member(CHANNEL, BOT_ID, "administrator", can_post_messages=bot_can_post)


async def test_a_channel_subscribed_from_a_private_chat_gets_cards(running: Bot) -> None:
    fake = running.fake
    open_channel(fake)
    reply = only(await running.say(ADMIN, f"/subscribe @{CHANNEL_NAME} economy"))
    assert reply.text.startswith(f"For @{CHANNEL_NAME}:") and "economy" in reply.text
    assert reply.buttons == []  # a button would act on the private chat
    channel = await running.subscription(CHANNEL)
    assert channel is not None and channel.active and channel.title == "The Newsroom"
    assert await running.subscription(ADMIN) is None  # not the admin's own subscription

    listing = only(await running.say(ADMIN, f"/list {CHANNEL}"))  # by numeric id too
    assert "economy" in listing.text

    await deliver_new(running, "economy", "technology")
    to_channel = fake.messages_to(CHANNEL)
    assert len(to_channel) == 1 and "News on economy" in to_channel[0].text

    fake.remove_bot(CHANNEL)  # the my_chat_member update ends the subscription
    async with asyncio.timeout(5):
        # The update is handled in the bot's own task; the store is all there is to watch.
        while (channel := await running.subscription(CHANNEL)) is not None and channel.active:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    assert channel is not None and not channel.active
    assert "removed" in (channel.deactivated_reason or "")


async def test_channel_commands_check_the_user_and_the_bot(running: Bot) -> None:
    fake = running.fake
    open_channel(fake, bot_can_post=False)
    stranger = only(await running.say(USER, f"/subscribe @{CHANNEL_NAME}"))
    assert "you are not one" in stranger.text
    cannot = only(await running.say(ADMIN, f"/subscribe @{CHANNEL_NAME}"))
    assert "not allowed to post" in cannot.text
    missing = only(await running.say(ADMIN, "/subscribe @nosuchchannel"))
    assert "can't find the channel" in missing.text
    fake.register_chat(GROUP, "supergroup", "Reading club")
    fake.set_member(GROUP, ADMIN, "administrator")
    in_group = only(await running.say(GROUP, f"/subscribe @{CHANNEL_NAME}", user_id=ADMIN))
    assert "private chat" in in_group.text
    assert await running.subscription(CHANNEL) is None


async def test_a_command_posted_in_the_channel(running: Bot) -> None:
    fake = running.fake
    open_channel(fake)
    fake.push_channel_post(CHANNEL, "/subscribe@digest_test_bot technology")
    reply = only(await fake.wait_sent(1, chat_id=CHANNEL))
    assert "technology" in reply.text
    sub = await running.subscription(CHANNEL)
    assert sub is not None and sub.active and sub.filters == ("technology",)


async def test_delivery_to_a_channel_that_dropped_the_bot_deactivates_it(running: Bot) -> None:
    fake = running.fake
    open_channel(fake)
    await running.say(ADMIN, f"/subscribe @{CHANNEL_NAME}")
    fake._gone[CHANNEL] = "not_channel_member"  # removed while the bot was offline
    await deliver_new(running, "economy")
    sub = await running.subscription(CHANNEL)
    assert sub is not None and not sub.active
    assert "not a member" in (sub.deactivated_reason or "")


# --- forum topics --------------------------------------------------------------------------------


async def test_forum_topics_hold_their_own_subscriptions(running: Bot) -> None:
    fake = running.fake
    fake.register_chat(FORUM, "supergroup", "Forum", is_forum=True)
    fake.set_member(FORUM, ADMIN, "administrator")
    economy_topic, tech_topic = 11, 22
    reply = only(await running.say(FORUM, "/subscribe economy", user_id=ADMIN, thread_id=11))
    assert reply.thread == economy_topic  # the answer goes to the topic it was asked in
    await running.say(FORUM, "/subscribe technology", user_id=ADMIN, thread_id=tech_topic)
    assert await running.subscription(FORUM) is None  # the group itself follows nothing
    topics = {
        s.chat.thread: s.filters
        for s in await running.store.active_subscriptions()
        if s.chat.chat_id == str(FORUM)
    }
    assert topics == {"11": ("economy",), "22": ("technology",)}

    before = len(fake.messages_to(FORUM))
    await deliver_new(running, "economy", "technology")
    cards = fake.messages_to(FORUM)[before:]
    by_thread = {m.thread: m.text for m in cards}
    assert len(cards) == 2
    assert "News on economy" in by_thread[economy_topic]
    assert "News on technology" in by_thread[tech_topic]

    # A closed topic ends its own subscription; the other topic goes on.
    fake.close_topic(FORUM, economy_topic)
    before = len(fake.messages_to(FORUM))
    await deliver_new(running, "economy", "technology")
    after = fake.messages_to(FORUM)[before:]
    assert [m.thread for m in after] == [tech_topic]
    closed = await running.store.get_subscription(ChatRef("telegram", str(FORUM), "11"))
    assert closed is not None and not closed.active
    assert "topic_closed" in (closed.deactivated_reason or "").lower()
    assert (await running.store.get_subscription(ChatRef("telegram", str(FORUM), "22"))).active  # type: ignore[union-attr]


async def test_a_deleted_topic_ends_its_subscription(running: Bot) -> None:
    fake = running.fake
    fake.register_chat(FORUM, "supergroup", "Forum", is_forum=True)
    fake.set_member(FORUM, ADMIN, "administrator")
    await running.say(FORUM, "/subscribe", user_id=ADMIN, thread_id=33)
    fake.delete_topic(FORUM, 33)
    await deliver_new(running, "economy")
    gone = await running.store.get_subscription(ChatRef("telegram", str(FORUM), "33"))
    assert gone is not None and not gone.active
    assert "thread not found" in (gone.deactivated_reason or "").lower()


# --- the user's language -------------------------------------------------------------------------


async def test_replies_and_menu_in_the_users_language(running: Bot) -> None:
    fake = running.fake
    menus = fake.commands_by_language
    assert set(menus) == {"", *LANGUAGES} - {"en"}
    assert [c["command"] for c in menus["de"]] == [c["command"] for c in menus[""]]
    german_menu = {c["command"]: c["description"] for c in menus["de"]}
    assert german_menu["help"] == "Was der Bot kann"

    hallo = only(await running.say(USER, "/help", language_code="de"))
    assert hallo.text.startswith("Das verstehe ich")
    start = only(await running.say(USER, "/start", language_code="de-AT"))
    assert ("Alles abonnieren", "subscribe") in start.buttons

    switched = only(await running.say(USER, "/settings language fr", language_code="de"))
    assert switched.text == "Je répondrai dans ce chat en Français."
    # The chat's choice wins over the user's Telegram language from now on.
    aide = only(await running.say(USER, "/help", language_code="de"))
    assert aide.text.startswith("Voici ce que je comprends")
    sub = await running.subscription(USER)
    assert sub is not None and sub.language == "fr" and not sub.active

    unknown = only(await running.say(USER, "/settings language xx"))
    assert "xx" in unknown.text and "de" in unknown.text
    english = only(await running.say(2002, "/help", language_code="sw"))  # no Swahili catalog
    assert english.text.startswith("Here is what I understand")
