"""SlackSender against the fake Web API, through the real slack_sdk AsyncWebClient."""

from __future__ import annotations

import socket

import pytest

from bot.ports import ChatGone, OutgoingMessage, Rejected, RetryLater, Sent
from bot.slack_sender import GONE_ERRORS, TOKEN_ERROR_PAUSE, SlackSender, delivery_client
from tests.slack.conftest import make_card
from tests.slack.fake_slack_api import Error, FakeSlackApi, RateLimited, Status


def sender_for(api: FakeSlackApi) -> SlackSender:
    return SlackSender(delivery_client("xoxb-test-token", api.base_url, timeout=5))


async def test_a_digest_is_posted_as_block_kit_without_unfurls(fake_api: FakeSlackApi) -> None:
    sender = sender_for(fake_api)
    [message] = sender.render([make_card(), make_card("Second")])
    assert message.card_indexes == (0, 1)
    assert set(message.payload) == {"text", "blocks"}
    result = await sender.send("C0NEWS", message)
    assert isinstance(result, Sent) and result.message_id
    [posted] = fake_api.delivered("C0NEWS")
    assert posted["blocks"] == message.payload["blocks"]
    assert posted["text"] == message.fallback_text
    assert posted["unfurl_links"] is False and posted["unfurl_media"] is False
    assert sender.min_interval("C0NEWS") == 1.0


async def test_rate_limit_is_retry_later_then_delivered(fake_api: FakeSlackApi) -> None:
    sender = sender_for(fake_api)
    fake_api.script("chat.postMessage", "C0NEWS", RateLimited(7))
    [message] = sender.render([make_card()])
    first = await sender.send("C0NEWS", message)
    # slack_sdk's retry handlers are off: the 429 comes back at once, with Slack's delay
    assert first == RetryLater(
        7.0, "slack: rate limited (429)", counts_as_attempt=False, kind="rate_limited"
    )
    assert fake_api.delivered("C0NEWS") == []
    assert isinstance(await sender.send("C0NEWS", message), Sent)
    assert len(fake_api.delivered("C0NEWS")) == 1
    assert [c.answered for c in fake_api.calls_to("chat.postMessage")] == ["429", "ok"]


@pytest.mark.parametrize(
    "error",
    [
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "channel_is_archived",
    ],
)
async def test_deactivating_errors_are_chat_gone(fake_api: FakeSlackApi, error: str) -> None:
    assert error in GONE_ERRORS
    sender = sender_for(fake_api)
    fake_api.script("chat.postMessage", "C0GONE", Error(error))
    [message] = sender.render([make_card()])
    assert await sender.send("C0GONE", message) == ChatGone(error)
    assert len(fake_api.calls_to("chat.postMessage")) == 1  # not retried, not resent


@pytest.mark.parametrize("error", ["account_inactive", "invalid_auth", "token_revoked"])
async def test_token_errors_pause_delivery_without_deactivating(
    fake_api: FakeSlackApi, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    # One token serves every channel: a rejected token is the operator's to fix, and must not
    # unsubscribe every channel the next delivery round reaches.
    sender = sender_for(fake_api)
    fake_api.script("chat.postMessage", "C0TOKEN", Error(error))
    [message] = sender.render([make_card()])
    result = await sender.send("C0TOKEN", message)
    assert result == RetryLater(
        TOKEN_ERROR_PAUSE, f"slack: {error}", counts_as_attempt=False, kind="token_rejected"
    )
    assert "SLACK_BOT_TOKEN" in caplog.text


@pytest.mark.parametrize("error", ["invalid_blocks", "msg_too_long"])
async def test_refused_markup_is_resent_as_plain_text(fake_api: FakeSlackApi, error: str) -> None:
    sender = sender_for(fake_api)
    fake_api.script("chat.postMessage", "C0NEWS", Error(error))
    [message] = sender.render([make_card()])
    assert isinstance(await sender.send("C0NEWS", message), Sent)
    [plain] = fake_api.delivered("C0NEWS")
    assert plain["text"] == message.fallback_text
    assert "blocks" not in plain


async def test_other_errors_are_rejected(fake_api: FakeSlackApi) -> None:
    sender = sender_for(fake_api)
    fake_api.script("chat.postMessage", "C0NEWS", Error("too_many_attachments"))
    [message] = sender.render([make_card()])
    assert await sender.send("C0NEWS", message) == Rejected("too_many_attachments")


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retry_later(fake_api: FakeSlackApi, status: int) -> None:
    sender = sender_for(fake_api)
    fake_api.script("chat.postMessage", "C0NEWS", Status(status))
    [message] = sender.render([make_card()])
    result = await sender.send("C0NEWS", message)
    assert isinstance(result, RetryLater)
    assert result.after_seconds == 30.0
    assert str(status) in result.reason


async def test_network_errors_are_retry_later() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sender = SlackSender(delivery_client("xoxb-t", f"http://127.0.0.1:{port}/api/"))
    [message] = sender.render([make_card()])
    result = await sender.send("C0NEWS", message)
    assert isinstance(result, RetryLater)
    assert result.reason.startswith("network:")


async def test_a_card_larger_than_a_section_is_split_not_rejected(
    fake_api: FakeSlackApi,
) -> None:
    sender = sender_for(fake_api)
    huge = make_card("A very long piece", text_words=2500)  # ~12 500 characters of summary
    messages = sender.render([huge, *[make_card(f"Card {i}") for i in range(8)]])
    for message in messages:
        assert isinstance(await sender.send("C0NEWS", message), Sent)
    received = fake_api.delivered("C0NEWS")
    assert len(received) == len(messages)
    assert [c.answered for c in fake_api.calls_to("chat.postMessage")] == ["ok"] * len(messages)
    sections = [b for m in received for b in m["blocks"] if b["type"] == "section"]
    assert all(len(s["text"]["text"]) <= 3000 for s in sections)
    assert all(len(m["blocks"]) <= 50 for m in received)
    huge_sections = [
        s
        for s in received[0]["blocks"][:20]
        if s["type"] == "section" and "word" in s["text"]["text"]
    ]
    assert len(huge_sections) >= 4  # the summary spread over several sections
    delivered_indexes = sorted(i for m in messages for i in m.card_indexes)
    assert delivered_indexes == list(range(9))


def test_render_empty_digest_is_no_message() -> None:
    sender = SlackSender(delivery_client("xoxb-t", "http://127.0.0.1:9/api/"))
    assert sender.render([]) == []


async def test_plain_text_fallback_of_an_oversized_message(fake_api: FakeSlackApi) -> None:
    sender = sender_for(fake_api)
    message = OutgoingMessage(
        payload={"text": "x" * 50_000, "blocks": [{"type": "divider"}]},
        fallback_text="y" * 50_000,
    )
    assert isinstance(await sender.send("C0NEWS", message), Sent)
    [plain] = fake_api.delivered("C0NEWS")
    assert len(plain["text"]) == 40_000
