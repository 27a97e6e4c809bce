"""The Slack adapter: the ``/digest`` slash command, its buttons, mentions and the App Home.

A thin translation layer (bolt-python's own adapters are the model): each Slack request becomes
one :class:`~bot.ports.CommandRequest` for the shared :class:`~bot.ports.CommandHandler`, and
the :class:`~bot.ports.Reply` is rendered back as Block Kit (the pure translation both ways is
:mod:`bot.slack_blocks`). Every handler acks first and does
the slow work afterwards, as Slack drops a request that is not acked within 3 seconds.

Two ways to receive requests: Socket Mode when ``SLACK_APP_TOKEN`` is set (no public URL
needed), otherwise the Events API and slash commands over HTTP at ``/slack/events`` on
``PORT``, verified with ``SLACK_SIGNING_SECRET``.

Two ways to be installed (:mod:`bot.slack_settings`): one workspace with ``SLACK_BOT_TOKEN``,
chats keyed by channel id as always; or OAuth (:mod:`bot.slack_oauth`), where the same HTTP
server also serves ``/slack/install`` and ``/slack/oauth_redirect``, every request is answered
with its workspace's token, chats are keyed by workspace and channel
(:mod:`bot.slack_workspaces`), and ``app_uninstalled``/``tokens_revoked`` stop that workspace.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages as msg
from bot.errors import SlackConfigError
from bot.i18n import translator
from bot.ports import ChatRef, CommandHandler, CommandRequest, Reply
from bot.settings import Settings
from bot.slack_app import build_bolt
from bot.slack_blocks import (
    CHOICE_ACTION,
    build_request,
    home_view,
    is_direct_message,
    reply_messages,
)
from bot.slack_members import SlackMembers
from bot.slack_oauth import InstallationStore, SlackInstallations
from bot.slack_sender import SlackSender
from bot.slack_settings import check_settings
from bot.slack_workspaces import ChannelCommands, qualify, workspace_key

log = logging.getLogger(__name__)

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
SLASH_COMMAND = msg.SLACK_SLASH_COMMAND  # the replies (bot.messages.SLACK) spell it too
# The "Read the piece" link buttons on cards (digests.render.slack) also send an interaction
# payload; it must be acked or Slack shows the user a warning next to the button.
CARD_LINK_ACTION = re.compile(r"^open_card_\d+$")

SHUTDOWN_GRACE = 10.0  # seconds stop() waits for replies still being worked on


# --- the adapter ------------------------------------------------------------------------------

Respond = Callable[..., Awaitable[Any]]


class SlackAdapter:
    """:class:`bot.ports.ChatAdapter` for Slack (build it with :func:`build_slack_adapter`)."""

    platform = PLATFORM

    def __init__(
        self,
        *,
        bolt: AsyncApp,
        client: AsyncWebClient,
        sender: SlackSender,
        commands: CommandHandler,
        app_token: str | None = None,
        host: str = "0.0.0.0",
        port: int = 3000,
        installations: SlackInstallations | None = None,
        channel_commands: ChannelCommands = "everyone",
    ) -> None:
        self.bolt = bolt
        self.client = client
        self.sender = sender
        self._commands = commands
        self._app_token = app_token
        self._host = host
        self._port = port
        # OAuth mode: chats are qualified by workspace, uninstalls stop a workspace.
        self.installations = installations
        self._channel_commands = channel_commands
        self._members = SlackMembers()
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._inflight: set[asyncio.Task[Any]] = set()
        # (workspace, user id) -> the bot's DM channel with them
        self._dm_channels: dict[tuple[str, str], str] = {}
        self._register()

    @property
    def mode(self) -> str:
        return "socket" if self._app_token else "http"

    @property
    def port(self) -> int:
        """The HTTP port actually bound (``PORT=0`` picks a free one)."""
        if self._runner is not None and self._runner.addresses:
            return int(self._runner.addresses[0][1])
        return self._port

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        if self._app_token:
            self._socket = AsyncSocketModeHandler(
                self.bolt, app_token=self._app_token, web_client=self.client
            )
            try:
                await self._socket.connect_async()
            except BaseException:
                await self._socket.close_async()
                self._socket = None
                raise
            log.info("slack: connected with Socket Mode")
        web_app = web.Application()
        if not self._app_token:
            web_app.router.add_post(EVENTS_PATH, self._http_request)
        flow = self.bolt.oauth_flow
        if flow is not None:  # the install pages need HTTP even with Socket Mode
            web_app.router.add_get(flow.install_path, self._install_page)
            web_app.router.add_get(flow.redirect_uri_path, self._oauth_redirect)
        if not web_app.router.routes():
            return
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self._host, self._port).start()
        except BaseException:
            await self.stop()
            raise
        paths = [r.resource.canonical for r in web_app.router.routes() if r.resource]
        log.info("slack: serving %s on %s:%s", ", ".join(paths), self._host, self.port)

    async def stop(self) -> None:
        """Stop taking requests, and let replies to requests already acked reach the user."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        # Over Socket Mode the ack of an envelope travels on the socket after the listener
        # acked, so the socket stays open until the work in flight is done.
        await self._finish_inflight()
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None

    async def _finish_inflight(self) -> None:
        if self._inflight:
            _, late = await asyncio.wait(set(self._inflight), timeout=SHUTDOWN_GRACE)
            if late:
                log.warning("slack: %d reply(ies) still running at shutdown", len(late))

    async def __aenter__(self) -> SlackAdapter:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _http_request(self, request: web.Request) -> web.Response:
        bolt_response = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def _install_page(self, request: web.Request) -> web.Response:
        assert self.bolt.oauth_flow is not None
        bolt_response = await self.bolt.oauth_flow.handle_installation(
            await to_bolt_request(request)
        )
        return await to_aiohttp_response(bolt_response)

    async def _oauth_redirect(self, request: web.Request) -> web.Response:
        assert self.bolt.oauth_flow is not None
        bolt_response = await self.bolt.oauth_flow.handle_callback(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    # --- listeners --------------------------------------------------------------------------

    def _register(self) -> None:
        self.bolt.command(SLASH_COMMAND)(self._on_slash_command)
        self.bolt.action(CHOICE_ACTION)(self._on_choice)
        self.bolt.action(CARD_LINK_ACTION)(self._on_card_link)
        self.bolt.event("app_mention")(self._on_mention)
        self.bolt.event("app_home_opened")(self._on_home_opened)
        self.bolt.event("app_uninstalled")(self._on_uninstalled)
        self.bolt.event("tokens_revoked")(self._on_tokens_revoked)

    def _workspace(self, context: Any) -> str:
        """The workspace a request came from: what OAuth-mode chat ids are qualified by."""
        key = workspace_key(
            context.get("enterprise_id"),
            context.get("team_id"),
            context.get("is_enterprise_install"),
        )
        return key or ""

    def _chat(self, context: Any, channel_id: str) -> ChatRef:
        workspace = self._workspace(context) if self.installations is not None else None
        return ChatRef(PLATFORM, qualify(workspace, channel_id))

    async def _on_slash_command(
        self,
        ack: Callable[[], Awaitable[None]],
        body: dict[str, Any],
        respond: Respond,
        context: Any,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        await self._tracked(
            self._answer(
                text=body.get("text", ""),
                channel_id=body["channel_id"],
                channel_name=body.get("channel_name"),
                user_id=body["user_id"],
                respond=respond,
                context=context,
                client=client,
            )
        )

    async def _on_choice(
        self,
        ack: Callable[[], Awaitable[None]],
        body: dict[str, Any],
        respond: Respond,
        context: Any,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        action = body["actions"][0]
        channel = body.get("channel") or {}
        await self._tracked(
            self._answer(
                text=action.get("value", ""),
                channel_id=channel.get("id", ""),
                channel_name=channel.get("name"),
                user_id=body["user"]["id"],
                respond=respond,
                context=context,
                client=client,
            )
        )

    async def _on_card_link(self, ack: Callable[[], Awaitable[None]]) -> None:
        await ack()

    async def _on_mention(
        self, event: dict[str, Any], context: Any, client: AsyncWebClient
    ) -> None:
        channel_id, user_id = event["channel"], event.get("user")
        chat = self._chat(context, channel_id)
        language = await self._language(client, context, user_id)
        request = CommandRequest(
            chat,
            "help",
            user_id=user_id,
            is_group=not is_direct_message(channel_id),
            language=language,
        )
        reply = await self._handle(request)
        for message in reply_messages(reply, limit=1, t=translator(language)):
            if user_id:
                await client.chat_postEphemeral(
                    channel=channel_id, user=user_id, text=message.text, blocks=message.blocks
                )

    async def _on_home_opened(
        self, event: dict[str, Any], context: Any, client: AsyncWebClient
    ) -> None:
        if event.get("tab", "home") != "home":
            return
        user_id = event["user"]
        channel_id = event.get("channel") or await self._dm_channel(client, context, user_id, "")
        language = await self._language(client, context, user_id)
        chat = self._chat(context, channel_id)
        request = CommandRequest(chat, "list", user_id=user_id, language=language)
        reply = await self._handle(request)
        await client.views_publish(user_id=user_id, view=home_view(reply, t=translator(language)))

    async def _on_uninstalled(self, context: Any) -> None:
        await self._stop_workspace(context, "app uninstalled")

    async def _on_tokens_revoked(self, event: dict[str, Any], context: Any) -> None:
        # Only the bot token matters: digestbot asks for no user tokens.
        if (event.get("tokens") or {}).get("bot"):
            await self._stop_workspace(context, "bot token revoked")

    async def _stop_workspace(self, context: Any, why: str) -> None:
        if self.installations is None:
            log.error("slack: %s: SLACK_BOT_TOKEN no longer works; install the app again", why)
            return
        workspace = self._workspace(context)
        if workspace:
            await self.installations.uninstall(workspace, why)

    # --- the one path every command takes ---------------------------------------------------

    async def _answer(
        self,
        *,
        text: str,
        channel_id: str,
        channel_name: str | None,
        user_id: str,
        respond: Respond,
        context: Any,
        client: AsyncWebClient,
    ) -> None:
        # A subscription belongs to the channel the command came from; from a DM it belongs to
        # the bot's own DM with the user (the only DM the bot can post digests to).
        direct = not channel_id or is_direct_message(channel_id, channel_name)
        if direct:
            channel_id = await self._dm_channel(client, context, user_id, channel_id)
        chat = self._chat(context, channel_id)
        title = None if direct or not channel_name else f"#{channel_name}"
        request = build_request(text, chat, user_id=user_id, is_group=not direct, title=title)
        language = await self._language(client, context, user_id)
        request = replace(request, language=language)
        t = translator(language)
        if await self._allowed(request, client, context, channel_id):
            reply = await self._handle(request)
        else:
            reply = Reply(msg.channel_admins_only(msg.SLACK, t=t))
        for message in reply_messages(reply, t=t):
            response = await respond(
                text=message.text,
                blocks=message.blocks,
                response_type="ephemeral",
                replace_original=False,
            )
            status = getattr(response, "status_code", 200)
            if status != 200:
                log.warning("slack: response_url answered HTTP %s", status)

    async def _handle(self, request: CommandRequest) -> Reply:
        try:
            return await self._commands.handle(request)
        except Exception:
            log.exception("slack: command %r failed in %s", request.name, request.chat.chat_id)
            return Reply(translator(request.language).gettext(msg.COMMAND_FAILED))

    async def _language(
        self, client: AsyncWebClient, context: Any, user_id: str | None
    ) -> str | None:
        """The member's Slack locale: the core answers in it unless the chat chose another."""
        if not user_id:
            return None
        return await self._members.locale(client, self._workspace(context), user_id)

    async def _allowed(
        self, request: CommandRequest, client: AsyncWebClient, context: Any, channel_id: str
    ) -> bool:
        """``DIGESTBOT_SLACK_CHANNEL_COMMANDS``: who may change a channel's subscription."""
        return await self._members.may_run(
            self._channel_commands, request, client, self._workspace(context), channel_id
        )

    async def _dm_channel(
        self, client: AsyncWebClient, context: Any, user_id: str, fallback: str
    ) -> str:
        key = (self._workspace(context), user_id)
        if key in self._dm_channels:
            return self._dm_channels[key]
        try:
            response = await client.conversations_open(users=user_id)
        except SlackApiError as exc:
            # Without the im:write scope the command still works for the channel it came from.
            log.warning("slack: conversations.open failed (%s)", exc.response.get("error"))
            return fallback
        channel = str(response["channel"]["id"])
        self._dm_channels[key] = channel
        return channel

    async def _tracked(self, work: Awaitable[None]) -> None:
        """Run ``work`` in the Bolt listener task and let :meth:`stop` wait for it."""
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            await work
        finally:
            if task is not None:
                self._inflight.discard(task)


# --- wiring -----------------------------------------------------------------------------------


def build_slack_adapter(
    settings: Settings,
    commands: CommandHandler,
    *,
    host: str = "0.0.0.0",
    store: InstallationStore | None = None,
) -> SlackAdapter:
    """The Slack adapter and its sender, from settings; fails fast on an unusable combination.

    Nothing talks to Slack here: Bolt checks the token with ``auth.test`` (at
    ``SLACK_API_URL``) on the first request it handles, not at construction. OAuth mode
    (``SLACK_CLIENT_ID`` ...) keeps its installations in ``store``.
    """
    parts = build_bolt(settings, store)
    return SlackAdapter(
        bolt=parts.bolt,
        client=parts.client,
        sender=parts.sender,
        commands=commands,
        app_token=parts.app_token,
        host=host,
        port=settings.port,
        installations=parts.installations,
        channel_commands=settings.slack_channel_commands,
    )


__all__ = [
    "SlackAdapter",
    "SlackConfigError",
    "build_request",
    "build_slack_adapter",
    "check_settings",
    "home_view",
    "is_direct_message",
    "reply_messages",
]
