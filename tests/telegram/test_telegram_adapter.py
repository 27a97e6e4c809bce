"""The Telegram adapter end to end: real PTB long polling (and webhook) against the fake Bot
API, the real command core and a real SQLite store."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.commands import CommandCore
from bot.filters import TaxonomyCatalog
from bot.messages import COMMAND_FAILED as SORRY
from bot.ports import ChatRef, CommandRequest, Reply
from bot.settings import Settings
from bot.store import SqlStore, Subscription
from bot.telegram import (
    COMMANDS,
    TelegramAdapter,
    TelegramSetupError,
    build_telegram_adapter,
    command_name,
    split_text,
)
from digests.topics import Taxonomy
from tests.telegram.factories import make_card
from tests.telegram.fake_bot_api import DEFAULT_TOKEN, FakeBotApi, SentMessage

USER = 1001
GROUP = -2001
TAXONOMY = Taxonomy(
    {
        "economy": ("economy", "trade", "tariff"),
        "diplomacy": ("diplomacy", "summit"),
        "technology": ("technology", "chip"),
    }
)


def settings_for(fake: FakeBotApi, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": SecretStr(DEFAULT_TOKEN),
        "telegram_base_url": fake.base_url,
        "allow_private_addresses": True,
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Bot:
    fake: FakeBotApi
    adapter: TelegramAdapter
    store: SqlStore

    async def say(
        self, chat_id: int, text: str, *, replies: int = 1, **kw: Any
    ) -> list[SentMessage]:
        """Send ``text`` as a user in ``chat_id``; the bot's next ``replies`` messages."""
        before = len(self.fake.messages_to(chat_id))
        self.fake.push_text(chat_id, text, **kw)
        sent = await self.fake.wait_sent(before + replies, chat_id=chat_id)
        return sent[before:]

    async def subscription(self, chat_id: int) -> Subscription | None:
        return await self.store.get_subscription(ChatRef("telegram", str(chat_id)))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    store = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    await store.upgrade()
    yield store
    await store.close()


@pytest.fixture
async def running(fake: FakeBotApi, store: SqlStore) -> AsyncIterator[Bot]:
    core = CommandCore(store, TaxonomyCatalog(TAXONOMY))
    adapter = build_telegram_adapter(settings_for(fake), core)
    await adapter.start()
    try:
        yield Bot(fake, adapter, store)
    finally:
        await adapter.stop()


def only(messages: list[SentMessage]) -> SentMessage:
    assert len(messages) == 1, messages
    return messages[0]


async def test_private_conversation(running: Bot, store: SqlStore) -> None:
    fake = running.fake
    assert [c["command"] for c in fake.my_commands] == [name for name, _ in COMMANDS]

    welcome = only(await running.say(USER, "/start"))
    assert welcome.parse_mode == "HTML"
    assert ("Subscribe to everything", "subscribe") in welcome.buttons

    everything = only(await running.say(USER, "/subscribe"))
    assert ("Economy", "subscribe economy") in everything.buttons
    sub = await running.subscription(USER)
    assert sub is not None and sub.active and sub.filters == ()

    # Pressing a topic button narrows the subscription; the message is edited in place.
    fake.push_callback(USER, "subscribe economy", message_id=everything.message_id)
    await fake.wait_for(lambda f: bool(f.callback_answers) and bool(f.edits))
    assert fake.callback_answers[-1]["text"]
    assert fake.edits[-1].message_id == everything.message_id
    assert "economy" in fake.edits[-1].text.lower()
    sub = await running.subscription(USER)
    assert sub is not None and sub.filters == ("economy",)

    keyword = only(await running.say(USER, "/subscribe semiconductors"))
    assert "semiconductors" in keyword.text
    sub = await running.subscription(USER)
    assert sub is not None and sub.filters == ("economy", "semiconductors")

    topics = only(await running.say(USER, "/topics"))
    assert "diplomacy" in topics.text.lower()
    assert ("Diplomacy", "subscribe diplomacy") in topics.buttons

    listing = only(await running.say(USER, "/list"))
    assert "economy" in listing.text and "semiconductors" in listing.text

    good = only(await running.say(USER, "/settings daily 07:30 Europe/Berlin"))
    assert "07:30" in good.text
    sub = await running.subscription(USER)
    assert sub is not None and (sub.mode, sub.daily_time, sub.timezone) == (
        "daily",
        "07:30",
        "Europe/Berlin",
    )
    bad = only(await running.say(USER, "/settings fortnightly"))
    assert "fortnightly" in bad.text
    assert (await running.subscription(USER)).mode == "daily"  # type: ignore[union-attr]

    unknown = only(await running.say(USER, "/frobnicate"))
    assert "/help" in unknown.text or ("Help", "help") in unknown.buttons

    bye = only(await running.say(USER, "/unsubscribe all"))
    assert bye.text
    sub = await running.subscription(USER)
    assert sub is not None and not sub.active


async def test_digest_sends_cards_as_html(running: Bot, store: SqlStore) -> None:
    feed, _ = await store.add_feed("https://news.example.org/feed.xml")
    now = datetime(2026, 11, 28, 10, tzinfo=UTC)
    await store.record_entries(
        feed.id, [(f"e{n}", make_card(n, topics=("economy",))) for n in range(3)], now
    )
    messages = await running.say(USER, "/digest", replies=2)
    header, cards = messages[0], messages[1]
    assert "3" in header.text
    assert cards.parse_mode == "HTML"
    assert "tariffs &amp; &lt;trade&gt; talks" in cards.text  # escaped by the renderer
    assert cards.params["link_preview_options"] == {"is_disabled": True}


async def test_reply_text_is_escaped(running: Bot) -> None:
    reply = only(await running.say(USER, "/subscribe <b>"))
    assert "<b>" not in reply.text and "&lt;b&gt;" in reply.text


async def test_group_commands_belong_to_the_group(running: Bot) -> None:
    fake = running.fake
    fake.register_chat(GROUP, "group", "Reading club")
    fake.set_member(GROUP, 7, "administrator")
    # A command for another bot in the same group is not ours to answer.
    fake.push_text(GROUP, "/subscribe@some_other_bot diplomacy", user_id=7)
    fake.push_text(GROUP, "/stats", user_id=7)  # some other bot's command, not ours to hint at
    reply = only(await running.say(GROUP, "/subscribe@digest_test_bot economy", user_id=7))
    assert "economy" in reply.text
    assert len(fake.messages_to(GROUP)) == 1
    sub = await running.subscription(GROUP)
    assert sub is not None and sub.filters == ("economy",) and sub.title == "Reading club"
    assert await running.subscription(7) is None  # not the user's own subscription
    hint = only(await running.say(GROUP, "/stats@digest_test_bot", user_id=7))
    assert "/help" in hint.text or ("Help", "help") in hint.buttons
    assert len(fake.messages_to(GROUP)) == 2  # nothing for the other bot's commands


class Exploding:
    """A core that fails on one command, to see the adapter survive it."""

    def __init__(self, inner: CommandCore) -> None:
        self.inner = inner

    async def handle(self, request: CommandRequest) -> Reply:
        if request.name == "digest":
            raise RuntimeError("the store fell over")
        return await self.inner.handle(request)


async def test_a_failing_command_is_logged_and_the_bot_carries_on(
    fake: FakeBotApi, store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    core = Exploding(CommandCore(store, TaxonomyCatalog(TAXONOMY)))
    adapter = build_telegram_adapter(settings_for(fake), core)
    await adapter.start()
    try:
        bot = Bot(fake, adapter, store)
        sorry = only(await bot.say(USER, "/digest"))
        assert sorry.text == SORRY
        logging.getLogger("telegram.test").info("GET %s", f"{fake.base_url}{DEFAULT_TOKEN}/getMe")
        assert only(await bot.say(USER, "/help")).text
    finally:
        await adapter.stop()
    assert "the store fell over" in caplog.text
    assert "bot<token>/getMe" in caplog.text
    assert DEFAULT_TOKEN not in caplog.text
    assert DEFAULT_TOKEN.split(":")[1] not in caplog.text


def test_webhook_without_secret_fails_fast(fake: FakeBotApi, store: SqlStore) -> None:
    settings = settings_for(fake, telegram_webhook_url="https://bot.example.org/hook")
    with pytest.raises(TelegramSetupError, match="TELEGRAM_WEBHOOK_SECRET"):
        build_telegram_adapter(settings, CommandCore(store, TaxonomyCatalog(TAXONOMY)))


def test_missing_token_fails_fast(store: SqlStore) -> None:
    with pytest.raises(TelegramSetupError, match="TELEGRAM_BOT_TOKEN"):
        build_telegram_adapter(
            Settings(_env_file=None),  # type: ignore[call-arg]
            CommandCore(store, TaxonomyCatalog(TAXONOMY)),
        )


async def test_a_refused_token_fails_start_without_showing_it(
    fake: FakeBotApi, store: SqlStore
) -> None:
    wrong = "987654:refused-token-refused-token-refused"
    settings = settings_for(fake, telegram_bot_token=SecretStr(wrong))
    adapter = build_telegram_adapter(settings, CommandCore(store, TaxonomyCatalog(TAXONOMY)))
    with pytest.raises(TelegramSetupError, match="@BotFather") as caught:
        await adapter.start()
    assert wrong not in str(caught.value) and caught.value.__cause__ is None
    await adapter.stop()  # safe after a failed start


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_checks_the_secret_on_every_request(
    fake: FakeBotApi, store: SqlStore
) -> None:
    port = _free_port()
    settings = settings_for(
        fake,
        telegram_webhook_url="https://bot.example.org/telegram/hook",
        telegram_webhook_secret=SecretStr("s3cret-Token_1"),
        telegram_webhook_listen="127.0.0.1",
        telegram_webhook_port=port,
    )
    adapter = build_telegram_adapter(settings, CommandCore(store, TaxonomyCatalog(TAXONOMY)))
    await adapter.start()
    try:
        assert fake.webhook is not None
        assert fake.webhook["url"] == "https://bot.example.org/telegram/hook"
        assert fake.webhook["secret_token"] == "s3cret-Token_1"
        local = f"http://127.0.0.1:{port}/telegram/hook"
        update = {"message": fake.message_object(USER, "/help")}
        assert await fake.post_to_webhook(update, secret="wrong", url=local) == 403
        assert await fake.post_to_webhook(update, secret=None, url=local) == 403
        assert fake.sent == []
        assert await fake.post_to_webhook(update, secret="s3cret-Token_1", url=local) == 200
        await fake.wait_sent(1, chat_id=USER)
    finally:
        await adapter.stop()


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("/subscribe economy", "subscribe"),
        ("/Subscribe@Digest_Test_Bot economy", "subscribe"),
        ("/subscribe@other_bot", None),
        ("hello", None),
    ],
)
def test_command_name(text: str, name: str | None) -> None:
    assert command_name(text, "digest_test_bot") == name


def test_split_text_keeps_escaped_pieces_within_the_limit() -> None:
    text = "\n".join(f"topic {n} & <more>" for n in range(600))
    pieces = split_text(text, limit=500)
    assert len(pieces) > 1
    assert all(
        len(p.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")) <= 500
        for p in pieces
    )
    assert "\n".join(pieces) == text
    assert split_text("x" * 1200, limit=500) == ["x" * 500, "x" * 500, "x" * 200]
