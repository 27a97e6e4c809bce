"""Workspace keys, who may change a channel's subscription, and the per-workspace pause."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery import Delivery
from bot.pacing import Pacer
from bot.ports import ChatGone, ChatRef, RetryLater, Sent
from bot.slack_sender import TOKEN_ERROR_PAUSE, SlackSender
from bot.slack_workspaces import (
    changes_subscription,
    may_change,
    qualify,
    split_chat_id,
    workspace_key,
)
from bot.store import SqlStore, Subscription
from tests.slack.conftest import make_card
from tests.slack.fake_slack_api import Error, FakeSlackApi, RateLimited
from tests.slack.local_feed import no_sleep

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("enterprise", "team", "org_wide", "key"),
    [
        (None, "T1", False, "T1"),
        ("E1", "T1", False, "T1"),  # a team of a Grid org, installed per team
        ("E1", "T1", True, "E1"),  # installed org-wide: one installation for every team
        ("E1", None, True, "E1"),
        ("E1", None, False, "E1"),
        (None, None, False, None),
    ],
)
def test_workspace_key(
    enterprise: str | None, team: str | None, org_wide: bool, key: str | None
) -> None:
    assert workspace_key(enterprise, team, org_wide) == key


@pytest.mark.parametrize(
    ("workspace", "channel", "chat_id"),
    [("T1", "C1", "T1:C1"), (None, "C1", "C1"), ("E1", "D9", "E1:D9")],
)
def test_qualified_chat_ids_round_trip(workspace: str | None, channel: str, chat_id: str) -> None:
    assert qualify(workspace, channel) == chat_id
    assert split_chat_id(chat_id) == (workspace, channel)


@pytest.mark.parametrize(
    ("name", "args", "changes"),
    [
        ("subscribe", (), True),
        ("subscribe", ("trade",), True),
        ("unsubscribe", ("all",), True),
        ("settings", ("daily", "08:00"), True),
        ("settings", (), False),
        ("list", (), False),
        ("topics", (), False),
        ("digest", ("trade",), False),
        ("help", (), False),
        ("addfeed", ("https://example.org/feed.xml",), True),
        ("removefeed", ("1",), True),
        ("import", (), True),
        ("feeds", (), False),
        ("export", (), False),
    ],
)
def test_changes_subscription(name: str, args: tuple[str, ...], changes: bool) -> None:
    assert changes_subscription(name, args) is changes


@pytest.mark.parametrize(
    ("policy", "changes", "in_channel", "admin", "creator", "allowed"),
    [
        ("everyone", True, True, False, False, True),
        ("admins", True, True, False, False, False),  # a member changing a channel's
        ("admins", True, True, True, False, True),  # a workspace admin or owner
        ("admins", True, True, False, True, True),  # the member who created the channel
        ("admins", False, True, False, False, True),  # reading is open to all
        ("admins", True, False, False, False, True),  # a DM is the member's own
    ],
)
def test_may_change(
    policy: str, changes: bool, in_channel: bool, admin: bool, creator: bool, allowed: bool
) -> None:
    decided = may_change(
        policy,  # type: ignore[arg-type]
        changes=changes,
        in_channel=in_channel,
        is_admin=admin,
        is_channel_creator=creator,
    )
    assert decided is allowed


class Tokens:
    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = tokens
        self.forgotten: list[str] = []

    async def bot_token(self, workspace: str) -> str | None:
        return self.tokens.get(workspace)

    def forget(self, workspace: str) -> None:
        self.forgotten.append(workspace)


class Monotonic:
    now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("refusal", "pause"),
    [(RateLimited(20), 20.0), (Error("token_revoked"), TOKEN_ERROR_PAUSE)],
)
async def test_a_429_or_a_refused_token_pauses_that_workspace_only(
    fake_api: FakeSlackApi, refusal: RateLimited | Error, pause: float
) -> None:
    tokens = Tokens({"T1": "xoxb-one", "T2": "xoxb-two"})
    clock = Monotonic()
    sender = SlackSender(_client(fake_api), tokens=tokens, clock=clock)
    [message] = sender.render([make_card()])
    fake_api.script("chat.postMessage", "C1", refusal)

    first = await sender.send("T1:C1", message)
    assert isinstance(first, RetryLater) and first.after_seconds == pause
    assert not first.counts_as_attempt
    # another channel of the same workspace is not tried while it is paused ...
    held = await sender.send("T1:C2", message)
    assert isinstance(held, RetryLater) and held.after_seconds == pause
    assert fake_api.calls_to("chat.postMessage", "C2") == []
    # ... the other workspace goes on, with its own token
    assert isinstance(await sender.send("T2:C1", message), Sent)
    assert fake_api.tokens_used("chat.postMessage") == ["xoxb-one", "xoxb-two"]
    clock.now += pause
    assert isinstance(await sender.send("T1:C2", message), Sent)
    assert tokens.forgotten == (["T1"] if isinstance(refusal, Error) else [])


async def test_a_workspace_without_installation_is_gone(fake_api: FakeSlackApi) -> None:
    sender = SlackSender(_client(fake_api), tokens=Tokens({}))
    [message] = sender.render([make_card()])
    result = await sender.send("T9:C1", message)
    assert isinstance(result, ChatGone)
    assert fake_api.calls_to("chat.postMessage") == []


def _client(api: FakeSlackApi) -> AsyncWebClient:
    return AsyncWebClient(base_url=api.base_url, retry_handlers=[])


class RecordingBudget:
    def __init__(self) -> None:
        self.keys: list[str] = []

    async def acquire(self, key: str) -> None:
        self.keys.append(key)

    async def aclose(self) -> None:
        return None


async def test_each_workspace_has_its_own_send_budget(
    fake_api: FakeSlackApi, tmp_path: Path
) -> None:
    store = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'budget.sqlite3'}")
    await store.upgrade()
    try:
        feed, _ = await store.add_feed("https://example.org/feed.xml")
        [stored] = await store.record_entries(feed.id, [("e1", make_card())], NOW)
        for chat_id in ("T1:C1", "T2:C1", "T1:C2"):
            sub = await store.save_subscription(Subscription(chat=ChatRef("slack", chat_id)))
            assert sub.id is not None
            await store.enqueue([(sub.id, stored.id, NOW)], NOW)
        budget = RecordingBudget()
        tokens = Tokens({"T1": "xoxb-one", "T2": "xoxb-two"})
        delivery = Delivery(
            store,
            {"slack": SlackSender(_client(fake_api), tokens=tokens)},
            pacer=Pacer(rate=0.0),
            budget=budget,
            clock=lambda: NOW,
            sleep=no_sleep,
        )
        report = await delivery.run()
    finally:
        await store.close()
    assert report.sent == 3
    assert sorted(budget.keys) == ["slack:T1", "slack:T1", "slack:T2"]
    assert SlackSender(_client(fake_api)).budget_key_for("C1") == "slack"  # one-token mode
