"""Delivery to Slack: digest cards as Block Kit messages through ``chat.postMessage``.

Every expected Slack answer becomes a :data:`~bot.ports.SendResult`; only programming errors
propagate. The web client is built without slack_sdk's retry handlers (see
:func:`delivery_client`): a 429 must reach the delivery loop as :class:`RetryLater` so that it
reschedules the message instead of one send sleeping for the whole ``Retry-After`` inside the
SDK, and a connection error after the request left must not silently post a message twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ports import (
    ChatGone,
    OutgoingMessage,
    Rejected,
    RetryLater,
    SendResult,
    Sent,
)
from digests.models import Card
from digests.render.slack import render_digest

log = logging.getLogger(__name__)

# Slack answers these when the channel will never take a message again: the subscription is
# deactivated, not retried.
GONE_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "channel_is_archived",
        "restricted_action",
    }
)
# These concern the bot's token, not the channel. With one token for every channel, treating
# them as "channel gone" would unsubscribe every Slack channel after one typo or rotation;
# instead delivery pauses (nothing dropped) and the log says what to fix.
TOKEN_ERRORS = frozenset(
    {
        "account_inactive",
        "invalid_auth",
        "token_revoked",
        "token_expired",
        "not_authed",
        "team_access_not_granted",
    }
)
TOKEN_ERROR_PAUSE = 600.0  # seconds between tries while the token is rejected
# The markup was refused, the channel is fine: the same message as plain text may still pass.
MARKUP_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_too_long"})
# Passing trouble on Slack's side, reported in a 200 answer.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "service_unavailable", "fatal_error", "internal_error", "request_timeout"}
)

PLAIN_TEXT_LIMIT = 40000  # chat.postMessage truncates longer text; we cut it ourselves
DEFAULT_RETRY_AFTER = 30.0  # a 429 without Retry-After (Slack always sends one; be safe)
SERVER_ERROR_BACKOFF = 30.0
NETWORK_ERROR_BACKOFF = 15.0


def delivery_client(token: str, base_url: str, *, timeout: int = 30) -> AsyncWebClient:
    """The web client delivery uses: no built-in retries, so that every failure is a value."""
    return AsyncWebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])


class SlackSender:
    """:class:`bot.ports.ChatSender` for Slack channels and DMs (``chat_id`` = channel id)."""

    platform = "slack"

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        min_interval: float = 1.0,
        server_error_backoff: float = SERVER_ERROR_BACKOFF,
        network_error_backoff: float = NETWORK_ERROR_BACKOFF,
    ) -> None:
        self._client = client
        self._min_interval = min_interval
        self._server_error_backoff = server_error_backoff
        self._network_error_backoff = network_error_backoff

    def render(self, cards: Sequence[Card]) -> list[OutgoingMessage]:
        return [
            OutgoingMessage(
                payload=message.to_dict(),
                fallback_text=message.text,
                card_indexes=message.card_indexes,
            )
            for message in render_digest(cards)
        ]

    def min_interval(self, chat_id: str) -> float:
        # Slack allows about one message per second per channel (chat.postMessage is "special"
        # tier: bursts are tolerated, sustained rates above 1/s get 429s).
        return self._min_interval

    async def send(self, chat_id: str, message: OutgoingMessage) -> SendResult:
        result = await self._post(chat_id, message.payload)
        if isinstance(result, Rejected) and result.reason in MARKUP_ERRORS:
            log.warning("slack refused the blocks for %s (%s); sending plain text", chat_id, result)
            text = message.fallback_text[:PLAIN_TEXT_LIMIT] or "(empty digest)"
            return await self._post(chat_id, {"text": text})
        return result

    async def _post(self, chat_id: str, payload: Mapping[str, Any]) -> SendResult:
        try:
            response = await self._client.chat_postMessage(
                channel=chat_id, unfurl_links=False, unfurl_media=False, **payload
            )
        except SlackApiError as exc:
            return self._classify(exc)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return RetryLater(self._network_error_backoff, f"network: {type(exc).__name__}")
        ts = response.get("ts")
        return Sent(str(ts) if ts is not None else None)

    def _classify(self, exc: SlackApiError) -> SendResult:
        status, headers, error = _error_parts(exc)
        if status == 429 or error == "ratelimited":
            return RetryLater(
                _retry_after(headers),
                "slack: rate limited (429)",
                counts_as_attempt=False,
                kind="rate_limited",
            )
        if error in GONE_ERRORS:
            return ChatGone(error)
        if error in TOKEN_ERRORS:
            log.error(
                "slack rejected the bot token (%s): check SLACK_BOT_TOKEN and that the app is "
                "still installed; delivery to Slack is retried every %.0f s, nothing is dropped",
                error,
                TOKEN_ERROR_PAUSE,
            )
            return RetryLater(
                TOKEN_ERROR_PAUSE,
                f"slack: {error}",
                counts_as_attempt=False,
                kind="token_rejected",
            )
        if status is not None and status >= 500:
            return RetryLater(self._server_error_backoff, f"slack: HTTP {status}")
        if error in TRANSIENT_ERRORS:
            return RetryLater(self._server_error_backoff, f"slack: {error}")
        return Rejected(error or f"HTTP {status}")


def _error_parts(exc: SlackApiError) -> tuple[int | None, Mapping[str, str], str]:
    """Status, headers and Slack's error code, whichever response object slack_sdk attached.

    Normally an ``AsyncSlackResponse``; for an unparsable body slack_sdk attaches the raw
    aiohttp response instead (``.status`` rather than ``.status_code``).
    """
    response = exc.response
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    headers = getattr(response, "headers", None) or {}
    data = getattr(response, "data", None)
    error = data.get("error", "") if isinstance(data, dict) else ""
    return (int(status) if status is not None else None), headers, str(error)


def _retry_after(headers: Mapping[str, Any]) -> float:
    value = None
    for key, raw in headers.items():
        if key.lower() == "retry-after":
            value = raw[0] if isinstance(raw, list) else raw
            break
    try:
        return max(1.0, float(value)) if value is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER


__all__ = ["GONE_ERRORS", "MARKUP_ERRORS", "SlackSender", "delivery_client"]
