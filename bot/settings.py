"""All runtime settings, as one typed object built once at the edge (``Settings.load()``).

Values come from environment variables (and an optional ``.env`` file), read here and nowhere
else in ``bot/`` and ``digests/``, with two exceptions at other edges: the Alembic environment
(``bot/migrations/env.py``) reads ``DATABASE_URL`` when the ``alembic`` command runs it without
a URL, and Slack Bolt reads ``SLACK_BOT_TOKEN`` / ``SLACK_SIGNING_SECRET`` by itself, though the
client and secret we pass win (see ``bot.slack``). Secrets are ``SecretStr`` so that they never
reach a log line, and :meth:`Settings.secret_values` lets an error line mask them.
"""

from __future__ import annotations

import difflib
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import DatabaseUrlError, LlmSetupError
from bot.models import ChatRef
from digests.config import CONFIG_DIR, PipelineConfig
from digests.heap import DEFAULT_GC_THRESHOLD, DEFAULT_MMAP_THRESHOLD

if TYPE_CHECKING:
    from digests.llm import LlmConfig

# The databases the store runs on, by URL scheme (bare schemes get their async driver).
DATABASE_SCHEMES = ("postgresql+asyncpg", "postgresql", "postgres", "sqlite+aiosqlite", "sqlite")


class Settings(BaseSettings):
    # An empty variable is an unset one (its default), not a value: compose files and .env
    # templates pass `DIGESTBOT_POLL_INTERVAL=` for a variable the operator left out.
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    # --- store -------------------------------------------------------------------------
    database_url: str = Field(
        default="sqlite+aiosqlite:///digestbot.sqlite3", validation_alias="DATABASE_URL"
    )

    # --- worker ------------------------------------------------------------------------
    poll_interval: int = Field(default=600, validation_alias="DIGESTBOT_POLL_INTERVAL")
    feeds_file: Path = Field(
        default=CONFIG_DIR / "feeds.toml", validation_alias="DIGESTBOT_FEEDS_FILE"
    )
    topics_file: Path = Field(
        default=CONFIG_DIR / "topics.toml", validation_alias="DIGESTBOT_TOPICS_FILE"
    )
    summary_words: int = Field(default=75, validation_alias="DIGESTBOT_SUMMARY_WORDS")
    max_response_bytes: int = Field(
        default=10 * 1024 * 1024, validation_alias="DIGESTBOT_MAX_RESPONSE_BYTES"
    )
    # Seconds: one fetch, whatever the server trickles; one feed with its pages.
    fetch_timeout: float = Field(default=20.0, gt=0, validation_alias="DIGESTBOT_FETCH_TIMEOUT")
    feed_timeout: float = Field(default=45.0, gt=0, validation_alias="DIGESTBOT_FEED_TIMEOUT")
    global_rate: float = Field(default=25.0, validation_alias="DIGESTBOT_GLOBAL_RATE")
    # Feeds polled at once, and requests in flight to one site (scheme, host and port).
    poll_concurrency: int = Field(default=50, ge=1, validation_alias="DIGESTBOT_POLL_CONCURRENCY")
    per_host_requests: int = Field(default=2, ge=1, validation_alias="DIGESTBOT_PER_HOST_REQUESTS")
    # Cards built in this many worker processes; 0: in threads; unset: from the usable cores
    # (digests.card_work.default_processes; README "Configuration").
    card_processes: int | None = Field(
        default=None, ge=0, validation_alias="DIGESTBOT_CARD_PROCESSES"
    )
    # Cards a card process builds before a fresh one replaces it, giving back the memory it
    # has crept up by (digests.card_work.CARDS_PER_PROCESS); 0: never replaced.
    cards_per_process: int = Field(
        default=2000, ge=0, validation_alias="DIGESTBOT_CARDS_PER_PROCESS"
    )
    # Blocks this large and larger come from mmap and go back to the system when freed, so
    # that page buffers leave no holes in the heap (digests.heap); 0: glibc's own threshold.
    malloc_mmap_threshold: int = Field(
        default=DEFAULT_MMAP_THRESHOLD, ge=0, le=32 * 1024 * 1024,
        validation_alias="DIGESTBOT_MALLOC_MMAP_THRESHOLD",
    )  # fmt: skip
    # Allocations before the cyclic garbage collector looks at its young objects again
    # (digests.heap.fix_gc_threshold); 0: Python's own 700.
    gc_threshold: int = Field(
        default=DEFAULT_GC_THRESHOLD, ge=0, le=10_000_000, validation_alias="DIGESTBOT_GC_THRESHOLD"
    )
    # --- several workers (README "Scaling out") --------------------------------------------
    roles: str = Field(default="poll,deliver,updates", validation_alias="DIGESTBOT_ROLES")
    lease_seconds: float = Field(default=300.0, gt=0, validation_alias="DIGESTBOT_LEASE_SECONDS")
    heartbeat_seconds: float = Field(
        default=5.0, gt=0, validation_alias="DIGESTBOT_HEARTBEAT_SECONDS"
    )
    sends_in_flight: int = Field(default=1, ge=0, validation_alias="DIGESTBOT_SENDS_IN_FLIGHT")
    redis_url: SecretStr | None = Field(default=None, validation_alias="REDIS_URL")
    log_level: str = Field(default="INFO", validation_alias="DIGESTBOT_LOG_LEVEL")
    log_format: Literal["text", "json"] = Field(
        default="text", validation_alias="DIGESTBOT_LOG_FORMAT"
    )

    # --- operations ----------------------------------------------------------------------
    http_port: int | None = Field(default=None, validation_alias="DIGESTBOT_HTTP_PORT")
    http_host: str = Field(default="0.0.0.0", validation_alias="DIGESTBOT_HTTP_HOST")
    admin_chats: str = Field(default="", validation_alias="DIGESTBOT_ADMIN_CHATS")
    alert_feed_failing_hours: float = Field(
        default=6.0, gt=0, validation_alias="DIGESTBOT_ALERT_FEED_FAILING_HOURS"
    )
    alert_outbox_minutes: float = Field(
        default=30.0, gt=0, validation_alias="DIGESTBOT_ALERT_OUTBOX_MINUTES"
    )
    status_window_hours: float = Field(
        default=24.0, gt=0, validation_alias="DIGESTBOT_STATUS_WINDOW_HOURS"
    )
    worker_name: str = Field(
        default_factory=socket.gethostname, validation_alias="DIGESTBOT_WORKER_NAME"
    )
    allow_private_addresses: bool = Field(
        default=False, validation_alias="DIGESTBOT_ALLOW_PRIVATE_ADDRESSES"
    )
    # Who may change a group's or channel's subscription: its admins, or every member.
    group_commands: Literal["admins", "everyone"] = Field(
        default="admins", validation_alias="DIGESTBOT_GROUP_COMMANDS"
    )
    # Chats may add feeds of their own (/addfeed, /import); each chat at most this many.
    users_may_add_feeds: bool = Field(
        default=False, validation_alias="DIGESTBOT_USERS_MAY_ADD_FEEDS"
    )
    max_feeds_per_chat: int = Field(
        default=50, ge=1, le=10_000, validation_alias="DIGESTBOT_MAX_FEEDS_PER_CHAT"
    )

    # --- Telegram ------------------------------------------------------------------------
    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_BOT_TOKEN"
    )
    telegram_base_url: str = Field(
        default="https://api.telegram.org/bot", validation_alias="TELEGRAM_BASE_URL"
    )
    telegram_webhook_url: str | None = Field(default=None, validation_alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_WEBHOOK_SECRET"
    )
    telegram_webhook_listen: str = Field(
        default="0.0.0.0", validation_alias="TELEGRAM_WEBHOOK_LISTEN"
    )
    telegram_webhook_port: int = Field(default=8443, validation_alias="TELEGRAM_WEBHOOK_PORT")

    # --- Slack ---------------------------------------------------------------------------
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    port: int = Field(default=3000, validation_alias="PORT")
    # OAuth ("Add to Slack" in any number of workspaces) instead of one SLACK_BOT_TOKEN.
    slack_client_id: str | None = Field(default=None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_CLIENT_SECRET"
    )
    slack_state_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_STATE_SECRET"
    )
    slack_redirect_uri: str | None = Field(default=None, validation_alias="SLACK_REDIRECT_URI")
    slack_channel_commands: Literal["everyone", "admins"] = Field(
        default="everyone", validation_alias="DIGESTBOT_SLACK_CHANNEL_COMMANDS"
    )
    # Fernet key(s), comma-separated, newest first: bot tokens are stored encrypted with it.
    secret_key: SecretStr | None = Field(default=None, validation_alias="DIGESTBOT_SECRET_KEY")

    @field_validator("admin_chats")
    @classmethod
    def _admin_chats_parse(cls, value: str) -> str:
        parse_admin_chats(value)  # raises ValueError naming the bad entry
        return value

    # --- LLM summaries (off unless DIGESTBOT_LLM_URL is set) ----------------------------
    llm_url: str | None = Field(default=None, validation_alias="DIGESTBOT_LLM_URL")
    llm_model: str | None = Field(default=None, validation_alias="DIGESTBOT_LLM_MODEL")
    llm_api_key: SecretStr | None = Field(default=None, validation_alias="DIGESTBOT_LLM_API_KEY")
    llm_max_per_hour: int | None = Field(
        default=None, ge=0, validation_alias="DIGESTBOT_LLM_MAX_PER_HOUR"
    )
    llm_timeout: float = Field(default=30.0, gt=0, validation_alias="DIGESTBOT_LLM_TIMEOUT")
    llm_deadline: float = Field(default=60.0, gt=0, validation_alias="DIGESTBOT_LLM_DEADLINE")
    llm_concurrency: int = Field(default=2, ge=1, validation_alias="DIGESTBOT_LLM_CONCURRENCY")
    llm_max_input_chars: int = Field(
        default=12_000, ge=500, validation_alias="DIGESTBOT_LLM_MAX_INPUT_CHARS"
    )
    llm_prompt_file: Path = Field(
        default=CONFIG_DIR / "prompts" / "summary-v1.txt",
        validation_alias="DIGESTBOT_LLM_PROMPT_FILE",
    )
    # The mode of feeds added without --summary; "llm" only matters with DIGESTBOT_LLM_URL set.
    summary_mode: Literal["llm", "extractive"] = Field(
        default="llm", validation_alias="DIGESTBOT_SUMMARY_MODE"
    )

    @classmethod
    def load(cls) -> Settings:
        return cls()

    @property
    def slack_oauth(self) -> bool:
        """Slack in OAuth mode: installed per workspace from ``/slack/install``."""
        return bool(self.slack_client_id or self.slack_client_secret)

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None or self.slack_oauth

    def admin_chat_refs(self) -> list[ChatRef]:
        return parse_admin_chats(self.admin_chats)

    def secret_values(self) -> list[str]:
        """Every secret set: tokens, signing and webhook secrets.

        Not the database password: a database URL only reaches a message rendered without it,
        and masking a password such as ``postgres`` everywhere would garble the line.
        """
        return [
            value.get_secret_value()
            for value in (
                self.telegram_bot_token,
                self.telegram_webhook_secret,
                self.slack_bot_token,
                self.slack_signing_secret,
                self.slack_app_token,
                self.slack_client_secret,
                self.slack_state_secret,
                self.secret_key,
                self.llm_api_key,
            )
            if value is not None and value.get_secret_value()
        ]

    def secret_passwords(self) -> list[str]:
        """The database and Redis passwords, masked where they stand as passwords (see
        :mod:`bot.secret_masking`), not everywhere: ``postgres`` is also a word."""
        from bot.secret_masking import url_password

        redis = self.redis_url.get_secret_value() if self.redis_url else None
        return [p for p in (url_password(self.database_url), url_password(redis)) if p]

    def llm_config(self) -> LlmConfig | None:
        """The LLM server to summarise with; ``None`` when ``DIGESTBOT_LLM_URL`` is not set
        (nothing LLM-related is imported then)."""
        if not self.llm_url:
            return None
        if not self.llm_model:
            raise LlmSetupError(
                "DIGESTBOT_LLM_URL is set but DIGESTBOT_LLM_MODEL is not: name the model to "
                "call (for Ollama, one `ollama list` shows, e.g. llama3.2)"
            )
        if not self.llm_prompt_file.is_file():
            raise LlmSetupError(
                f"DIGESTBOT_LLM_PROMPT_FILE: no prompt file at {self.llm_prompt_file}"
            )
        from digests.llm import LlmConfig

        key = self.llm_api_key.get_secret_value() if self.llm_api_key else None
        return LlmConfig(
            url=self.llm_url,
            model=self.llm_model,
            api_key=key or None,
            timeout=self.llm_timeout,
            deadline=self.llm_deadline,
            concurrency=self.llm_concurrency,
            max_per_hour=self.llm_max_per_hour,
            max_input_chars=self.llm_max_input_chars,
            prompt_path=self.llm_prompt_file,
        )

    def pipeline_config(self) -> PipelineConfig:
        return PipelineConfig(
            max_summary_words=self.summary_words,
            max_response_bytes=self.max_response_bytes,
            total_timeout=self.fetch_timeout,
            feed_timeout=self.feed_timeout,
            topics_path=self.topics_file,
            allow_private_addresses=self.allow_private_addresses,
            max_in_flight=self.poll_concurrency,
            max_per_host=self.per_host_requests,
            malloc_mmap_threshold=self.malloc_mmap_threshold,
            gc_threshold=self.gc_threshold,
        )


def unknown_settings(names: Iterable[str]) -> list[str]:
    """What to tell about the ``DIGESTBOT_*`` names among ``names`` that no setting reads.

    The settings ignore variables they do not know, so a misspelt one (or
    ``DIGESTBOT_DATABASE_URL`` for ``DATABASE_URL``) would silently leave its default in force.
    ``DIGESTBOT_TEST_*`` are the test suite's own.
    """
    known = {str(field.validation_alias) for field in Settings.model_fields.values()}
    # Compared without the shared prefix, which would make every name look like every other.
    stems = {name.removeprefix("DIGESTBOT_"): name for name in known}
    said = []
    for name in sorted(set(names)):
        upper = name.upper()
        if not upper.startswith("DIGESTBOT_") or upper.startswith("DIGESTBOT_TEST_"):
            continue
        if upper in known:
            continue
        close = difflib.get_close_matches(upper.removeprefix("DIGESTBOT_"), stems, n=1, cutoff=0.8)
        hint = f" (did you mean {stems[close[0]]}?)" if close else ""
        said.append(f"{name} is not a setting{hint}; it is ignored (README: Configuration)")
    return said


def check_database_url(url: str) -> str:
    """``url`` if the store can run on it; :class:`DatabaseUrlError` saying what to set if not.

    Checked before the store is built, so that ``mysql://...`` is one clear line rather than a
    driver import error deep in SQLAlchemy.
    """
    scheme, sep, _ = url.partition("://")
    if sep and scheme.lower() in DATABASE_SCHEMES:
        return url
    shown = f"a {scheme}:// URL" if sep and scheme else "not a database URL"
    raise DatabaseUrlError(
        f"DATABASE_URL is {shown}: digestbot runs on PostgreSQL or SQLite; set it to "
        "postgresql://USER:PASSWORD@HOST:5432/DB or sqlite:///FILE.sqlite3"
    )


def parse_admin_chats(value: str) -> list[ChatRef]:
    """``"telegram:123456,slack:C0123"`` -> chat refs; ValueError naming a bad entry."""
    chats = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        platform, sep, chat_id = (x.strip() for x in part.partition(":"))
        if not sep or not chat_id or platform not in ("telegram", "slack"):
            raise ValueError(
                f"{part!r} is not PLATFORM:CHAT_ID (e.g. telegram:123456 or slack:C0123)"
            )
        chats.append(ChatRef(platform, chat_id))
    return chats
