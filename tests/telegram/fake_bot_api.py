"""A fake Telegram Bot API server on 127.0.0.1, for tests and the delivery benchmark.

It speaks the Bot API wire format that python-telegram-bot uses: ``POST /bot<token>/<method>``
with a form-encoded (PTB's default: JSON-encoded objects inside form fields), multipart or JSON
body, answered with ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ...,
"description": ..., "parameters": ...}`` exactly as Telegram words them, so that the real PTB
turns them into its real exceptions.

What a test can do with it:

* push updates (``push_command``, ``push_text``, ``push_callback``) that a long-polling
  ``getUpdates`` hands out, or post them to a webhook set with ``setWebhook``;
* read what the bot did (``sent``, ``edits``, ``callback_answers``, ``my_commands`` and
  ``commands_by_language``, ``calls``) and wait for it (``wait_for``);
* play groups with admins (``set_member``, answered by ``getChatMember``; anonymous admins
  with ``push_text(..., anonymous=True)``), channels (``register_chat(id, "channel",
  username=...)`` for ``getChat``, ``push_channel_post``, ``remove_bot``) and forum topics
  (``push_text(..., thread_id=)``, ``open_topic``/``close_topic``/``delete_topic``: a send to a
  closed topic answers ``TOPIC_CLOSED``, to an unknown one ``message thread not found``);
* play files (``push_document``: a user sends a document, with a caption such as ``/import``
  or not; ``getFile`` answers its ``file_path`` and ``GET /file/bot<token>/<file_path>``
  downloads it) and read the documents the bot sent (``documents``, by ``sendDocument``);
* script failures per chat (``fail_next(chat_id, "retry_after")``, ``block(chat_id)``);
* enforce a global rate limit (``global_rate=30``: a 31st ``sendMessage`` within one second
  draws a 429);
* reject HTML that Telegram would reject (unsupported or unbalanced tags).

``FakeBotApiProcess`` runs the same server in a child process (the benchmark does, so that the
server does not share the client's event loop) and exposes its counters at ``GET /_fake/stats``.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import multiprocessing
import re
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web

DEFAULT_TOKEN = "123456789:TEST-fake-token_abcdefghijklmnopqrstu"
BOT_ID = 123456789
MESSAGE_LIMIT = 4096

# Fields PTB sends as JSON text inside a form field.
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "commands",
        "allowed_updates",
        "link_preview_options",
        "entities",
        "scope",
        "reply_parameters",
    }
)
_INT_FIELDS = frozenset(
    {"chat_id", "message_id", "offset", "limit", "timeout", "cache_time", "user_id",
     "message_thread_id"}
)  # fmt: skip
ANONYMOUS_ADMIN_ID = 1087968824  # Telegram's GroupAnonymousBot, the "from" of anonymous admins
_ADMIN_RIGHTS = (
    "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
    "can_manage_video_chats", "can_restrict_members", "can_promote_members", "can_change_info",
    "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories",
)  # fmt: skip
_BOOL_FIELDS = frozenset(
    {"disable_notification", "disable_web_page_preview", "drop_pending_updates", "show_alert"}
)

# Tags Telegram's HTML parse mode accepts (https://core.telegram.org/bots/api#html-style).
_SUPPORTED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)?([^<>]*)>|<|&(#?\w+);")
_NAMED_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})


class HtmlError(ValueError):
    pass


def check_telegram_html(text: str) -> str:
    """The visible text of ``text`` if Telegram's HTML parse mode would accept it.

    Minimal on purpose: tags must be supported and balanced, a bare ``<`` is refused, a named
    entity must be one Telegram knows. Raises :class:`HtmlError` with Telegram's wording.
    """
    stack: list[str] = []
    visible: list[str] = []
    pos = 0
    for match in _TAG.finditer(text):
        visible.append(text[pos : match.start()])
        pos = match.end()
        offset = len(text[: match.start()].encode())
        entity = match.group(4)
        if entity is not None:
            if entity.startswith("#"):
                visible.append(html.unescape(match.group(0)))
                continue
            if entity not in _NAMED_ENTITIES:
                raise HtmlError(f'Unsupported HTML entity "&{entity};" at byte offset {offset}')
            visible.append(html.unescape(match.group(0)))
            continue
        closing, name = match.group(1), match.group(2)
        if name is None:
            raise HtmlError(f"Unsupported start tag at byte offset {offset}")
        name = name.lower()
        if closing:
            if not stack or stack[-1] != name:
                raise HtmlError(f'Unmatched end tag at byte offset {offset}, expected "</{name}>"')
            stack.pop()
        elif name not in _SUPPORTED_TAGS:
            raise HtmlError(f'Unsupported start tag "{name}" at byte offset {offset}')
        else:
            stack.append(name)
    visible.append(text[pos:])
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(visible)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class SentMessage:
    """One message the bot sent (``sendMessage``) or edited (``editMessageText``)."""

    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    params: dict[str, Any]
    at: float

    @property
    def thread(self) -> int | None:
        """The forum topic it went to (``message_thread_id``), None for the chat itself."""
        value = self.params.get("message_thread_id")
        return int(value) if value is not None else None

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """``(label, callback_data)`` of every inline button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


@dataclass(frozen=True)
class SentDocument:
    """One file the bot sent (``sendDocument``)."""

    chat_id: int
    filename: str
    content: bytes
    caption: str | None
    params: dict[str, Any]


FILE_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # bots may download files up to 20 MB
CAPTION_LIMIT = 1024


@dataclass
class _Script:
    kind: str
    times: int
    retry_after: int = 1
    migrate_to: int | None = None
    delay: float = 1.0


class ApiError(Exception):
    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


# Every failure the fake can play, worded as Telegram words it.
FAILURES: dict[str, Callable[[_Script], ApiError]] = {
    "retry_after": lambda s: ApiError(
        429, f"Too Many Requests: retry after {s.retry_after}", {"retry_after": s.retry_after}
    ),
    "blocked": lambda s: ApiError(403, "Forbidden: bot was blocked by the user"),
    "kicked": lambda s: ApiError(403, "Forbidden: bot was kicked from the group chat"),
    "chat_not_found": lambda s: ApiError(400, "Bad Request: chat not found"),
    "parse_error": lambda s: ApiError(
        400, 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0'
    ),
    "bad_request": lambda s: ApiError(400, "Bad Request: message text is empty"),
    "migrated": lambda s: ApiError(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": s.migrate_to},
    ),
    "not_channel_member": lambda s: ApiError(
        403, "Forbidden: bot is not a member of the channel chat"
    ),
    "server_error": lambda s: ApiError(500, "Internal Server Error"),
    "bad_gateway": lambda s: ApiError(502, "Bad Gateway"),
}
NETWORK_FAILURE = "network"  # the connection is dropped without an answer
SLOW = "slow"  # the answer comes after ``delay`` seconds (a client read timeout)


def chat_object(
    chat_id: int,
    chat_type: str | None = None,
    title: str | None = None,
    username: str | None = None,
    is_forum: bool = False,
) -> dict:
    if chat_type is None:
        if chat_id > 0:
            chat_type = "private"
        else:
            chat_type = "supergroup" if str(chat_id).startswith("-100") else "group"
    if chat_type == "private":
        return {"id": chat_id, "type": "private", "first_name": "Alice", "username": "alice"}
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type, "title": title or f"Group {chat_id}"}
    if username:
        chat["username"] = username
    if is_forum:
        chat["is_forum"] = True
    return chat


@dataclass
class _Stats:
    requests: int = 0
    sent: int = 0
    rate_limited: int = 0
    errors: int = 0
    first_sent_at: float | None = None
    last_sent_at: float | None = None


@dataclass
class FakeBotApi:
    """The fake server. ``async with FakeBotApi() as fake:`` then point PTB at ``fake.base_url``."""

    token: str = DEFAULT_TOKEN
    username: str = "digest_test_bot"
    global_rate: float | None = None  # sendMessage per second before a 429, None: unlimited
    record: bool = True  # keep every sent message (the benchmark counts only)
    port: int = 0
    host: str = "127.0.0.1"

    sent: list[SentMessage] = field(default_factory=list)
    edits: list[SentMessage] = field(default_factory=list)
    callback_answers: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    documents: list[SentDocument] = field(default_factory=list)
    my_commands: list[dict[str, Any]] = field(default_factory=list)
    commands_by_language: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    webhook: dict[str, Any] | None = None
    stats: _Stats = field(default_factory=_Stats)

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._callback_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._changed = asyncio.Condition()
        self._scripts: dict[int, deque[_Script]] = {}
        self._blocked: set[int] = set()
        self._chats: dict[int, dict[str, Any]] = {}
        self._members: dict[tuple[int, int], dict[str, Any]] = {}
        self._topics: dict[int, dict[int, str]] = {}  # chat -> thread -> "open" | "closed"
        self._gone: dict[int, str] = {}  # chats the bot was removed from -> failure kind
        self._hidden_members: set[int] = set()
        self._window: deque[float] = deque()
        self._files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self._runner: web.AppRunner | None = None
        self._closing = False

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=2**22)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_get("/_fake/stats", self._handle_stats)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._closing = True
        self._new_update.set()  # a pending long poll answers now instead of at its timeout
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """What PTB's ``base_url`` (and ``TELEGRAM_BASE_URL``) should be."""
        return f"http://{self.host}:{self.port}/bot"

    # --- scripting ------------------------------------------------------------------------

    def fail_next(
        self,
        chat_id: int | str,
        kind: str,
        *,
        times: int = 1,
        retry_after: int = 1,
        migrate_to: int | None = None,
        delay: float = 1.0,
    ) -> None:
        """The next ``times`` sends to ``chat_id`` fail with ``kind`` (a key of ``FAILURES``,
        ``"network"`` or ``"slow"``). A ``parse_error`` only hits sends with a parse mode."""
        if kind not in FAILURES and kind not in (NETWORK_FAILURE, SLOW):
            raise ValueError(f"unknown failure {kind!r}")
        self._scripts.setdefault(int(chat_id), deque()).append(
            _Script(kind, times, retry_after, migrate_to, delay)
        )

    def block(self, chat_id: int | str) -> None:
        """Every further send to ``chat_id`` answers 403 (the user blocked the bot)."""
        self._blocked.add(int(chat_id))

    def register_chat(
        self,
        chat_id: int,
        chat_type: str,
        title: str | None = None,
        *,
        username: str | None = None,
        is_forum: bool = False,
    ) -> None:
        self._chats[chat_id] = chat_object(chat_id, chat_type, title, username, is_forum)

    def set_member(self, chat_id: int, user_id: int, status: str, **rights: bool) -> None:
        """``getChatMember(chat_id, user_id)`` answers ``status`` ("creator", "administrator",
        "member", "left", "kicked"); ``rights`` such as ``can_post_messages=True``. Users not
        set are members, the bot itself too until set."""
        self._members[(chat_id, user_id)] = {"status": status, **rights}

    def hide_members(self, chat_id: int) -> None:
        """``getChatMember`` in ``chat_id`` fails as Telegram's does when the bot may not see
        the member list."""
        self._hidden_members.add(chat_id)

    def open_topic(self, chat_id: int, thread_id: int) -> None:
        self._topics.setdefault(chat_id, {})[thread_id] = "open"

    def close_topic(self, chat_id: int, thread_id: int) -> None:
        self._topics.setdefault(chat_id, {})[thread_id] = "closed"

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        self._topics.get(chat_id, {}).pop(thread_id, None)

    def remove_bot(self, chat_id: int) -> int:
        """The chat's admins remove the bot: sends fail as Telegram's do, and the bot gets the
        ``my_chat_member`` update saying so. Returns the update id."""
        chat = self._chat(chat_id)
        self._gone[chat_id] = "not_channel_member" if chat["type"] == "channel" else "kicked"
        self._members[(chat_id, BOT_ID)] = {"status": "left"}
        return self.push_update(
            {
                "my_chat_member": {
                    "chat": chat,
                    "from": {"id": 7, "is_bot": False, "first_name": "Admin"},
                    "date": int(time.time()),
                    "old_chat_member": self._member_object(chat_id, BOT_ID, "administrator"),
                    "new_chat_member": {"status": "left", "user": self._bot_user()},
                }
            }
        )

    # --- updates --------------------------------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> int:
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._new_update.set()
        return int(update["update_id"])

    def message_object(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        title: str | None = None,
        language_code: str | None = None,
        thread_id: int | None = None,
        anonymous: bool = False,
    ) -> dict[str, Any]:
        chat = self._chat(chat_id, chat_type, title)
        uid = user_id if user_id is not None else (chat_id if chat_id > 0 else 42)
        sender: dict[str, Any] = {
            "id": uid,
            "is_bot": False,
            "first_name": "Alice",
            "username": "alice",
        }
        if language_code:
            sender["language_code"] = language_code
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if anonymous:  # an admin posting as the group: Telegram names the group as sender
            message["from"] = {
                "id": ANONYMOUS_ADMIN_ID,
                "is_bot": True,
                "first_name": "Group",
                "username": "GroupAnonymousBot",
            }
            message["sender_chat"] = chat
        if thread_id is not None:
            chat["is_forum"] = True
            self._topics.setdefault(chat_id, {}).setdefault(thread_id, "open")
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        return message

    def push_text(self, chat_id: int, text: str, **kwargs: Any) -> int:
        """A user writes ``text`` in ``chat_id`` (a command when it starts with ``/``)."""
        return self.push_update({"message": self.message_object(chat_id, text, **kwargs)})

    push_command = push_text

    def push_document(
        self,
        chat_id: int,
        filename: str,
        content: bytes,
        *,
        caption: str | None = None,
        reply_to_text: str | None = None,
        **kwargs: Any,
    ) -> int:
        """A user sends a file as a document, with ``caption`` (a command when it starts with
        ``/``). With ``reply_to_text``, the update is instead a text message (a command)
        replying to that document message, as when the user answers their own file."""
        file_id = f"BQACAgIAAxkBAAI{len(self._files) + 1:04d}"
        path = f"documents/file_{len(self._files) + 1}{filename[filename.rfind('.') :]}"
        self._files[file_id] = (path, content)
        document = {
            "file_name": filename,
            "mime_type": "text/x-opml" if filename.endswith(".opml") else "application/xml",
            "file_id": file_id,
            "file_unique_id": f"AgAD{len(self._files):04d}",
            "file_size": len(content),
        }
        message = self.message_object(chat_id, "", **kwargs)
        del message["text"]
        message["document"] = document
        if caption is not None:
            message["caption"] = caption
            if caption.startswith("/"):
                command = caption.split(maxsplit=1)[0]
                message["caption_entities"] = [
                    {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
                ]
        if reply_to_text is None:
            return self.push_update({"message": message})
        reply = self.message_object(chat_id, reply_to_text, **kwargs)
        reply["reply_to_message"] = message
        return self.push_update({"message": reply})

    def push_channel_post(self, chat_id: int, text: str) -> int:
        """An admin posts ``text`` in the channel ``chat_id``: no ``from``, the channel as
        ``sender_chat``, as Telegram sends a ``channel_post``."""
        chat = self._chats.get(chat_id) or self._chat(chat_id, "channel")
        post: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "sender_chat": chat,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            post["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        return self.push_update({"channel_post": post})

    def push_callback(
        self, chat_id: int, data: str, *, message_id: int, user_id: int | None = None
    ) -> str:
        """A user presses an inline button with ``data`` under the bot's message."""
        query_id = f"cbq{next(self._callback_ids)}"
        uid = user_id if user_id is not None else (chat_id if chat_id > 0 else 42)
        original = next((m for m in self.sent if m.message_id == message_id), None)
        message = {
            "message_id": message_id,
            "from": self._bot_user(),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "text": original.text if original else "…",
        }
        self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": {"id": uid, "is_bot": False, "first_name": "Alice"},
                    "message": message,
                    "chat_instance": f"ci{chat_id}",
                    "data": data,
                }
            }
        )
        return query_id

    async def post_to_webhook(
        self, update: dict[str, Any], *, secret: str | None, url: str | None = None
    ) -> int:
        """POST ``update`` to the webhook the bot set (or to ``url``, where it really listens
        behind the public address), as Telegram does; returns the HTTP status."""
        assert self.webhook is not None, "no webhook set"
        body = {"update_id": next(self._update_ids), **update}
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with (
            ClientSession() as session,
            session.post(url or self.webhook["url"], json=body, headers=headers) as response,
        ):
            return response.status

    # --- waiting --------------------------------------------------------------------------

    async def wait_for(
        self, predicate: Callable[[FakeBotApi], bool], *, within: float = 10.0
    ) -> None:
        """Until ``predicate(self)`` holds (checked whenever the bot calls a method)."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: predicate(self))

    async def wait_sent(
        self, count: int, *, chat_id: int | None = None, within: float = 10.0
    ) -> list[SentMessage]:
        """Until ``count`` messages were sent (to ``chat_id``); returns those messages."""

        def messages() -> list[SentMessage]:
            return [m for m in self.sent if chat_id is None or m.chat_id == chat_id]

        await self.wait_for(lambda _: len(messages()) >= count, within=within)
        return messages()

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        return [m for m in self.sent if m.chat_id == chat_id]

    # --- the server -----------------------------------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Digest",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _chat(
        self, chat_id: int, chat_type: str | None = None, title: str | None = None
    ) -> dict[str, Any]:
        if chat_id not in self._chats or chat_type is not None:
            self._chats[chat_id] = chat_object(chat_id, chat_type, title)
        return self._chats[chat_id]

    async def _handle_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats.__dict__)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """A file download (``getFile``'s ``file_path``), as Telegram serves them."""
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        path = request.match_info["path"]
        for file_path, content in self._files.values():
            if file_path == path:
                return web.Response(body=content, content_type="application/octet-stream")
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                raw.update(await request.json())
            else:
                for key, value in (await request.post()).items():
                    if isinstance(value, str):
                        raw[key] = value
                    else:  # an uploaded file (multipart): its name and bytes
                        raw[key] = {"filename": value.filename, "content": value.file.read()}
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if isinstance(value, str):
                if key in _JSON_FIELDS:
                    value = json.loads(value)
                elif key in _INT_FIELDS and re.fullmatch(r"-?\d+", value):
                    value = int(value)
                elif key in _BOOL_FIELDS:
                    value = value.lower() == "true"
            params[key] = value
        return params

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.stats.requests += 1
        if request.match_info["token"] != self.token:
            return self._error(ApiError(401, "Unauthorized"))
        method = request.match_info["method"].lower()
        params = await self._params(request)
        if self.record:
            self.calls.append((method, params))
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return self._error(ApiError(404, "Not Found: method not found"))
        try:
            result = await handler(params)
        except ApiError as exc:
            return self._error(exc)
        except _DropConnection:
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)  # never reaches the client
        finally:
            async with self._changed:
                self._changed.notify_all()
        return web.json_response({"ok": True, "result": result})

    def _error(self, exc: ApiError) -> web.Response:
        self.stats.errors += 1
        body: dict[str, Any] = {
            "ok": False,
            "error_code": exc.status,
            "description": exc.description,
        }
        if exc.parameters:
            body["parameters"] = exc.parameters
        return web.json_response(body, status=exc.status)

    # --- methods --------------------------------------------------------------------------

    async def _api_getme(self, params: dict[str, Any]) -> Any:
        return self._bot_user()

    async def _api_setmycommands(self, params: dict[str, Any]) -> Any:
        commands = list(params.get("commands", []))
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise ApiError(400, "Bad Request: invalid language code specified")
        self.commands_by_language[language] = commands
        if not language:
            self.my_commands = commands
        return True

    def _member_object(self, chat_id: int, user_id: int, status: str | None = None) -> dict:
        known = self._members.get((chat_id, user_id), {"status": status or "member"})
        user = (
            self._bot_user()
            if user_id == BOT_ID
            else {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        )
        member: dict[str, Any] = {"user": user, **known}
        if member["status"] == "administrator":
            for right in _ADMIN_RIGHTS:
                member.setdefault(right, False)
        elif member["status"] == "creator":
            member.setdefault("is_anonymous", False)
        elif member["status"] == "kicked":
            member.setdefault("until_date", 0)
        return member

    async def _api_getchatmember(self, params: dict[str, Any]) -> Any:
        chat_id, user_id = params.get("chat_id"), params.get("user_id")
        if not isinstance(chat_id, int) or chat_id not in self._chats:
            raise ApiError(400, "Bad Request: chat not found")
        if not isinstance(user_id, int):
            raise ApiError(400, "Bad Request: invalid user_id specified")
        if chat_id in self._gone:
            raise FAILURES[self._gone[chat_id]](_Script(self._gone[chat_id], 1))
        if chat_id in self._hidden_members:
            raise ApiError(400, "Bad Request: member list is inaccessible")
        return self._member_object(chat_id, user_id)

    async def _api_getchat(self, params: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            name = chat_id[1:].lower()
            found = [c for c in self._chats.values() if c.get("username", "").lower() == name]
            chat = found[0] if found else None
        else:
            chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None or chat["id"] in self._gone:
            raise ApiError(400, "Bad Request: chat not found")
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _api_getmycommands(self, params: dict[str, Any]) -> Any:
        return self.my_commands

    async def _api_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_setwebhook(self, params: dict[str, Any]) -> Any:
        if not str(params.get("url", "")).startswith(("https://", "http://")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        self.webhook = params
        return True

    async def _api_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        url = self.webhook["url"] if self.webhook else ""
        return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    async def _api_getupdates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        if not self._updates and timeout > 0 and not self._closing:
            self._new_update.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._new_update.wait()
            except TimeoutError:
                pass
        limit = int(params.get("limit") or 100)
        return self._updates[:limit]

    def _take_script(self, chat_id: int, *, has_parse_mode: bool) -> _Script | None:
        queue = self._scripts.get(chat_id)
        if not queue:
            return None
        script = queue[0]
        if script.kind == "parse_error" and not has_parse_mode:
            return None
        script.times -= 1
        if script.times <= 0:
            queue.popleft()
        return script

    def _check_rate(self) -> None:
        if self.global_rate is None:
            return
        now = time.monotonic()
        window = self._window
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= self.global_rate:
            self.stats.rate_limited += 1
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        window.append(now)

    async def _check_chat(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        script = self._take_script(chat_id, has_parse_mode=bool(params.get("parse_mode")))
        if script is not None:
            if script.kind == NETWORK_FAILURE:
                raise _DropConnection
            if script.kind == SLOW:
                await asyncio.sleep(script.delay)
            else:
                raise FAILURES[script.kind](script)
        if chat_id in self._blocked:
            raise FAILURES["blocked"](_Script("blocked", 1))
        if chat_id in self._gone:
            raise FAILURES[self._gone[chat_id]](_Script(self._gone[chat_id], 1))
        thread = params.get("message_thread_id")
        if thread is not None:
            state = self._topics.get(chat_id, {}).get(int(thread))
            if state is None:
                raise ApiError(400, "Bad Request: message thread not found")
            if state == "closed":
                raise ApiError(400, "Bad Request: TOPIC_CLOSED")
        return chat_id

    def _check_text(self, params: dict[str, Any]) -> str:
        text = str(params.get("text", ""))
        visible = text
        if str(params.get("parse_mode", "")).upper() == "HTML":
            try:
                visible = check_telegram_html(text)
            except HtmlError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(visible) > MESSAGE_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        return text

    async def _api_sendmessage(self, params: dict[str, Any]) -> Any:
        self._check_rate()
        chat_id = await self._check_chat(params)
        text = self._check_text(params)
        message_id = next(self._message_ids)
        now = time.time()
        stats = self.stats
        stats.sent += 1
        if stats.first_sent_at is None:
            stats.first_sent_at = now
        stats.last_sent_at = now
        markup = params.get("reply_markup")
        if self.record:
            self.sent.append(
                SentMessage(
                    chat_id, message_id, text, params.get("parse_mode"), markup, params, now
                )
            )
        result: dict[str, Any] = {
            "message_id": message_id,
            "from": self._bot_user(),
            "chat": self._chat(chat_id),
            "date": int(now),
            "text": text,
        }
        if markup:
            result["reply_markup"] = markup
        return result

    async def _api_getfile(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id", ""))
        if file_id not in self._files:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, content = self._files[file_id]
        if len(content) > FILE_DOWNLOAD_LIMIT:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": "AgAD" + file_id[-4:],
            "file_size": len(content),
            "file_path": path,
        }

    async def _api_senddocument(self, params: dict[str, Any]) -> Any:
        self._check_rate()
        chat_id = await self._check_chat(params)
        upload = params.get("document")
        if not isinstance(upload, dict):
            raise ApiError(400, "Bad Request: there is no document in the request")
        caption = params.get("caption")
        if caption is not None and utf16_len(str(caption)) > CAPTION_LIMIT:
            raise ApiError(400, "Bad Request: message caption is too long")
        content: bytes = upload["content"]
        if not content:
            raise ApiError(400, "Bad Request: file must be non-empty")
        filename = str(upload.get("filename") or "document")
        self.documents.append(SentDocument(chat_id, filename, content, caption, params))
        file_id = f"BQACAgIAAxkDAAI{len(self.documents):04d}"
        self._files[file_id] = (f"documents/sent_{len(self.documents)}", content)
        result: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self._bot_user(),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "document": {
                "file_name": filename,
                "mime_type": "application/octet-stream",
                "file_id": file_id,
                "file_unique_id": "AgAD" + file_id[-4:],
                "file_size": len(content),
            },
        }
        if caption:
            result["caption"] = caption
        return result

    async def _api_editmessagetext(self, params: dict[str, Any]) -> Any:
        chat_id = await self._check_chat(params)
        text = self._check_text(params)
        message_id = int(params.get("message_id", 0))
        markup = params.get("reply_markup")
        self.edits.append(
            SentMessage(
                chat_id, message_id, text, params.get("parse_mode"), markup, params, time.time()
            )
        )
        result: dict[str, Any] = {
            "message_id": message_id,
            "from": self._bot_user(),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "edit_date": int(time.time()),
            "text": text,
        }
        if markup:
            result["reply_markup"] = markup
        return result

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> Any:
        self.callback_answers.append(params)
        return True


class _DropConnection(Exception):
    pass


# --- in a child process, for the benchmark ----------------------------------------------------


def _serve(options: dict[str, Any], conn: Any) -> None:
    async def main() -> None:
        fake = FakeBotApi(**options)
        await fake.start()
        conn.send(fake.port)
        await asyncio.Event().wait()  # until the parent terminates us

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


@contextmanager
def fake_bot_api_process(**options: Any) -> Iterator[str]:
    """Run a :class:`FakeBotApi` (``options`` as its fields) in a child process; yields the
    ``base_url``. Counters: ``GET {root}/_fake/stats`` where root is the base URL minus ``/bot``.
    """
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_serve, args=(options, child), daemon=True)
    process.start()
    try:
        if not parent.poll(30):
            raise RuntimeError("the fake Bot API process did not start")
        port = parent.recv()
        yield f"http://127.0.0.1:{port}/bot"
    finally:
        process.terminate()
        process.join(5)
