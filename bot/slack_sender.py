"""Delivery to Slack: digest cards as Block Kit messages through ``chat.postMessage``.

Every expected Slack answer becomes a :data:`~bot.ports.SendResult`; only programming errors
propagate. The web client is built without slack_sdk's retry handlers (see
:func:`delivery_client`): a 429 must reach the delivery loop as :class:`RetryLater` so that it
reschedules the message instead of one send sleeping for the whole ``Retry-After`` inside the
SDK, and a connection error after the request left must not silently post a message twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

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
from bot.slack_workspaces import split_chat_id
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
# RetryLater.kind of a refused token in OAuth mode: that workspace pauses (here), not Slack.
WORKSPACE_TOKEN_REJECTED = "workspace_token_rejected"
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


class WorkspaceTokens(Protocol):
    """The bot token of each workspace the app is installed in (OAuth mode)."""

    async def bot_token(self, workspace: str) -> str | None:
        """The workspace's token, or None when the app is not installed there (any more)."""
        ...

    def forget(self, workspace: str) -> None:
        """Drop what is cached for the workspace: its token was refused."""
        ...


class SlackSender:
    """:class:`bot.ports.ChatSender` for Slack channels and DMs.

    ``chat_id`` is a channel id with the one token of ``client``, or a workspace-qualified one
    (``T0TEAM:C0NEWS``, see :mod:`bot.slack_workspaces`) sent with that workspace's token from
    ``tokens``. A workspace whose token Slack refuses, or that got a 429, is paused as a whole
    for the wait (its other channels are not tried meanwhile); other workspaces go on.
    """

    platform = "slack"

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        tokens: WorkspaceTokens | None = None,
        min_interval: float = 1.0,
        server_error_backoff: float = SERVER_ERROR_BACKOFF,
        network_error_backoff: float = NETWORK_ERROR_BACKOFF,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._tokens = tokens
        self._min_interval = min_interval
        self._server_error_backoff = server_error_backoff
        self._network_error_backoff = network_error_backoff
        self._clock = clock
        self._clients: dict[str, AsyncWebClient] = {}  # token -> client
        self._paused: dict[str, float] = {}  # workspace -> paused until (clock)

    def render(self, cards: Sequence[Card]) -> list[OutgoingMessage]:
        return [
            OutgoingMessage(
                payload=message.to_dict(),
                fallback_text=message.text,
                card_indexes=message.card_indexes,
            )
            for message in render_digest(cards)
        ]

    def budget_key_for(self, chat_id: str) -> str:
        """The shared send budget a message to ``chat_id`` counts against (``bot.send_budget``):
        one per bot token, so one per workspace in OAuth mode, as Slack limits each apart."""
        workspace, _ = split_chat_id(chat_id)
        return f"{self.platform}:{workspace}" if workspace else self.platform

    def min_interval(self, chat_id: str) -> float:
        # Slack allows about one message per second per channel (chat.postMessage is "special"
        # tier: bursts are tolerated, sustained rates above 1/s get 429s).
        return self._min_interval

    async def send(self, chat_id: str, message: OutgoingMessage) -> SendResult:
        workspace, channel = split_chat_id(chat_id)
        if workspace is None or self._tokens is None:
            client: AsyncWebClient | SendResult = self._client
        else:
            client = await self._workspace_client(workspace)
        if not isinstance(client, AsyncWebClient):
            return client
        result = await self._post(client, workspace, channel, message.payload)
        if isinstance(result, Rejected) and result.reason in MARKUP_ERRORS:
            log.warning("slack refused the blocks for %s (%s); sending plain text", chat_id, result)
            text = message.fallback_text[:PLAIN_TEXT_LIMIT] or "(empty digest)"
            result = await self._post(client, workspace, channel, {"text": text})
        if workspace is not None and isinstance(result, RetryLater):
            self._pause(workspace, result)
        return result

    async def _workspace_client(self, workspace: str) -> AsyncWebClient | SendResult:
        """The client with the workspace's token, or why nothing may be sent there now."""
        assert self._tokens is not None
        paused_until = self._paused.get(workspace)
        if paused_until is not None:
            left = paused_until - self._clock()
            if left > 0:
                return RetryLater(
                    left,
                    "slack: workspace paused",
                    counts_as_attempt=False,
                    kind="workspace_paused",
                )
            del self._paused[workspace]
        token = await self._tokens.bot_token(workspace)
        if token is None:
            return ChatGone("the Slack app is not installed in the workspace")
        client = self._clients.get(token)
        if client is None:
            client = self._clients[token] = delivery_client(
                token, self._client.base_url, timeout=self._client.timeout
            )
        return client

    def _pause(self, workspace: str, result: RetryLater) -> None:
        if result.kind in ("rate_limited", WORKSPACE_TOKEN_REJECTED):
            until = self._clock() + result.after_seconds
            self._paused[workspace] = max(until, self._paused.get(workspace, until))

    async def _post(
        self,
        client: AsyncWebClient,
        workspace: str | None,
        channel: str,
        payload: Mapping[str, Any],
    ) -> SendResult:
        try:
            response = await client.chat_postMessage(
                channel=channel, unfurl_links=False, unfurl_media=False, **payload
            )
        except SlackApiError as exc:
            return self._classify(exc, workspace)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return RetryLater(self._network_error_backoff, f"network: {type(exc).__name__}")
        ts = response.get("ts")
        return Sent(str(ts) if ts is not None else None)

    def _classify(self, exc: SlackApiError, workspace: str | None) -> SendResult:
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
            # One workspace's token says nothing of the others': only the one-token mode
            # pauses the whole platform (delivery does that for "token_rejected").
            one_token = workspace is None or self._tokens is None
            self._token_refused(error, workspace)
            return RetryLater(
                TOKEN_ERROR_PAUSE,
                f"slack: {error}",
                counts_as_attempt=False,
                kind="token_rejected" if one_token else WORKSPACE_TOKEN_REJECTED,
            )
        if status is not None and status >= 500:
            return RetryLater(self._server_error_backoff, f"slack: HTTP {status}")
        if error in TRANSIENT_ERRORS:
            return RetryLater(self._server_error_backoff, f"slack: {error}")
        return Rejected(error or f"HTTP {status}")

    def _token_refused(self, error: str, workspace: str | None) -> None:
        if workspace is None or self._tokens is None:
            log.error(
                "slack rejected the bot token (%s): check SLACK_BOT_TOKEN and that the app is "
                "still installed; delivery to Slack is retried every %.0f s, nothing is dropped",
                error,
                TOKEN_ERROR_PAUSE,
            )
            return
        self._tokens.forget(workspace)
        log.error(
            "slack rejected the bot token of workspace %s (%s): delivery there pauses for "
            "%.0f s, nothing is dropped; other workspaces go on",
            workspace,
            error,
            TOKEN_ERROR_PAUSE,
        )


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


__all__ = ["GONE_ERRORS", "MARKUP_ERRORS", "SlackSender", "WorkspaceTokens", "delivery_client"]
