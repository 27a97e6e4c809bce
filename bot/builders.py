"""Factories the App wires with: the chat adapters the settings ask for, the optional LLM
summarizer, and the feed check chats add feeds through. Each imports its platform's or
model's libraries only when it is used."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, TextIO

import httpx

from bot import messages as msg
from bot.command_feeds import UserFeeds
from bot.commands import CommandCore
from bot.console import ConsoleAdapter
from bot.ports import ChatAdapter
from bot.settings import Settings
from bot.store import SqlStore

if TYPE_CHECKING:
    from digests.llm import LlmSummarizer
    from digests.pipeline import NewsPipeline

__all__ = ["build_adapters", "build_llm_summarizer", "build_user_feeds"]

log = logging.getLogger(__name__)


def build_adapters(
    settings: Settings,
    commands: CommandCore,
    *,
    console_out: TextIO | None = None,
    store: SqlStore | None = None,
) -> list[ChatAdapter]:
    """The chat adapters the credentials in ``settings`` ask for (console when none, printing
    to ``console_out``, standard output by default). Slack in OAuth mode keeps its
    installations in ``store``."""
    adapters: list[ChatAdapter] = []
    if settings.telegram_bot_token is not None:
        from bot.telegram import build_telegram_adapter

        adapters.append(build_telegram_adapter(settings, commands))
    if settings.slack_enabled:
        from bot.slack import build_slack_adapter

        adapters.append(build_slack_adapter(settings, commands, store=store))
    if not adapters:
        if not settings.database_url.startswith("sqlite"):
            # A shared database: a console "chat" here would subscribe the terminal of every
            # token-less worker in the store. Such a worker polls; `digestbot chat` talks.
            log.info(msg.NO_TOKEN_SHARED_DATABASE)
            return adapters
        log.info(msg.CONSOLE_NO_TOKEN)
        adapters.append(ConsoleAdapter(commands, out=console_out))
    return adapters


def build_llm_summarizer(
    settings: Settings, store: SqlStore, *, transport: httpx.AsyncBaseTransport | None = None
) -> LlmSummarizer | None:
    """The LLM summarizer ``DIGESTBOT_LLM_URL`` asks for, caching in the store; ``None`` (and
    nothing imported) when it is not set."""
    config = settings.llm_config()
    if config is None:
        return None
    from digests.llm import LlmSummarizer
    from digests.llm_client import ChatClient

    client = ChatClient(
        config.url,
        model=config.model,
        api_key=config.api_key,
        timeout=config.timeout,
        deadline=config.deadline,
        max_retries=config.max_retries,
        transport=transport,
    )
    log.info("summaries by %s at %s (guarded; extractive on any doubt)", config.model, config.url)
    return LlmSummarizer(client, config, max_summary_words=settings.summary_words, cache=store)


def build_user_feeds(settings: Settings, pipeline: NewsPipeline) -> UserFeeds:
    """``DIGESTBOT_USERS_MAY_ADD_FEEDS``: chats' ``/addfeed`` addresses are checked by the
    worker's own pipeline, so through its guarded fetcher (``bot.feed_probe``)."""
    if not settings.users_may_add_feeds:
        return UserFeeds(enabled=False, max_per_chat=settings.max_feeds_per_chat)
    from bot.feed_probe import PipelineFeedProbe

    return UserFeeds(
        enabled=True, max_per_chat=settings.max_feeds_per_chat, probe=PipelineFeedProbe(pipeline)
    )
