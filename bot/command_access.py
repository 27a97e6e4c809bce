"""Who may change a chat through the command core: the admin check of shared chats and the
channel a private chat manages (``/subscribe @channel ...``). A mixin of
:class:`bot.commands.CommandCore`; the decisions themselves are :mod:`bot.access`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot import messages as msg
from bot.access import ADMINS_ONLY, decide, is_admin
from bot.i18n import Translator
from bot.models import ChatRef, Subscription
from bot.ports import CommandRequest, CommandStore, Reply

__all__ = ["ChatAccess", "Handler"]

Handler = Callable[
    [CommandRequest, "Subscription | None", msg.CommandSyntax, Translator], Awaitable[Reply]
]


class ChatAccess:
    store: CommandStore
    group_commands: str

    async def _refused(
        self, request: CommandRequest, name: str, cmd: msg.CommandSyntax, t: Translator
    ) -> Reply | None:
        """None when ``request``'s sender may run ``name`` here, else the reply saying who may."""
        access = decide(
            name,
            shared=request.is_group or request.is_channel,
            sender_is_chat=request.sender_is_chat,
            policy=self.group_commands,
        )
        if access is not ADMINS_ONLY or request.chats is None:
            return None  # a platform that cannot tell who is an admin lets everyone manage
        if request.user_id is None:
            return Reply(msg.admins_only(cmd, t=t))
        status = await request.chats.member_status(request.chat.chat_id, request.user_id)
        if status is None:
            return Reply(msg.admin_check_failed(t=t))
        return None if is_admin(status) else Reply(msg.admins_only(cmd, t=t))

    async def _for_channel(
        self, request: CommandRequest, handler: Handler, cmd: msg.CommandSyntax, t: Translator
    ) -> Reply:
        """``/subscribe @channel trade`` from a private chat: the channel's subscription,
        once its admin asks and the bot may post there. The reply carries no buttons (they
        would act on the private chat)."""
        ref = request.args[0]
        assert request.chats is not None
        if request.is_group or request.is_channel:
            return Reply(msg.channel_only_in_private(cmd, t=t))
        channel = await request.chats.find_channel(ref)
        if channel is None:
            return Reply(msg.channel_not_found(ref, t=t))
        status = None
        if request.user_id is not None:
            status = await request.chats.member_status(channel.chat_id, request.user_id)
        if not is_admin(status):
            return Reply(msg.channel_not_admin(ref, t=t))
        if request.name != "list" and not channel.bot_can_post:
            return Reply(msg.channel_cannot_post(ref, t=t))
        target = replace(
            request,
            chat=ChatRef(request.chat.platform, channel.chat_id),
            args=request.args[1:],
            chat_title=channel.title or ref,
            is_channel=True,
        )
        current = await self.store.get_subscription(target.chat)
        reply = await handler(target, current, cmd, t)
        return Reply(msg.for_channel(ref, reply.text, t=t))
