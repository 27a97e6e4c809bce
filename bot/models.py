"""The plain data of the chat side: what the store keeps and hands to the command core, the
poller and delivery. Immutable: frozen dataclasses, and named tuples for the records a poll
cycle builds by the thousand (:class:`FeedRecord`). Every datetime is timezone-aware UTC.

The news side's card (``digests.models.Card``) travels inside these records unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from digests.models import Card

__all__ = [
    "MODES",
    "AlertState",
    "ChatFeedAdded",
    "ChatRef",
    "FeedRecord",
    "OutboxItem",
    "PollSuccess",
    "QueueRow",
    "SentRecord",
    "SlackInstallation",
    "StoredCard",
    "Subscription",
    "WorkerRecord",
]

# How a subscription gets its cards: each as it comes, or gathered once an hour or a day.
MODES = ("instant", "hourly", "daily")


@dataclass(frozen=True, slots=True)
class ChatRef:
    """Where a subscription lives: a Telegram chat, a Slack channel/DM, the console."""

    platform: str  # "telegram" | "slack" | "console"
    chat_id: str
    # A forum topic (Telegram ``message_thread_id``) inside the chat; "" for the chat itself.
    # Several topics of one chat hold subscriptions of their own.
    thread: str = ""


class FeedRecord(NamedTuple):
    """A feed as the store keeps it.

    Immutable like the other models, but a named tuple: a poll cycle builds one per due feed
    (thousands), and a frozen dataclass cost eight times as much to build (7 µs a record on
    this project's 2-core machine, against under 1). So are the other records built once per
    poll: :class:`PollSuccess` here, ``FeedReport``, ``FeedFetch`` and ``FetchedResource``.
    """

    id: int
    url: str
    name: str | None
    topics: tuple[str, ...]
    etag: str | None
    last_modified: str | None
    ttl_minutes: int | None
    error_count: int
    last_error: str | None
    next_poll_at: datetime | None
    last_polled_at: datetime | None
    added_at: datetime
    initialized: bool  # the first poll happened: its entries were recorded, not broadcast
    origin: str = "command"  # "file": managed by the feeds file; "command": by the CLI
    summary_mode: str | None = None  # "llm" | "extractive"; None: the settings' default
    # Set when this worker holds the feed's lease: its writes about the poll must show it.
    claim_token: str | None = None
    body_hash: str | None = None  # digest of the last body read (digests.http_body)


@dataclass(frozen=True, slots=True)
class ChatFeedAdded:
    """What ``SqlStore.add_chat_feed`` did: ``outcome`` is ``"added"`` (a feed new to
    the bot), ``"shared"`` (a feed the bot already polls, now this chat's too),
    ``"already"`` (the chat had it) or ``"limit"`` (the chat has ``owned`` feeds, the most it
    may; nothing was written)."""

    outcome: str
    feed: FeedRecord | None
    owned: int


class PollSuccess(NamedTuple):
    """A poll that worked: the validators to send next time and when the feed is due again."""

    feed_id: int
    etag: str | None
    last_modified: str | None
    ttl_minutes: int | None
    at: datetime
    next_poll_at: datetime
    claim_token: str | None = None  # the feed's lease; a poll whose lease was lost writes nothing
    body_hash: str | None = None  # digest of the body read (kept when the server said 304)
    # False: etag, last_modified and body_hash are what the feed had (they are not written).
    validators_changed: bool = True


@dataclass(frozen=True, slots=True)
class StoredCard:
    id: int
    feed_id: int | None
    card: Card
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Subscription:
    chat: ChatRef
    filters: tuple[str, ...] = ()  # empty: everything
    mode: str = "instant"  # one of MODES
    daily_time: str | None = None  # "HH:MM" in ``timezone``, for daily
    timezone: str = "UTC"
    active: bool = True
    deactivated_reason: str | None = None
    title: str | None = None
    id: int | None = None
    created_at: datetime | None = None
    language: str | None = None  # the chat's own choice (``/settings language``), a bot.i18n code


# One outbox row to write: (subscription id, card id, not before).
QueueRow = tuple[int, int, datetime]


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    subscription: Subscription
    card_id: int
    card: Card
    attempts: int
    not_before: datetime
    # The lease on the item's chat this worker holds: every write about the item shows it.
    claim_token: str | None = None


@dataclass(frozen=True, slots=True)
class SentRecord:
    """One message that went out: the outbox items it carried."""

    subscription_id: int
    item_ids: tuple[int, ...]
    at: datetime
    claim_token: str | None = None  # the chat's lease the send was made under


@dataclass(frozen=True, slots=True)
class AlertState:
    """What is known of one alert condition (see ``bot.alerts``)."""

    key: str  # "feed:<url>", "token:<platform>", "outbox:<platform>", "worker:<name>"
    kind: str  # feed_failing | token_rejected | outbox_stuck | worker_crashed
    active: bool = False
    since: datetime | None = None  # when it was first seen holding (this time)
    notified: bool = False  # the admin chats were told it holds (and not yet that it ended)
    last_sent_at: datetime | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class WorkerRecord:
    """A running worker as its heartbeat row shows it."""

    id: str
    host: str
    pid: int
    roles: tuple[str, ...]
    holds_updates: bool  # it consumes the chat updates (Telegram long polling) now
    started_at: datetime
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class SlackInstallation:
    """The app installed in one Slack workspace, as stored.

    ``workspace`` is what subscriptions are keyed by (:mod:`bot.slack_workspaces`): the
    enterprise id for an org-wide install, else the team id. ``bot_token`` is the stored value:
    Fernet ciphertext when ``token_encrypted`` (see :mod:`bot.token_cipher`).
    """

    workspace: str
    enterprise_id: str | None
    team_id: str | None
    is_enterprise_install: bool
    bot_token: str
    token_encrypted: bool
    installed_at: datetime
    team_name: str | None = None
    app_id: str | None = None
    bot_id: str | None = None
    bot_user_id: str | None = None
    bot_scopes: str | None = None
    installer_user_id: str | None = None
