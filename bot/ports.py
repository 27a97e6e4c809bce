"""The small interfaces the chat side is wired through (see ``bot.app`` for the wiring).

Adapters (Telegram, Slack, console) translate platform updates into :class:`CommandRequest`,
call :class:`CommandHandler.handle` and render the :class:`Reply` back. Delivery talks to each
platform through one :class:`ChatSender`. The store is seen by each consumer through the
Protocol of what that consumer needs: :class:`CommandStore` (the command core),
:class:`PollerStore` (the poller), :class:`DeliveryStore` (delivery); ``bot.store.SqlStore``
implements all three.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.matching import IndexedSubscription
from bot.models import (
    ChatFeedAdded,
    ChatRef,
    FeedRecord,
    OutboxItem,
    PollSuccess,
    QueueRow,
    SentRecord,
    StoredCard,
    Subscription,
)
from digests.models import Card

__all__ = [
    "AdminDesk",
    "Attachment",
    "ChannelInfo",
    "ChatAdapter",
    "ChatDirectory",
    "ChatGone",
    "ChatRef",
    "ChatSender",
    "Choice",
    "CommandHandler",
    "CommandRequest",
    "CommandStore",
    "DeliveryStore",
    "Document",
    "FeedFound",
    "FeedProbe",
    "FeedProblem",
    "OutgoingMessage",
    "PollerStore",
    "QueueTransaction",
    "Rejected",
    "Reply",
    "RetryLater",
    "SendResult",
    "Sent",
]


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """A channel the platform found by name or id, and whether the bot may post there."""

    chat_id: str
    title: str | None
    bot_can_post: bool


class ChatDirectory(Protocol):
    """What the command core may ask a platform about its chats (Telegram: ``getChat`` and
    ``getChatMember``). Answers may be cached for a few minutes."""

    async def member_status(self, chat_id: str, user_id: str) -> str | None:
        """``"creator"``, ``"administrator"``, ``"member"``, ``"restricted"``, ``"left"`` or
        ``"kicked"``; ``None`` when the platform could not tell (the bot left, an error)."""
        ...

    async def find_channel(self, name: str) -> ChannelInfo | None:
        """The channel ``@name`` (or numeric id) names, or ``None`` if there is none the bot
        can see."""
        ...


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a command (Telegram: a document captioned ``/import``).

    ``read(limit)`` downloads it, at most ``limit`` bytes (the platform's client may stop
    there; a longer answer means the file is larger than ``limit``)."""

    name: str | None
    size: int | None  # as the platform reports it, before anything is downloaded
    read: Callable[[int], Awaitable[bytes]] = field(compare=False)


@dataclass(frozen=True, slots=True)
class Document:
    """A file a reply carries (``/export``: the chat's feeds as OPML)."""

    filename: str
    content: bytes
    caption: str = ""


@dataclass(frozen=True, slots=True)
class FeedFound:
    """A feed address fetched and read: its stored spelling, title and entries now.

    When the address given was a web page, ``page`` is that page's address, ``on_page`` says
    whether the page linked the feed (else it was at one of the site's usual places) and
    ``others`` are the page's other feeds, best first, as ``(url, title)``."""

    url: str
    title: str | None
    entries: int
    page: str | None = None
    on_page: bool = False
    others: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True, slots=True)
class FeedProblem:
    """Why an address is not a feed the bot can add: ``kind`` is one of
    ``bot.messages.feeds.PROBLEMS`` (invalid, private, http, timeout, too_large, not_feed,
    unreachable), ``detail`` what that text shows (a status, an address, seconds, MB)."""

    kind: str
    detail: str = ""


class FeedProbe(Protocol):
    """Fetches a feed address at once, through the worker's own guarded fetcher."""

    async def probe(self, url: str) -> FeedFound | FeedProblem: ...


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """A platform-neutral command: ``/subscribe trade`` or ``/digest subscribe trade``."""

    chat: ChatRef
    name: str  # "start" | "help" | "subscribe" | "unsubscribe" | "list" | "topics" | ...
    args: tuple[str, ...] = ()
    user_id: str | None = None
    is_group: bool = False
    chat_title: str | None = None
    is_channel: bool = False
    # The chat itself speaks: a channel post, or a group's anonymous admin (``sender_chat``).
    sender_is_chat: bool = False
    language: str | None = None  # the user's own language (Telegram ``language_code``)
    # The platform's answers about members and channels; None where it has none.
    chats: ChatDirectory | None = field(default=None, compare=False)
    sent_at: datetime | None = None  # when the user sent it, if the platform says (lag metric)
    attachment: Attachment | None = None  # a file sent with the command (``/import``)
    files: bool = False  # the platform takes and sends files (Reply.document)
    # Sends a message to the chat at once, before the reply (``/import``'s "Checking 12
    # feeds..."); None where the platform answers a command once only (Slack's slash command).
    progress: Callable[[str], Awaitable[None]] | None = field(default=None, compare=False)


class AdminDesk(Protocol):
    """What the operators' admin chats may ask in chat (``/status``, ``/feeds``)."""

    def is_admin_chat(self, chat: ChatRef) -> bool: ...

    async def status_text(self) -> str: ...

    async def feeds_text(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Choice:
    """A button the adapter may offer; pressing it sends ``command`` back as a command line."""

    label: str
    command: str  # e.g. "subscribe economy"


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to a command. ``text`` is plain text: adapters escape it for their markup."""

    text: str
    choices: tuple[Choice, ...] = ()
    cards: tuple[Card, ...] = ()
    document: Document | None = None  # sent after the text where the platform takes files


class CommandHandler(Protocol):
    async def handle(self, request: CommandRequest) -> Reply: ...

    async def chat_removed(self, platform: str, chat_id: str, reason: str) -> None:
        """The bot was removed from the chat (or a channel dropped it): its subscriptions
        end, like a blocked chat's."""
        ...


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One platform message ready to send, and which of the rendered cards it carries.

    ``payload`` is platform-specific and JSON-serialisable (Telegram: ``{"text", "parse_mode"}``,
    Slack: ``{"text", "blocks"}``); ``fallback_text`` is the plain-text version used when the
    platform rejects the markup.
    """

    payload: dict[str, Any]
    fallback_text: str
    card_indexes: tuple[int, ...] = field(default=())  # positions in the list given to render()
    thread: str = ""  # the subscription's forum topic (``ChatRef.thread``), set by delivery


# --- results of one send: expected failures are values, not exceptions -------------------


@dataclass(frozen=True, slots=True)
class Sent:
    message_id: str | None = None
    # Telegram: the group became a supergroup with this new chat id and the message went
    # there; delivery should move the subscription to it.
    migrated_to: str | None = None


@dataclass(frozen=True, slots=True)
class RetryLater:
    """Rate-limited (429) or a passing failure (network, 5xx): try again after the delay.

    ``counts_as_attempt`` is False when the platform itself asked for the wait (429) or the
    whole platform is paused (a rejected token): such waits never use up an item's attempts,
    so a busy or misconfigured platform delays cards but never drops them.
    """

    after_seconds: float
    reason: str
    counts_as_attempt: bool = True
    # "transient" (network, 5xx), "rate_limited" (429) or "token_rejected" (the platform
    # refuses the bot token: delivery to the whole platform pauses, an admin is alerted).
    # Slack in OAuth mode has one token per workspace: "workspace_token_rejected" and
    # "workspace_paused" pause that workspace inside the sender, and count as transient here.
    kind: str = "transient"


@dataclass(frozen=True, slots=True)
class ChatGone:
    """The chat will never accept messages again (blocked, kicked, archived, not found)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """The platform refused this message for good (not the chat): log it and move on."""

    reason: str


SendResult = Sent | RetryLater | ChatGone | Rejected


class ChatSender(Protocol):
    """One platform's delivery side."""

    platform: str

    def render(self, cards: Sequence[Card]) -> list[OutgoingMessage]:
        """Split a digest of cards into platform messages, at card boundaries."""
        ...

    async def send(self, chat_id: str, message: OutgoingMessage) -> SendResult:
        """Send one message; never raises for expected platform errors."""
        ...

    def min_interval(self, chat_id: str) -> float:
        """Seconds to leave between two messages to this chat (Telegram groups: 3 s = 20/min)."""
        ...


class ChatAdapter(Protocol):
    """A chat platform while the worker runs: it receives commands (long polling, webhook,
    Socket Mode, HTTP) and translates them for the :class:`CommandHandler`, and it owns the
    :class:`ChatSender` that delivery uses. Built by ``bot.telegram.build_telegram_adapter``,
    ``bot.slack.build_slack_adapter`` and ``bot.console`` and wired in ``bot.app``."""

    platform: str

    # Read-only in the Protocol so that an adapter may declare its own sender class.
    @property
    def sender(self) -> ChatSender: ...

    async def start(self) -> None:
        """Begin receiving updates; return once running (work continues in owned tasks)."""
        ...

    async def stop(self) -> None:
        """Stop receiving, finish in-flight replies, release connections."""
        ...


# --- the store, as each consumer sees it ---------------------------------------------------


class CommandStore(Protocol):
    """What the command core reads and writes."""

    async def get_subscription(self, chat: ChatRef) -> Subscription | None: ...

    async def save_subscription(self, sub: Subscription) -> Subscription: ...

    async def deactivate_subscription(
        self, subscription_id: int, reason: str, now: datetime, *, cancel: bool = False
    ) -> int: ...

    async def reschedule_pending(self, subscription_id: int, not_before: datetime) -> int: ...

    async def deactivate_chat(
        self, platform: str, chat_id: str, reason: str, now: datetime
    ) -> int: ...

    async def latest_cards(
        self, limit: int, *, feed_id: int | None = None, viewer: int | None = None
    ) -> list[StoredCard]: ...

    async def add_chat_feed(
        self, subscription_id: int, url: str, *, name: str | None, limit: int, now: datetime
    ) -> ChatFeedAdded: ...

    async def chat_feeds(self, subscription_id: int) -> list[FeedRecord]: ...

    async def remove_chat_feed(self, subscription_id: int, feed_id: int) -> tuple[bool, bool]: ...


class QueueTransaction(Protocol):
    """New entries, their cards and their outbox rows, committed together."""

    async def record_entries(
        self, feed_id: int, entries: Sequence[tuple[str, Card | None]], now: datetime
    ) -> list[StoredCard]: ...

    async def enqueue(self, items: Sequence[QueueRow], now: datetime) -> int: ...

    async def hold_feed(self, feed_id: int, claim_token: str | None) -> bool: ...

    async def feed_audience(self, feed_id: int) -> frozenset[int] | None: ...

    async def record_poll_successes(self, polls: Sequence[PollSuccess]) -> None: ...


class SubscriptionSource(Protocol):
    """What :class:`bot.subscription_sync.LiveIndex` reads of the store."""

    async def indexed_subscriptions(self) -> list[IndexedSubscription]: ...

    async def subscriptions_fingerprint(self) -> tuple[Any, ...]: ...

    async def active_subscription_count(self) -> int: ...

    async def changed_subscriptions(
        self, ids: Collection[int], since: datetime | None
    ) -> tuple[list[IndexedSubscription], list[int]]: ...

    def take_subscription_changes(self) -> set[int]: ...


class PollerStore(SubscriptionSource, Protocol):
    """What the poller reads and writes."""

    async def claim_due_feeds(
        self,
        now: datetime,
        *,
        lease_seconds: float,
        limit: int,
        worker_id: str | None = None,
        dead_before: datetime | None = None,
    ) -> list[FeedRecord]: ...

    async def record_poll_success(
        self,
        feed_id: int,
        *,
        etag: str | None,
        last_modified: str | None,
        ttl_minutes: int | None,
        now: datetime,
        next_poll_at: datetime,
        claim_token: str | None = None,
        body_hash: str | None = None,
    ) -> bool: ...

    async def record_poll_successes(self, polls: Sequence[PollSuccess]) -> None: ...

    async def release_feeds(self, feeds: Sequence[FeedRecord]) -> None: ...

    async def record_poll_failure(
        self,
        feed_id: int,
        *,
        error: str,
        now: datetime,
        next_poll_at: datetime,
        claim_token: str | None = None,
    ) -> bool: ...

    async def unseen_entry_ids(self, feed_id: int, entry_ids: Iterable[str]) -> set[str]: ...

    def transaction(self) -> AbstractAsyncContextManager[QueueTransaction]: ...


class DeliveryStore(Protocol):
    """What delivery reads and writes."""

    async def claim_due(
        self,
        now: datetime,
        *,
        lease_seconds: float,
        limit: int,
        platforms: Iterable[str],
        worker_id: str | None = None,
        dead_before: datetime | None = None,
        chats: int | None = None,
    ) -> list[OutboxItem]: ...

    async def release_chats(
        self,
        claim_token: str,
        now: datetime,
        next_send_in: Mapping[tuple[str, str], float] | None = None,
    ) -> None: ...

    async def record_sent(self, records: Sequence[SentRecord]) -> None: ...

    async def mark_retry(
        self,
        ids: Sequence[int],
        not_before: datetime,
        error: str,
        *,
        count_attempt: bool = True,
        claim_token: str | None = None,
    ) -> None: ...

    async def mark_failed(
        self, ids: Sequence[int], error: str, now: datetime, *, claim_token: str | None = None
    ) -> None: ...

    async def release(self, ids: Sequence[int], *, claim_token: str | None = None) -> None: ...

    async def log_delivery(
        self,
        subscription_id: int | None,
        outcome: str,
        detail: str | None,
        now: datetime,
        count: int = 1,
    ) -> None: ...

    async def deactivate_subscription(
        self, subscription_id: int, reason: str, now: datetime
    ) -> int: ...

    async def move_subscription(
        self, subscription_id: int, chat_id: str, now: datetime
    ) -> Subscription | None: ...
