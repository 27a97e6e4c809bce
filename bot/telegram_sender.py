"""Delivery to Telegram: digest cards rendered as HTML messages and sent with PTB's ``Bot``.

Every answer Telegram can give a ``sendMessage`` becomes a :data:`bot.ports.SendResult`
(see :func:`classify`, a pure mapping tested with a table); only a broken setup (an invalid
token) raises.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from bot.ports import ChatGone, OutgoingMessage, Rejected, RetryLater, SendResult, Sent
from bot.send_budget import budget_key
from bot.telegram_redaction import redact_token
from digests.models import Card
from digests.render import is_web_url
from digests.render.telegram import render_digest, render_plain

log = logging.getLogger(__name__)

PRIVATE_CHAT_INTERVAL = 1.0  # Telegram: about one message per second to the same chat
GROUP_CHAT_INTERVAL = 3.0  # Telegram: 20 messages per minute to the same group
# A dropped connection, a timeout or a 5xx gives no delay of its own: 0 leaves it to delivery,
# which backs off exponentially with the number of attempts.
NETWORK_BACKOFF = 0.0

# How long delivery to Telegram pauses after the Bot API rejected the token, before trying again.
TOKEN_REJECTED_PAUSE = 600.0

# BadRequest descriptions that mean the chat itself is gone, not this message.
_CHAT_GONE = (
    "chat not found",
    "group chat was deactivated",
    "user is deactivated",
    "peer_id_invalid",
    "bot was kicked",
    "bot is not a member",
)
# BadRequest descriptions that mean the forum topic is closed or gone: only the subscription
# of that topic ends, the group's other topics go on.
_TOPIC_GONE = ("topic_closed", "topic_deleted", "message thread not found")
_PARSE_ERROR = "can't parse entities"

# Sends go through ``Bot.do_api_request`` so that the reply stays the plain dict it arrives as:
# ``Bot.send_message`` builds a whole ``Message`` (chat, sender, entities, link preview) of which
# delivery reads one field. The method is named in lower case: the Bot API's method names are
# case-insensitive, and PTB warns on every ``do_api_request`` whose name is one of its own
# methods (``send_message``, ``sendMessage``), which a warnings filter would have to silence
# for the whole process, and ``python -W error`` would turn into a failure of every send.
_SEND_METHOD = "sendmessage"


def retry_after_seconds(exc: RetryAfter) -> float:
    """PTB 22 returns ``retry_after`` as int or timedelta depending on ``PTB_TIMEDELTA`` and
    warns about the int form; read it either way without the warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify(exc: TelegramError, *, network_backoff: float = NETWORK_BACKOFF) -> SendResult:
    """What a failed ``sendMessage`` means for delivery. ``ChatMigrated`` and parse errors are
    handled by the sender before this (they are resent), but still map to a sane value."""
    if isinstance(exc, RetryAfter):
        return RetryLater(
            retry_after_seconds(exc),
            "rate limited by Telegram (429)",
            counts_as_attempt=False,
            kind="rate_limited",
        )
    if isinstance(exc, InvalidToken):
        # 401/404 from the Bot API: the token was revoked or mistyped. Every chat would fail
        # the same way, so this pauses delivery to Telegram instead of using up attempts.
        return RetryLater(
            TOKEN_REJECTED_PAUSE,
            "telegram: the bot token was rejected (check TELEGRAM_BOT_TOKEN)",
            counts_as_attempt=False,
            kind="token_rejected",
        )
    if isinstance(exc, Forbidden):
        return ChatGone(exc.message)
    if isinstance(exc, ChatMigrated):
        return RetryLater(0.0, f"chat migrated to {exc.new_chat_id}")
    if isinstance(exc, BadRequest):
        text = exc.message.lower()
        if any(marker in text for marker in _CHAT_GONE + _TOPIC_GONE):
            return ChatGone(exc.message)
        return Rejected(exc.message)
    if isinstance(exc, NetworkError):  # also TimedOut and every 5xx answer
        return RetryLater(network_backoff, f"network: {exc.message}")
    return RetryLater(network_backoff, f"telegram: {exc.message}")


def is_parse_error(exc: TelegramError) -> bool:
    return isinstance(exc, BadRequest) and _PARSE_ERROR in exc.message.lower()


def _link_preview(cards: Sequence[Card]) -> dict[str, Any]:
    # One card: a small preview of the piece under the text reads like a link card; several:
    # a preview of the first piece alone would look like it belongs to the whole digest.
    if len(cards) == 1 and is_web_url(cards[0].url):
        return {"url": cards[0].url, "prefer_small_media": True}
    return {"is_disabled": True}


class TelegramSender:
    """:class:`bot.ports.ChatSender` for Telegram over a PTB :class:`telegram.Bot`.

    The bot is owned by the caller (the adapter's ``Application``, or the benchmark) and must
    be initialised before :meth:`send`.
    """

    platform = "telegram"

    def __init__(self, bot: Bot, *, network_backoff: float = NETWORK_BACKOFF) -> None:
        self.bot = bot
        self._network_backoff = network_backoff
        self._ready = False
        self._ready_lock = asyncio.Lock()

    async def _ensure_ready(self) -> None:
        # ``digestbot run --once`` delivers without starting the adapter, so the bot may not
        # be initialised yet; whoever owns it (the adapter's ``stop``) shuts it down.
        if self._ready:
            return
        async with self._ready_lock:
            if not self._ready:
                try:
                    await self.bot.initialize()
                except InvalidToken as exc:
                    raise _redacted(exc) from None
                self._ready = True

    def render(self, cards: Sequence[Card]) -> list[OutgoingMessage]:
        messages = []
        for rendered in render_digest(cards):
            carried = [cards[i] for i in rendered.card_indexes]
            plain = rendered.plain or "\n\n".join(render_plain(card) for card in carried)
            payload = {
                "text": rendered.text,
                "parse_mode": "HTML",
                "link_preview_options": _link_preview(carried),
            }
            messages.append(OutgoingMessage(payload, plain, rendered.card_indexes))
        return messages

    @property
    def budget_key(self) -> str:
        """One send budget per bot token, shared by the workers (``bot.send_budget``)."""
        return budget_key(self.platform, self.bot.token)

    def min_interval(self, chat_id: str) -> float:
        # Groups, supergroups and channels have negative ids; users positive ones.
        return GROUP_CHAT_INTERVAL if chat_id.startswith("-") else PRIVATE_CHAT_INTERVAL

    async def send(self, chat_id: str, message: OutgoingMessage) -> SendResult:
        try:
            await self._ensure_ready()
        except InvalidToken as exc:
            return classify(exc)
        target = _chat_id(chat_id)
        payload = message.payload
        if message.thread:
            payload = {**payload, "message_thread_id": int(message.thread)}
        migrated_to: str | None = None
        # At most three tries: the original, once to a migrated chat, once as plain text.
        for _ in range(3):
            try:
                message_id = await self._send(target, payload)
            except ChatMigrated as exc:
                if migrated_to is not None:
                    return classify(exc, network_backoff=self._network_backoff)
                migrated_to = str(exc.new_chat_id)
                log.info("telegram chat %s became supergroup %s; resending", chat_id, migrated_to)
                target = exc.new_chat_id
            except InvalidToken as exc:
                # A revoked or mistyped token: delivery pauses Telegram, nothing is dropped.
                return classify(_redacted(exc))
            except EndPointNotFound:
                # ``do_api_request`` reports a 401/404 after ``initialize`` as a missing method;
                # sendMessage exists, so it is the token that was revoked since start-up.
                return classify(InvalidToken("the bot token was rejected"))
            except TelegramError as exc:
                if not (is_parse_error(exc) and payload.get("parse_mode")):
                    return classify(exc, network_backoff=self._network_backoff)
                log.warning("telegram refused the HTML (%s); resending as plain text", exc.message)
                payload = {
                    "text": message.fallback_text,
                    "link_preview_options": payload.get("link_preview_options"),
                    "message_thread_id": payload.get("message_thread_id"),
                }
            else:
                return Sent(message_id, migrated_to=migrated_to)
        return Rejected("gave up after a migration and a plain-text resend")

    async def _send(self, chat_id: int | str, payload: dict[str, Any]) -> str:
        # The payload's fields are sendMessage's own, the link preview included as the plain
        # dict it already is (building PTB's LinkPreviewOptions and serialising it again cost
        # about a tenth of a send in bench/delivery.py). PTB drops the fields that are None.
        sent = await self.bot.do_api_request(
            _SEND_METHOD, api_kwargs={**payload, "chat_id": chat_id}
        )
        return str(sent["message_id"])


def _redacted(exc: InvalidToken) -> InvalidToken:
    """PTB puts the rejected token itself in the message."""
    return InvalidToken(redact_token(exc.message))


def _chat_id(chat_id: str) -> int | str:
    """Telegram ids are integers; ``@channelname`` stays a string."""
    try:
        return int(chat_id)
    except ValueError:
        return chat_id
