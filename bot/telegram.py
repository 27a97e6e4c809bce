"""The Telegram adapter: python-telegram-bot updates in, :class:`bot.ports.Reply` out.

It is thin on purpose: a command message or a button press becomes one
:class:`~bot.ports.CommandRequest` for the shared :class:`~bot.ports.CommandHandler`, and the
:class:`~bot.ports.Reply` is rendered back (text escaped for HTML, choices as an inline
keyboard, cards through :mod:`digests.render.telegram`). Subscribing, topics and settings live
in the core, once for every platform.

The request says who speaks and where: the chat (a forum topic's ``message_thread_id`` as
``ChatRef.thread``), whether it is a group or a channel, whether the chat itself speaks (a
channel post, an anonymous admin), the user's ``language_code``, and ``TelegramChats``
(``getChatMember``/``getChat``, cached) for the core's admin checks. A ``my_chat_member``
update removing the bot ends the chat's subscriptions.

Updates arrive by long polling, or by webhook when ``TELEGRAM_WEBHOOK_URL`` is set (then a
secret token is required and PTB checks it on every request). The token never reaches a log
line: see :mod:`bot.telegram_redaction`.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from telegram import BotCommand, Chat, ChatMember, Message, Update
from telegram.error import BadRequest, InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.ext import CommandHandler as PTBCommandHandler

from bot import messages as msg
from bot.commands import parse_command_line
from bot.errors import TelegramSetupError
from bot.i18n import LANGUAGES, translator
from bot.ports import ChatRef, CommandHandler, CommandRequest, Reply, Sent
from bot.settings import Settings
from bot.telegram_chats import TelegramChats
from bot.telegram_files import IMPORT_CAPTION, attachment_of, send_document
from bot.telegram_markup import command_name, escape, keyboard, short_answer, split_text
from bot.telegram_redaction import install_token_redaction, redact_token
from bot.telegram_sender import TelegramSender
from bot.telegram_webhook import WebhookConfig, make_request, webhook_config

__all__ = [
    "COMMANDS",
    "TelegramAdapter",
    "TelegramSetupError",
    "build_telegram_adapter",
    "chat_ref",
    "command_name",
    "split_text",
]

log = logging.getLogger(__name__)

PLATFORM = "telegram"

COMMANDS = msg.TELEGRAM_COMMAND_MENU  # the command menu (``setMyCommands``), in its order
POLL_TIMEOUT = timedelta(seconds=10)
CONNECTION_POOL_SIZE = 128  # replies and concurrent digest sends share one pool
CONCURRENT_UPDATES = 8
# The shape of a bot token (``123456789:AA...``): the bot's id, a colon, the secret part.
_BOT_TOKEN_SHAPE = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{1,100}")
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CHANNEL_POST,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
]
_GONE_STATUSES = (ChatMember.LEFT, ChatMember.BANNED)


# --- pure translation helpers --------------------------------------------------------------


def chat_ref(chat: Chat, message: Message | None = None) -> ChatRef:
    """A group's subscription belongs to the group, a private chat's to the user; one made in
    a forum topic belongs to that topic (``message_thread_id``)."""
    thread = ""
    if message is not None and message.is_topic_message and message.message_thread_id:
        thread = str(message.message_thread_id)
    return ChatRef(PLATFORM, str(chat.id), thread)


def is_group(chat: Chat) -> bool:
    return chat.type in (Chat.GROUP, Chat.SUPERGROUP)


def is_shared(chat: Chat) -> bool:
    """Many people read it: a group, a supergroup or a channel."""
    return is_group(chat) or chat.type == Chat.CHANNEL


def sender_is_chat(message: Message) -> bool:
    """The chat itself speaks: a channel post, or an anonymous admin writing as the group.
    (A channel's post forwarded into its discussion group names the channel, not the group.)"""
    return message.sender_chat is not None and message.sender_chat.id == message.chat.id


# --- the adapter ---------------------------------------------------------------------------


class TelegramAdapter:
    """:class:`bot.ports.ChatAdapter` for Telegram. Build it with
    :func:`build_telegram_adapter`; the worker calls :meth:`start` and :meth:`stop`."""

    platform = PLATFORM

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        commands: CommandHandler,
        *,
        webhook: WebhookConfig | None = None,
        poll_timeout: timedelta = POLL_TIMEOUT,
        user_feeds: bool = False,
    ) -> None:
        self.application = application
        self.user_feeds = user_feeds  # the feed commands in the menu
        self.sender = TelegramSender(application.bot)
        self.chats = TelegramChats(application.bot)
        self._commands = commands
        self._webhook = webhook
        self._poll_timeout = poll_timeout
        # The feed commands always answer (when chats may not add feeds: saying so).
        names = [name for name, _ in (*COMMANDS, *msg.USER_FEEDS_MENU)]
        # An edited command is not a second command; a channel's own post is a command.
        only_new = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
        application.add_handler(PTBCommandHandler(names, self._on_command, filters=only_new))
        application.add_handler(MessageHandler(IMPORT_CAPTION & only_new, self._on_import_file))
        application.add_handler(MessageHandler(filters.COMMAND & only_new, self._on_other))
        application.add_handler(CallbackQueryHandler(self._on_button))
        application.add_handler(
            ChatMemberHandler(self._on_membership, ChatMemberHandler.MY_CHAT_MEMBER)
        )
        application.add_error_handler(self._on_error)

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        install_token_redaction()
        app = self.application
        try:
            await app.initialize()
        except InvalidToken as exc:
            await self._shutdown()
            # PTB's own message quotes the whole token; the server's answer (the cause) does not.
            cause = exc.__cause__
            answer = cause.message if isinstance(cause, TelegramError) else "rejected"
            answer = redact_token(answer, app.bot.token)
            raise TelegramSetupError(
                f"Telegram refused TELEGRAM_BOT_TOKEN ({answer}): check the token with @BotFather."
            ) from None
        try:
            await self._register_commands()
            updater = app.updater
            assert updater is not None  # built with an updater, see build_telegram_adapter
            if self._webhook is None:
                await updater.start_polling(
                    timeout=self._poll_timeout, allowed_updates=ALLOWED_UPDATES
                )
            else:
                await updater.start_webhook(
                    listen=self._webhook.listen,
                    port=self._webhook.port,
                    url_path=self._webhook.path,
                    webhook_url=self._webhook.url,
                    secret_token=self._webhook.secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
            await app.start()
        except BaseException:
            await self._shutdown()
            raise
        log.info(
            "telegram: @%s receiving updates by %s",
            app.bot.username,
            "webhook" if self._webhook else "long polling",
        )

    async def stop(self) -> None:
        await self._shutdown()

    # Several workers (bot.workers.UpdateLeader): long polling has one consumer per token.
    @property
    def exclusive_updates(self) -> bool:
        return self._webhook is None

    async def pause_updates(self) -> None:
        if self.application.updater is not None and self.application.updater.running:
            await self.application.updater.stop()

    async def resume_updates(self) -> None:
        updater = self.application.updater
        if updater is not None and not updater.running:
            await updater.start_polling(timeout=self._poll_timeout, allowed_updates=ALLOWED_UPDATES)

    async def _shutdown(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()  # waits for updates being handled
        await app.shutdown()
        # The sender may have initialised the bot on its own (delivery without start()).
        await app.bot.shutdown()

    async def _register_commands(self) -> None:
        """The command menu in English for everyone, and in each catalog's language for the
        users whose Telegram is set to it."""
        bot = self.application.bot
        try:
            for language in LANGUAGES:
                menu = msg.telegram_command_menu(t=translator(language), user_feeds=self.user_feeds)
                code = None if language == "en" else language
                await bot.set_my_commands([BotCommand(n, d) for n, d in menu], language_code=code)
        except TelegramError as exc:  # the menu is a nicety: the commands work without it
            log.warning("telegram: could not register the command menu: %s", exc)

    # --- updates --------------------------------------------------------------------------

    def _request(
        self, update: Update, name: str, args: Sequence[str], message: Message | None
    ) -> CommandRequest | None:
        chat = update.effective_chat
        if chat is None:
            return None
        user = update.effective_user
        message = update.effective_message
        return CommandRequest(
            chat=chat_ref(chat, message),
            name=name,
            args=tuple(args),
            user_id=str(user.id) if user else None,
            is_group=is_group(chat),
            chat_title=chat.title if is_shared(chat) else None,
            is_channel=chat.type == Chat.CHANNEL,
            sender_is_chat=message is not None and sender_is_chat(message),
            language=user.language_code if user else None,
            chats=self.chats,
            sent_at=message.date if message is not None else None,
            attachment=attachment_of(message, self.application.bot),
            files=True,
            progress=self._progress(chat.id, chat_ref(chat, message).thread),
        )

    def _progress(self, chat_id: int, thread: str) -> Callable[[str], Awaitable[None]]:
        """A message sent at once, before the reply (an import's "Checking 12 feeds...")."""

        async def send(text: str) -> None:
            await self.send_reply(chat_id, Reply(text), thread=thread)

        return send

    async def _on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        name = command_name(message.text, context.bot.username)
        request = self._request(update, name or "help", context.args or (), message)
        if request is not None:
            await self._answer(request)

    async def _on_import_file(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An OPML document sent with ``/import`` as its caption."""
        message = update.effective_message
        if message is None or message.caption is None:
            return
        if command_name(message.caption, context.bot.username) != "import":
            return  # addressed to another bot
        request = self._request(update, "import", message.caption.split()[1:], message)
        if request is not None:
            await self._answer(request)

    async def _on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command we do not know: the core answers with a hint towards /help. In a group
        only when it names this bot: ``/stats`` there is likely another bot's command."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        name = command_name(message.text, context.bot.username)
        addressed = "@" in message.text.split(maxsplit=1)[0]
        if name is None or (is_shared(message.chat) and not addressed):
            return
        request = self._request(update, name, message.text.split()[1:], message)
        if request is not None:
            await self._answer(request)

    async def _answer(self, request: CommandRequest) -> None:
        reply = await self._commands.handle(request)
        await self.send_reply(int(request.chat.chat_id), reply, thread=request.chat.thread)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        message = query.message if isinstance(query.message, Message) else None
        base = self._request(update, "help", (), message)
        request = None
        if base is not None:
            request = parse_command_line(
                query.data or "",
                base.chat,
                user_id=base.user_id,
                is_group=base.is_group,
                chat_title=base.chat_title,
                is_channel=base.is_channel,
                language=base.language,
                chats=base.chats,
            )
        if request is None:
            t = translator(base.language if base else None)
            await query.answer(msg.stale_button(msg.TELEGRAM, t=t))
            return
        reply = await self._commands.handle(request)
        await query.answer(short_answer(reply.text) or None)
        if message is not None and await self._edit(message, reply):
            await self._send_cards(message.chat_id, reply, request.chat.thread)
            return
        await self.send_reply(int(request.chat.chat_id), reply, thread=request.chat.thread)

    async def _on_membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The bot was removed from a chat (a channel's admins took it out, a group kicked
        it): that chat's subscriptions end, as a blocked chat's do."""
        change = update.my_chat_member
        if change is None or change.new_chat_member.status not in _GONE_STATUSES:
            return
        reason = f"the bot was removed from the chat ({change.new_chat_member.status})"
        await self._commands.chat_removed(PLATFORM, str(change.chat.id), reason)
        log.info("telegram: removed from chat %s: its subscriptions end", change.chat.id)

    async def _edit(self, message: Message, reply: Reply) -> bool:
        """Show the reply in place of the message whose button was pressed, keeping the
        keyboard the reply offers. False when it cannot be (too long, too old)."""
        pieces = split_text(reply.text)
        if len(pieces) != 1:
            return False
        try:
            await message.edit_text(
                escape(pieces[0]), parse_mode="HTML", reply_markup=keyboard(reply.choices)
            )
        except BadRequest as exc:
            if "not modified" in exc.message.lower():  # the same button pressed twice
                return True
            log.info("telegram: could not edit message %s: %s", message.message_id, exc)
            return False
        return True

    async def send_reply(self, chat_id: int, reply: Reply, *, thread: str = "") -> None:
        """The reply's text (escaped; split if long; the keyboard under its last part), then
        its cards as digest messages; into the forum topic ``thread`` when there is one."""
        pieces = split_text(reply.text)
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            await self.application.bot.send_message(
                chat_id,
                escape(piece),
                parse_mode="HTML",
                reply_markup=keyboard(reply.choices) if last else None,
                message_thread_id=int(thread) if thread else None,
            )
        if reply.document is not None:
            await send_document(self.application.bot, chat_id, reply.document, thread)
        await self._send_cards(chat_id, reply, thread)

    async def _send_cards(self, chat_id: int, reply: Reply, thread: str = "") -> None:
        if not reply.cards:
            return
        for outgoing in self.sender.render(reply.cards):
            sent = await self.sender.send(str(chat_id), replace(outgoing, thread=thread))
            if not isinstance(sent, Sent):
                log.warning("telegram: digest reply to %s not delivered: %s", chat_id, sent)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Logs (the token redacted by the filter) and tells the user; never raises."""
        log.error(
            "telegram: update %s failed: %s",
            update.update_id if isinstance(update, Update) else "-",
            redact_token(repr(context.error)),
            exc_info=context.error,
        )
        if isinstance(update, Update) and update.effective_chat is not None:
            user = update.effective_user
            sorry = translator(user.language_code if user else None).gettext(msg.COMMAND_FAILED)
            message = update.effective_message
            thread = message.message_thread_id if message and message.is_topic_message else None
            try:
                await context.bot.send_message(
                    update.effective_chat.id, sorry, message_thread_id=thread
                )
            except TelegramError as exc:
                log.warning("telegram: could not tell chat about the failure: %s", exc)
            if update.callback_query is not None:
                with contextlib.suppress(TelegramError):
                    await update.callback_query.answer()


# --- wiring --------------------------------------------------------------------------------


def build_telegram_adapter(settings: Settings, commands: CommandHandler) -> TelegramAdapter:
    """The adapter for ``settings`` (token, API URL, webhook), answering through ``commands``."""
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        raise TelegramSetupError("TELEGRAM_BOT_TOKEN is not set: get one from @BotFather.")
    if not _BOT_TOKEN_SHAPE.fullmatch(settings.telegram_bot_token.get_secret_value()):
        # Never echo it: a mistyped token is still most of a secret.
        raise TelegramSetupError(
            "TELEGRAM_BOT_TOKEN is not a bot token (digits, a colon, then letters, digits, _ "
            "and -, like 123456789:AA...): copy it again from @BotFather."
        )
    webhook = webhook_config(settings)
    # Also for `run --once`, which delivers without start(); the exact token too, as a short
    # or malformed one escapes the token pattern.
    install_token_redaction(settings.telegram_bot_token.get_secret_value())
    base_url = settings.telegram_base_url
    file_url = re.sub(r"/bot$", "/file/bot", base_url)
    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(base_url)
        .base_file_url(file_url)
        .request(make_request(CONNECTION_POOL_SIZE))
        # PTB adds the long-poll timeout to this request's read timeout for getUpdates.
        .get_updates_request(make_request(1))
        .concurrent_updates(CONCURRENT_UPDATES)
        .job_queue(None)
        .build()
    )
    return TelegramAdapter(
        application, commands, webhook=webhook, user_feeds=settings.users_may_add_feeds
    )
