"""TelegramSender: rendering and every sendMessage answer, over real PTB and real HTTP."""

from __future__ import annotations

import aiohttp
import pytest
from telegram import Bot, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from bot.ports import ChatGone, OutgoingMessage, Rejected, RetryLater, Sent
from bot.telegram_request import AiohttpRequest
from bot.telegram_sender import TelegramSender, classify
from tests.telegram.factories import make_card
from tests.telegram.fake_bot_api import (
    DEFAULT_TOKEN,
    FakeBotApi,
    HtmlError,
    check_telegram_html,
)

WRONG_TOKEN = "999999:wrong-token-wrong-token-wrong-token"
HTML = OutgoingMessage(
    {"text": "<b>Headline</b> &amp; more", "parse_mode": "HTML"}, "Headline & more"
)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            RetryAfter(7),
            RetryLater(
                7.0, "rate limited by Telegram (429)", counts_as_attempt=False, kind="rate_limited"
            ),
        ),
        (Forbidden("Forbidden: bot was blocked by the user"), ChatGone),
        (Forbidden("Forbidden: bot was kicked from the group chat"), ChatGone),
        (BadRequest("Bad Request: chat not found"), ChatGone),
        (BadRequest("Bad Request: TOPIC_CLOSED"), ChatGone),  # that topic's subscription ends
        (BadRequest("Bad Request: TOPIC_DELETED"), ChatGone),
        (BadRequest("Bad Request: message thread not found"), ChatGone),
        (Forbidden("Forbidden: bot is not a member of the channel chat"), ChatGone),
        (BadRequest("Bad Request: group chat was deactivated"), ChatGone),
        (BadRequest("Bad Request: message is too long"), Rejected),
        (BadRequest("Bad Request: not enough rights to send text messages"), Rejected),
        (NetworkError("Bad Gateway"), RetryLater),
        (TimedOut(), RetryLater),
        (ChatMigrated(-1001), RetryLater),
        (TelegramError("Invalid server response"), RetryLater),
        (
            InvalidToken("Unauthorized"),
            RetryLater(
                600.0,
                "telegram: the bot token was rejected (check TELEGRAM_BOT_TOKEN)",
                counts_as_attempt=False,
                kind="token_rejected",
            ),
        ),
    ],
)
def test_classify(exc: TelegramError, expected: object) -> None:
    result = classify(exc, network_backoff=4.0)
    if isinstance(expected, type):
        assert isinstance(result, expected)
        if isinstance(result, RetryLater) and not isinstance(exc, ChatMigrated):
            assert result.after_seconds == 4.0
    else:
        assert result == expected


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("<b>bold</b> <i>it</i> <a href='https://x.org'>x</a>", True),
        ("<blockquote><b>Note:</b> a &lt; b &amp;&#38; c</blockquote>", True),
        ("<b>unclosed", False),
        ("<b><i>crossed</b></i>", False),
        ("line<br>break", False),
        ("5 < 7", False),
        ("&nbsp;", False),
    ],
)
def test_fake_html_check(text: str, ok: bool) -> None:
    if ok:
        check_telegram_html(text)
    else:
        with pytest.raises(HtmlError):
            check_telegram_html(text)


def test_render_packs_cards_as_html_with_plain_fallback() -> None:
    sender = TelegramSender(Bot(DEFAULT_TOKEN))
    cards = [make_card(1), make_card(2)]
    messages = sender.render(cards)
    assert [m.card_indexes for m in messages] == [(0, 1)]
    payload = messages[0].payload
    assert payload["parse_mode"] == "HTML"
    assert payload["link_preview_options"] == {"is_disabled": True}
    check_telegram_html(payload["text"])  # what Telegram would accept
    assert "&amp;" in payload["text"] and "&lt;trade&gt;" in payload["text"]
    assert "<trade>" in messages[0].fallback_text and "<b>" not in messages[0].fallback_text
    single = sender.render([make_card(3)])[0].payload["link_preview_options"]
    assert single == {"url": "https://news.example.org/opinion/3", "prefer_small_media": True}


def test_render_splits_long_digests_at_card_boundaries() -> None:
    sender = TelegramSender(Bot(DEFAULT_TOKEN))
    cards = [make_card(n, title="word " * 60) for n in range(30)]
    messages = sender.render(cards)
    assert len(messages) > 1
    assert [i for m in messages for i in m.card_indexes] == list(range(30))
    for message in messages:
        check_telegram_html(message.payload["text"])
        assert len(message.payload["text"]) <= 4096 * 2  # tags don't count; visible text does


def test_min_interval() -> None:
    sender = TelegramSender(Bot(DEFAULT_TOKEN))
    assert sender.min_interval("12345") == 1.0
    assert sender.min_interval("-12345") == 3.0
    assert sender.min_interval("-1001234567890") == 3.0


@pytest.mark.parametrize("backend", [AiohttpRequest, HTTPXRequest])
async def test_send_delivers_html(fake: FakeBotApi, backend: type) -> None:
    async with Bot(DEFAULT_TOKEN, base_url=fake.base_url, request=backend()) as bot:
        result = await TelegramSender(bot).send("5", HTML)
    assert isinstance(result, Sent) and result.message_id
    [sent] = fake.sent
    assert (sent.chat_id, sent.text, sent.parse_mode) == (5, HTML.payload["text"], "HTML")
    assert str(sent.message_id) == result.message_id


async def test_429_is_retry_later_with_telegrams_delay(fake: FakeBotApi, bot: Bot) -> None:
    sender = TelegramSender(bot)
    fake.fail_next(5, "retry_after", retry_after=3)
    assert await sender.send("5", HTML) == RetryLater(
        3.0, "rate limited by Telegram (429)", counts_as_attempt=False, kind="rate_limited"
    )
    assert fake.sent == []
    assert isinstance(await sender.send("5", HTML), Sent)  # nothing lost when retried
    assert len(fake.sent) == 1


@pytest.mark.parametrize("kind", ["blocked", "kicked", "chat_not_found"])
async def test_gone_chats(fake: FakeBotApi, bot: Bot, kind: str) -> None:
    fake.fail_next(-77, kind)
    result = await TelegramSender(bot).send("-77", HTML)
    assert isinstance(result, ChatGone)
    assert fake.sent == []


async def test_parse_error_resends_plain_text(fake: FakeBotApi, bot: Bot) -> None:
    fake.fail_next(5, "parse_error")
    result = await TelegramSender(bot).send("5", HTML)
    assert isinstance(result, Sent)
    [sent] = fake.sent
    assert (sent.text, sent.parse_mode) == ("Headline & more", None)


async def test_html_the_fake_refuses_goes_out_as_plain_text(fake: FakeBotApi, bot: Bot) -> None:
    broken = OutgoingMessage({"text": "<b>Headline", "parse_mode": "HTML"}, "Headline")
    assert isinstance(await TelegramSender(bot).send("5", broken), Sent)
    assert [(m.text, m.parse_mode) for m in fake.sent] == [("Headline", None)]


async def test_other_bad_request_is_rejected(fake: FakeBotApi, bot: Bot) -> None:
    fake.fail_next(5, "bad_request")
    assert isinstance(await TelegramSender(bot).send("5", HTML), Rejected)


@pytest.mark.parametrize("kind", ["network", "server_error", "bad_gateway"])
async def test_passing_failures_retry(fake: FakeBotApi, bot: Bot, kind: str) -> None:
    sender = TelegramSender(bot, network_backoff=2.5)
    fake.fail_next(5, kind)
    result = await sender.send("5", HTML)
    assert isinstance(result, RetryLater) and result.after_seconds == 2.5
    assert isinstance(await sender.send("5", HTML), Sent)


@pytest.mark.parametrize("backend", [AiohttpRequest, HTTPXRequest])
async def test_a_read_timeout_is_retry_later(fake: FakeBotApi, backend: type) -> None:
    request = backend(read_timeout=0.2)
    async with Bot(DEFAULT_TOKEN, base_url=fake.base_url, request=request) as bot:
        fake.fail_next(5, "slow", delay=1.0)
        result = await TelegramSender(bot).send("5", HTML)
    assert isinstance(result, RetryLater) and "timed out" in result.reason.lower()


async def test_migrated_group_gets_the_message_at_its_new_id(fake: FakeBotApi, bot: Bot) -> None:
    fake.fail_next(-55, "migrated", migrate_to=-1000055)
    result = await TelegramSender(bot).send("-55", HTML)
    assert isinstance(result, Sent) and result.migrated_to == "-1000055"
    assert [m.chat_id for m in fake.sent] == [-1000055]


async def test_invalid_token_pauses_instead_of_failing(fake: FakeBotApi) -> None:
    # A rejected token is the setup's fault, not the message's: the result pauses delivery to
    # Telegram without using up the items' attempts, and never carries the token.
    request = AiohttpRequest()
    await request.initialize()
    try:
        sender = TelegramSender(Bot(WRONG_TOKEN, base_url=fake.base_url, request=request))
        result = await sender.send("5", HTML)
        assert isinstance(result, RetryLater)
        assert (result.kind, result.counts_as_attempt) == ("token_rejected", False)
        assert WRONG_TOKEN not in result.reason
    finally:
        await request.shutdown()


async def test_a_token_revoked_after_start_up_pauses_too(fake: FakeBotApi, bot: Bot) -> None:
    # Once the bot is initialised, PTB reports a 401 to a raw API call as a missing endpoint;
    # for sendMessage that can only mean the token, so it pauses delivery like a bad token.
    sender = TelegramSender(bot)
    assert isinstance(await sender.send("5", HTML), Sent)
    fake.token = WRONG_TOKEN  # revoked with @BotFather while the worker runs
    result = await sender.send("5", HTML)
    assert isinstance(result, RetryLater)
    assert (result.kind, result.counts_as_attempt) == ("token_rejected", False)


async def test_a_send_reads_its_message_id_without_building_a_message(
    fake: FakeBotApi, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Delivery keeps only the message id; building PTB's Message from every reply cost about a
    # quarter of a send's CPU.
    def no_message(*args: object, **kwargs: object) -> None:
        raise AssertionError("a Message was built")

    monkeypatch.setattr(Message, "de_json", no_message)
    fake.open_topic(-100777, 12)
    message = OutgoingMessage(HTML.payload, HTML.fallback_text, thread="12")
    result = await TelegramSender(bot).send("-100777", message)
    assert isinstance(result, Sent)
    [sent] = fake.sent
    assert (sent.chat_id, sent.thread, result.message_id) == (-100777, 12, str(sent.message_id))


async def test_fake_enforces_its_global_rate() -> None:
    async with (
        FakeBotApi(global_rate=3) as limited,
        Bot(DEFAULT_TOKEN, base_url=limited.base_url, request=AiohttpRequest()) as fast_bot,
    ):
        sender = TelegramSender(fast_bot)
        results = [await sender.send(str(chat), HTML) for chat in range(1, 6)]
    assert [type(r) for r in results] == [Sent, Sent, Sent, RetryLater, RetryLater]
    assert limited.stats.rate_limited == 2


async def test_fake_takes_json_bodies_too(fake: FakeBotApi) -> None:
    body = {"chat_id": 5, "text": "<i>hi</i>", "parse_mode": "HTML"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}{DEFAULT_TOKEN}/sendMessage", json=body) as response,
    ):
        answer = await response.json()
    assert answer["ok"] is True and answer["result"]["chat"]["id"] == 5
    assert [(m.chat_id, m.text) for m in fake.sent] == [(5, "<i>hi</i>")]
