"""A fake Slack Web API on 127.0.0.1 for driving the real slack_sdk / slack-bolt clients.

It answers the methods digestbot uses the way Slack does (``{"ok": true, ...}`` or
``{"ok": false, "error": ...}``, HTTP 429 with ``Retry-After``), records every call, and holds
Block Kit to Slack's documented limits so that a test asserting on what was *received* also
learns whether Slack would have accepted it. Answers can be scripted per method and channel::

    async with FakeSlackApi() as api:
        api.script("chat.postMessage", "C1", RateLimited(2), Error("channel_not_found"))
        client = AsyncWebClient(token="xoxb-test", base_url=api.base_url)

Slash-command and interaction payloads carry a ``response_url``: :meth:`response_url` gives one
on this server, and the posts to it land in :attr:`FakeSlackApi.responses`.

For the OAuth install flow, :meth:`FakeSlackApi.add_workspace` makes a workspace that a code
installs in: ``oauth.v2.access`` (client id and secret as HTTP Basic auth, as slack_sdk sends
them) trades the code, once, for a bot token of that workspace; ``auth.test`` answers per token;
:meth:`FakeSlackApi.revoke` makes a workspace's tokens answer ``token_revoked`` everywhere, as
Slack does once the app is uninstalled. ``users.info`` and ``conversations.info`` answer from
:attr:`FakeSlackApi.users` and :attr:`FakeSlackApi.channel_creators`.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
TEAM_ID = "T0TEAM"

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_TEXT = 40000


@dataclass(frozen=True)
class Error:
    """``HTTP 200 {"ok": false, "error": code}``, as Slack reports API errors."""

    code: str


@dataclass(frozen=True)
class RateLimited:
    """``HTTP 429`` with ``Retry-After``, as Slack answers a method called too often."""

    retry_after: int


@dataclass(frozen=True)
class Status:
    """A bare HTTP status (a 5xx from Slack's edge)."""

    status: int
    body: str = "upstream connect error"


Scripted = Error | RateLimited | Status


@dataclass
class Workspace:
    team_id: str
    name: str
    bot_token: str
    bot_user_id: str
    enterprise_id: str | None = None
    installer: str = "U0INSTALLER"
    revoked: bool = False


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    answered: str  # "ok" or the error code / HTTP status it got


@dataclass
class FakeSlackApi:
    host: str = "127.0.0.1"
    calls: list[Call] = field(default_factory=list)
    responses: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    home_views: dict[str, dict[str, Any]] = field(default_factory=dict)
    dm_channels: dict[str, str] = field(default_factory=dict)  # user id -> the bot's DM with them
    client_id: str = "1111.2222"
    client_secret: str = "fake-client-secret"
    workspaces: dict[str, Workspace] = field(default_factory=dict)  # by team id
    codes: dict[str, str] = field(default_factory=dict)  # OAuth code -> team id (used once)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> users.info user
    channel_creators: dict[str, str] = field(default_factory=dict)  # channel id -> user id

    def __post_init__(self) -> None:
        self._scripts: dict[tuple[str, str | None], deque[Scripted]] = defaultdict(deque)
        self._ts = 1_700_000_000
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.socket_acks: list[dict[str, Any]] = []
        self._sockets: list[web.WebSocketResponse] = []

    # --- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> FakeSlackApi:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack_sdk GETs users.info and others
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/api/"

    def response_url(self, name: str) -> str:
        return f"http://{self.host}:{self.port}/response/{name}"

    # --- scripting and inspection -------------------------------------------------------

    def script(self, method: str, channel: str | None, *answers: Scripted) -> None:
        """Queue answers for ``method`` (to ``channel``, or to any channel when ``None``)."""
        self._scripts[(method, channel)].extend(answers)

    def calls_to(self, method: str, channel: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and (channel is None or c.params.get("channel") == channel)
        ]

    def add_workspace(self, team_id: str, name: str, code: str) -> Workspace:
        """A workspace the app can be installed in with ``code`` (Slack's redirect gives it)."""
        token = f"xoxb-{team_id.lower()}-{len(self.workspaces) + 1}-s3cr3t{team_id[-3:].lower()}"
        workspace = Workspace(team_id, name, token, f"U0BOT{team_id[-3:]}")
        self.workspaces[team_id] = workspace
        self.codes[code] = team_id
        return workspace

    def revoke(self, team_id: str) -> None:
        """The app is gone from the workspace: its token answers ``token_revoked``."""
        self.workspaces[team_id].revoked = True

    def tokens_used(self, method: str, channel: str | None = None) -> list[str]:
        """The bearer token of each call to ``method`` (to ``channel``)."""
        return [
            c.headers.get("Authorization", "").removeprefix("Bearer ")
            for c in self.calls_to(method, channel)
        ]

    def delivered(self, channel: str) -> list[dict[str, Any]]:
        """The ``chat.postMessage`` payloads Slack accepted for ``channel``."""
        return [c.params for c in self.calls_to("chat.postMessage", channel) if c.answered == "ok"]

    async def wait_for(self, condition: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until ``condition()`` holds after some call arrived (replies follow the ack)."""
        async with asyncio.timeout(within):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    async def socket_send(self, envelope: dict[str, Any]) -> None:
        """Push a Socket Mode envelope to every connected client (wait for one first)."""
        await self.wait_for(lambda: bool(self._sockets))
        for ws in self._sockets:
            await ws.send_json(envelope)

    # --- handlers -----------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1})
        self._sockets.append(ws)
        self._changed.set()
        try:
            async for message in ws:
                data = json.loads(message.data)
                if "envelope_id" in data:
                    self.socket_acks.append(data)
                    self._changed.set()
        finally:
            self._sockets.remove(ws)
        return ws

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _read_params(request)
        headers = dict(request.headers)
        answer = self._answer(method, params, headers)
        params.pop("_workspace", None)
        self.calls.append(Call(method, params, headers, _answered(answer)))
        self._changed.set()
        if isinstance(answer, RateLimited):
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(answer.retry_after)},
            )
        if isinstance(answer, Status):
            return web.Response(status=answer.status, text=answer.body)
        return web.json_response(answer)

    async def _response_url(self, request: web.Request) -> web.Response:
        self.responses[request.match_info["name"]].append(await request.json())
        self._changed.set()
        return web.json_response({"ok": True})

    def _answer(
        self, method: str, params: dict[str, Any], headers: dict[str, str]
    ) -> dict[str, Any] | RateLimited | Status:
        if method == "oauth.v2.access":
            return self._oauth_v2_access(params, headers)
        token_kind = "xapp-" if method == "apps.connections.open" else "xoxb-"
        authorization = headers.get("Authorization", "")
        if not authorization.startswith("Bearer " + token_kind):
            return {"ok": False, "error": "not_authed"}
        workspace = self._workspace_of(authorization.removeprefix("Bearer "))
        if workspace is not None and workspace.revoked:
            return {"ok": False, "error": "token_revoked"}
        params["_workspace"] = workspace
        channel = params.get("channel")
        for key in ((method, channel), (method, None)):
            queue = self._scripts.get(key)
            if queue:
                scripted = queue.popleft()
                if isinstance(scripted, Error):
                    return {"ok": False, "error": scripted.code}
                return scripted
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        result: dict[str, Any] = handler(params)
        return result

    def _workspace_of(self, token: str) -> Workspace | None:
        return next((w for w in self.workspaces.values() if w.bot_token == token), None)

    def _oauth_v2_access(self, params: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if headers.get("Authorization") != f"Basic {expected}":
            return {"ok": False, "error": "invalid_client_id"}
        team_id = self.codes.pop(str(params.get("code")), None)
        if team_id is None:
            return {"ok": False, "error": "invalid_code"}
        workspace = self.workspaces[team_id]
        workspace.revoked = False
        return {
            "ok": True,
            "access_token": workspace.bot_token,
            "token_type": "bot",
            "scope": "commands,chat:write,chat:write.public,app_mentions:read,im:write",
            "bot_user_id": workspace.bot_user_id,
            "app_id": "A0DIGEST",
            "team": {"id": workspace.team_id, "name": workspace.name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": workspace.installer},
        }

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        # Slack leaves the locale out unless asked for it
        wanted = str(params.get("include_locale", "")).lower() in ("1", "true")
        shown = {k: v for k, v in user.items() if k != "locale" or wanted}
        return {"ok": True, "user": {"id": params["user"], **shown}}

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel"))
        creator = self.channel_creators.get(channel)
        if creator is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": channel, "creator": creator}}

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        workspace: Workspace | None = params.get("_workspace")
        if workspace is not None:
            return {
                "ok": True,
                "url": f"https://{workspace.name.lower()}.slack.test/",
                "team": workspace.name,
                "user": "digestbot",
                "team_id": workspace.team_id,
                "user_id": workspace.bot_user_id,
                "bot_id": "B" + workspace.bot_user_id[1:],
                "is_enterprise_install": False,
            }
        return {
            "ok": True,
            "url": "https://fake.slack.test/",
            "team": "Fake",
            "user": "digestbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://{self.host}:{self.port}/socket"}

    def _next_ts(self) -> str:
        self._ts += 1
        return f"{self._ts}.000100"

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        problem = block_kit_problem(params)
        if problem:
            return {"ok": False, "error": problem}
        ts = self._next_ts()
        return {"ok": True, "channel": params["channel"], "ts": ts, "message": {"ts": ts}}

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        problem = block_kit_problem(params)
        if problem:
            return {"ok": False, "error": problem}
        return {"ok": True, "message_ts": self._next_ts()}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict) or view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        if len(view.get("blocks", [])) > 100:
            return {"ok": False, "error": "invalid_blocks"}
        self.home_views[params["user_id"]] = view
        return {"ok": True, "view": {"id": "V1", **view}}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("users", ""))
        channel = self.dm_channels.setdefault(user, f"D{user}")
        return {"ok": True, "channel": {"id": channel}}


def block_kit_problem(params: dict[str, Any]) -> str | None:
    """The error Slack gives a message breaking Block Kit's limits, or ``None``."""
    text = params.get("text") or ""
    blocks = params.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if len(text) > MAX_TEXT:
        return "msg_too_long"
    if not blocks:
        return None if text else "no_text"
    if len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        kind = block.get("type")
        if kind == "section" and len(block.get("text", {}).get("text", "")) > MAX_SECTION_TEXT:
            return "invalid_blocks"
        if kind == "header" and len(block["text"]["text"]) > MAX_HEADER_TEXT:
            return "invalid_blocks"
        if kind == "actions":
            ids = [e.get("action_id") for e in block["elements"]]
            if len(ids) != len(set(ids)) or len(ids) > 25:
                return "invalid_blocks"
            if any(len(e["text"]["text"]) > MAX_BUTTON_TEXT for e in block["elements"]):
                return "invalid_blocks"
    return None


def _answered(answer: dict[str, Any] | RateLimited | Status) -> str:
    if isinstance(answer, RateLimited):
        return "429"
    if isinstance(answer, Status):
        return str(answer.status)
    return "ok" if answer.get("ok") else str(answer.get("error"))


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
    else:
        params.update(parse_qsl(await request.text()))
    for key in ("blocks", "view"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params
