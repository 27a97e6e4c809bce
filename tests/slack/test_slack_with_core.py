"""The Slack adapter in front of the real CommandCore and SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.commands import CommandCore
from bot.filters import TaxonomyCatalog
from bot.ports import ChatRef
from bot.slack import SlackAdapter, build_slack_adapter
from bot.store import SqlStore
from digests.config import CONFIG_DIR
from digests.topics import Taxonomy
from tests.slack.conftest import SIGNING_SECRET, slack_settings
from tests.slack.fake_slack_api import FakeSlackApi, block_kit_problem
from tests.slack.slack_requests import SlackRequests

NEWS = ChatRef("slack", "C0NEWS")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    sql = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'slack.sqlite3'}")
    await sql.upgrade()
    yield sql
    await sql.close()


@pytest.fixture
async def core_slack(
    fake_api: FakeSlackApi, store: SqlStore
) -> AsyncIterator[tuple[SlackAdapter, SlackRequests]]:
    core = CommandCore(store, TaxonomyCatalog(Taxonomy.load(CONFIG_DIR / "topics.toml")))
    adapter = build_slack_adapter(slack_settings(fake_api), core, host="127.0.0.1")
    async with adapter:
        yield (
            adapter,
            SlackRequests(f"http://127.0.0.1:{adapter.port}/slack/events", SIGNING_SECRET),
        )


async def ask(
    slack: SlackRequests, api: FakeSlackApi, text: str, name: str, **kw: Any
) -> dict[str, Any]:
    status, _ = await slack.command(text, response_url=api.response_url(name), **kw)
    assert status == 200
    await api.wait_for(lambda: bool(api.responses[name]))
    reply = api.responses[name][0]
    assert block_kit_problem(reply) is None
    return reply


async def test_subscribe_settings_list_unsubscribe_through_the_core(
    core_slack: tuple[SlackAdapter, SlackRequests], fake_api: FakeSlackApi, store: SqlStore
) -> None:
    _, slack = core_slack
    await ask(slack, fake_api, "subscribe climate trade", "sub")
    sub = await store.get_subscription(NEWS)
    assert sub is not None and sub.active
    assert set(sub.filters) == {"climate", "trade"}
    assert sub.title == "#news"

    await ask(slack, fake_api, "settings daily 07:30 Europe/Paris", "set")
    sub = await store.get_subscription(NEWS)
    assert sub is not None
    assert (sub.mode, sub.daily_time, sub.timezone) == ("daily", "07:30", "Europe/Paris")

    listed = await ask(slack, fake_api, "list", "list")
    assert "climate" in listed["text"] and "07:30" in listed["text"]
    assert "/digest" in listed["text"]  # core commands spelled the Slack way

    await ask(slack, fake_api, "unsubscribe all", "unsub")
    sub = await store.get_subscription(NEWS)
    assert sub is not None and not sub.active


async def test_topics_buttons_run_through_the_core(
    core_slack: tuple[SlackAdapter, SlackRequests], fake_api: FakeSlackApi, store: SqlStore
) -> None:
    _, slack = core_slack
    reply = await ask(slack, fake_api, "topics", "topics")
    buttons = [e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]
    trade = next(b for b in buttons if b["value"] == "subscribe trade")
    status, _ = await slack.button(
        trade["value"], action_id=trade["action_id"], response_url=fake_api.response_url("click")
    )
    assert status == 200
    await fake_api.wait_for(lambda: bool(fake_api.responses["click"]))
    sub = await store.get_subscription(NEWS)
    assert sub is not None and sub.filters == ("trade",)


async def test_help_and_unknown_words_point_to_slack_commands(
    core_slack: tuple[SlackAdapter, SlackRequests], fake_api: FakeSlackApi
) -> None:
    _, slack = core_slack
    help_text = (await ask(slack, fake_api, "", "help"))["text"]
    assert "/digest subscribe" in help_text
    assert "/subscribe" not in help_text.replace("/digest subscribe", "")
    unknown = (await ask(slack, fake_api, "frobnicate", "unknown"))["text"]
    assert "/digest help" in unknown


async def test_a_forged_subscribe_changes_nothing_in_the_store(
    core_slack: tuple[SlackAdapter, SlackRequests], fake_api: FakeSlackApi, store: SqlStore
) -> None:
    _, slack = core_slack
    status, _ = await slack.command(
        "subscribe climate", response_url=fake_api.response_url("x"), secret="not-the-secret"
    )
    assert status == 401
    assert await store.get_subscription(NEWS) is None


async def test_an_unknown_subcommand_is_named_as_typed(
    core_slack: tuple[SlackAdapter, SlackRequests], fake_api: FakeSlackApi
) -> None:
    _, slack = core_slack
    reply = await ask(slack, fake_api, "bogus", "bogus")
    assert reply["text"] == "I don't know /digest bogus. Send /digest help to see what I can do."
