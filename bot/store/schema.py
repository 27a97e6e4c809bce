"""The store's tables and column types, in one place: the SQL modules and Alembic's
``env.py`` (autogenerate) read them from here.

The tables mirror the migrations in ``bot/migrations/versions``; ``tests/bot/test_bot_store.py``
checks that an upgraded database and this metadata never drift apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = [
    "UTCDateTime",
    "alerts_t",
    "cards_t",
    "chat_leases_t",
    "delivery_log_t",
    "entry_key",
    "feed_owners_t",
    "feeds_t",
    "handled_updates_t",
    "llm_summaries_t",
    "metadata",
    "outbox_t",
    "seen_entries_t",
    "send_budget_t",
    "slack_installations_t",
    "slack_oauth_states_t",
    "subscriptions_t",
    "workers_t",
]


def entry_key(entry_id: str) -> str:
    """A fixed-length key for an entry id (ids can be long URLs; unique indexes want bounds)."""
    return hashlib.sha256(entry_id.encode("utf-8")).hexdigest()


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on SQLite (naive storage) and PostgreSQL (timestamptz)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _sqlite_utc
        return super().result_processor(dialect, coltype)


def _sqlite_utc(value: Any) -> datetime | None:
    """The naive UTC text SQLite keeps, read as aware UTC.

    Appending the offset and parsing once costs a fifth of parsing and then
    ``datetime.replace(tzinfo=...)`` (about 2 µs on Python 3.11), and a poll cycle reads three
    of these per feed it claims.
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:  # not the store's own naive text: parsed as written below
            value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _lease_columns() -> list[sa.Column[object]]:
    """A lease held by one worker: until when, the token its writes must show, which worker.

    Feeds (one poller per due feed) and chats (``chat_leases``: one sender per chat, all its
    forum topics included) carry one.
    """
    return [
        sa.Column("claimed_until", UTCDateTime),
        sa.Column("claim_token", sa.String(36)),
        sa.Column("claimed_by", sa.String(100)),
    ]


feeds_t = sa.Table(
    "feeds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("url", sa.String(2048), nullable=False, unique=True),
    sa.Column("name", sa.String(300)),
    sa.Column("topics", sa.JSON, nullable=False),
    sa.Column("etag", sa.String(500)),
    sa.Column("last_modified", sa.String(100)),
    sa.Column("ttl_minutes", sa.Integer),
    sa.Column("error_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("next_poll_at", UTCDateTime),
    sa.Column("last_polled_at", UTCDateTime),
    sa.Column("added_at", UTCDateTime, nullable=False),
    sa.Column("initialized", sa.Boolean, nullable=False, server_default=sa.false()),
    # "file": listed in the feeds file, which manages it (added, updated and removed with the
    # file); "command": added by `digestbot feeds add` or an OPML import; "chat": added by
    # chats (/addfeed), whose cards go to its owners only (``feed_owners``).
    sa.Column("origin", sa.String(10), nullable=False, server_default="command"),
    *_lease_columns(),
    # "llm" | "extractive"; NULL: the default of the settings (DIGESTBOT_SUMMARY_MODE)
    sa.Column("summary_mode", sa.String(12)),
    sa.Index("ix_feeds_origin", "origin"),  # the few chat feeds, found without a scan
    # Digest of the last body read: the same body again is not parsed (servers without ETag).
    sa.Column("body_hash", sa.String(64)),
    # Claims walk due feeds earliest first (NULL, never polled, first on SQLite).
    sa.Index("ix_feeds_next_poll_at_id", "next_poll_at", "id"),
)

seen_entries_t = sa.Table(
    "seen_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    sa.Column("entry_key", sa.String(64), nullable=False),
    sa.Column("entry_id", sa.Text, nullable=False),
    sa.Column("seen_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("feed_id", "entry_key", name="uq_seen_entries_feed_entry"),
)

cards_t = sa.Table(
    "cards",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=True),
    sa.Column("entry_key", sa.String(64), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("published_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("feed_id", "entry_key", name="uq_cards_feed_entry"),
    sa.Index("ix_cards_created_at", "created_at"),
    sa.Index("ix_cards_published_at_id", "published_at", "id"),
)

subscriptions_t = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("platform", sa.String(20), nullable=False),
    sa.Column("chat_id", sa.String(100), nullable=False),
    sa.Column("thread", sa.String(100), nullable=False, server_default=""),
    sa.Column("title", sa.String(300)),
    sa.Column("filters", sa.JSON, nullable=False),
    sa.Column("mode", sa.String(10), nullable=False, server_default="instant"),
    sa.Column("daily_time", sa.String(5)),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("deactivated_reason", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("language", sa.String(10)),
    sa.UniqueConstraint(
        "platform", "chat_id", "thread", name="uq_subscriptions_platform_chat_thread"
    ),
    # The poller's index re-reads only the subscriptions changed since it last looked.
    sa.Index("ix_subscriptions_updated_at", "updated_at"),
)

# Which chats (subscriptions: a chat, or a forum topic of one) added which feeds from the chat:
# one feed row, many owners. A chat feed whose last owner goes is removed (polling stops).
# ``feeds.origin`` of a feed added from a chat (/addfeed): delivered to its owners only, and
# polled only while one of them is subscribed.
CHAT_ORIGIN = "chat"

feed_owners_t = sa.Table(
    "feed_owners",
    metadata,
    sa.Column(
        "feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "subscription_id",
        sa.Integer,
        sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("added_at", UTCDateTime, nullable=False),
    sa.Index("ix_feed_owners_subscription_id", "subscription_id"),
)

# One row per chat that ever had something due: its lease. A chat's subscriptions (one per
# forum topic) share it, since the platform's pace (20 messages a minute per group) is the
# chat's. Rows are created by the claim that first needs them.
chat_leases_t = sa.Table(
    "chat_leases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("platform", sa.String(20), nullable=False),
    sa.Column("chat_id", sa.String(100), nullable=False),
    *_lease_columns(),
    sa.UniqueConstraint("platform", "chat_id", name="uq_chat_leases_platform_chat"),
)

outbox_t = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "subscription_id",
        sa.Integer,
        sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("card_id", sa.Integer, sa.ForeignKey("cards.id", ondelete="CASCADE"), nullable=False),
    sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("not_before", UTCDateTime, nullable=False),
    sa.Column("claimed_until", UTCDateTime),
    sa.Column("claim_token", sa.String(36)),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.UniqueConstraint("subscription_id", "card_id", name="uq_outbox_subscription_card"),
    sa.Index("ix_outbox_status_not_before", "status", "not_before"),
    sa.Index("ix_outbox_subscription_status", "subscription_id", "status", "not_before"),
)

delivery_log_t = sa.Table(
    "delivery_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("subscription_id", sa.Integer),  # no FK: the log outlives subscriptions
    sa.Column("outcome", sa.String(20), nullable=False),  # sent | retry | failed | gone
    sa.Column("detail", sa.Text),
    sa.Column("item_count", sa.Integer, nullable=False, server_default="1"),
    sa.Column("at", UTCDateTime, nullable=False),
)

# Model summaries by article content hash + model + prompt version (``key`` hashes the three),
# so that restarts and other workers do not pay for the same article again. ``summary`` is
# NULL when the guard rejected the model's text (``outcome`` says why): that is not retried.
llm_summaries_t = sa.Table(
    "llm_summaries",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("prompt_version", sa.String(100), nullable=False),
    sa.Column("summary", sa.JSON),
    sa.Column("outcome", sa.String(30), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_llm_summaries_created_at", "created_at"),  # the hourly cap counts by it
)

# One row per alert condition ("feed:<url>", "token:<platform>", "outbox:<platform>", ...):
# whether it holds, since when, and what the admin chats were last told about it.
alerts_t = sa.Table(
    "alerts",
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("since", UTCDateTime),
    sa.Column("notified", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("last_sent_at", UTCDateTime),
    sa.Column("detail", sa.Text),
)

workers_t = sa.Table(
    "workers",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("roles", sa.String(100), nullable=False),
    sa.Column("holds_updates", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("seen_at", UTCDateTime, nullable=False),
)

send_budget_t = sa.Table(
    "send_budget",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("tat", sa.Float, nullable=False),  # GCRA theoretical arrival time, epoch seconds
)

handled_updates_t = sa.Table(
    "handled_updates",
    metadata,
    sa.Column("platform", sa.String(20), primary_key=True),
    sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_handled_updates_at", "at"),
)

# One row per Slack workspace the app is installed in (``workspace``: the enterprise id for an
# org-wide install, else the team id). ``bot_token`` is Fernet ciphertext when
# ``token_encrypted``; it is cleared when the app is uninstalled or its token revoked.
slack_installations_t = sa.Table(
    "slack_installations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("workspace", sa.String(32), nullable=False, unique=True),
    sa.Column("enterprise_id", sa.String(32)),
    sa.Column("team_id", sa.String(32)),
    sa.Column("team_name", sa.String(200)),
    sa.Column("is_enterprise_install", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("app_id", sa.String(32)),
    sa.Column("bot_id", sa.String(32)),
    sa.Column("bot_user_id", sa.String(32)),
    sa.Column("bot_scopes", sa.Text),
    sa.Column("bot_token", sa.Text),
    sa.Column("token_encrypted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("installer_user_id", sa.String(32)),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("installed_at", UTCDateTime, nullable=False),
    sa.Column("uninstalled_at", UTCDateTime),
)

# OAuth ``state`` values handed out by /slack/install, each good once until it expires.
slack_oauth_states_t = sa.Table(
    "slack_oauth_states",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("state", sa.String(64), nullable=False, unique=True),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)
