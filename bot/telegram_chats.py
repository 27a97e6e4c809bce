"""What the command core may ask Telegram about chats: a member's role (``getChatMember``) and
a channel by name (``getChat``), as :class:`bot.ports.ChatDirectory`.

Answers are cached for a few minutes (``ttl``): a group's every command would otherwise cost a
round trip, and Telegram limits how often a bot may ask. A demoted admin may therefore still
manage the chat until their cached answer expires.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from cachetools import TTLCache
from telegram import Bot, Chat, ChatMemberAdministrator, ChatMemberOwner
from telegram.error import TelegramError

from bot.ports import ChannelInfo

__all__ = ["MEMBER_CACHE_SECONDS", "TelegramChats"]

log = logging.getLogger(__name__)

MEMBER_CACHE_SECONDS = 300.0
_CACHE_SIZE = 10_000


class TelegramChats:
    """:class:`bot.ports.ChatDirectory` over a PTB bot."""

    def __init__(
        self,
        bot: Bot,
        *,
        ttl: float = MEMBER_CACHE_SECONDS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot = bot
        self._members: TTLCache[tuple[str, str], str | None] = TTLCache(_CACHE_SIZE, ttl, timer)

    async def member_status(self, chat_id: str, user_id: str) -> str | None:
        key = (chat_id, user_id)
        if key in self._members:
            return self._members[key]
        try:
            member = await self.bot.get_chat_member(_chat_id(chat_id), int(user_id))
        except TelegramError as exc:  # the bot left, the chat is gone: nobody can be checked
            log.info("telegram: getChatMember %s in %s failed: %s", user_id, chat_id, exc)
            return None
        self._members[key] = status = str(member.status)
        return status

    async def find_channel(self, name: str) -> ChannelInfo | None:
        try:
            chat = await self.bot.get_chat(_chat_id(name))
            if chat.type != Chat.CHANNEL:
                return None
            me = await self.bot.get_chat_member(chat.id, self.bot.id)
        except TelegramError as exc:
            log.info("telegram: channel %s not found: %s", name, exc)
            return None
        can_post = isinstance(me, ChatMemberOwner) or (
            isinstance(me, ChatMemberAdministrator) and bool(me.can_post_messages)
        )
        return ChannelInfo(str(chat.id), chat.title, can_post)


def _chat_id(chat_id: str) -> int | str:
    try:
        return int(chat_id)
    except ValueError:
        return chat_id  # @channelname
