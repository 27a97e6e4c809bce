"""``DIGESTBOT_SLACK_CHANNEL_COMMANDS=admins`` through the real Bolt adapter: ``users.info`` and
``conversations.info`` on the fake Web API decide who may change a channel's subscription."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.messages import SLACK, channel_admins_only
from bot.slack import build_slack_adapter
from tests.slack.conftest import SIGNING_SECRET, RecordingCommands, slack_settings
from tests.slack.fake_slack_api import FakeSlackApi
from tests.slack.slack_requests import SlackRequests


@pytest.fixture
async def admins_only(
    fake_api: FakeSlackApi, commands: RecordingCommands
) -> AsyncIterator[SlackRequests]:
    fake_api.users.update(
        {
            "U0ADMIN": {"is_admin": True, "is_owner": False},
            "U0OWNER": {"is_admin": False, "is_owner": True},
            "U0MEMBER": {"is_admin": False, "is_owner": False},
            "U0MAKER": {"is_admin": False, "is_owner": False},
        }
    )
    fake_api.channel_creators["C0NEWS"] = "U0MAKER"
    settings = slack_settings(fake_api, DIGESTBOT_SLACK_CHANNEL_COMMANDS="admins")
    adapter = build_slack_adapter(settings, commands, host="127.0.0.1")
    async with adapter:
        yield SlackRequests(f"http://127.0.0.1:{adapter.port}/slack/events", SIGNING_SECRET)


async def answer(slack: SlackRequests, api: FakeSlackApi, text: str, **kw: str) -> str:
    name = f"r{len(api.responses)}"
    status, _ = await slack.command(text, response_url=api.response_url(name), **kw)
    assert status == 200
    await api.wait_for(lambda: bool(api.responses[name]))
    return str(api.responses[name][0]["text"])


@pytest.mark.parametrize(
    ("user", "text", "allowed"),
    [
        ("U0MEMBER", "unsubscribe all", False),
        ("U0MEMBER", "subscribe trade", False),
        ("U0MEMBER", "settings daily 08:00", False),
        ("U0MEMBER", "list", True),
        ("U0MEMBER", "now", True),
        ("U0ADMIN", "unsubscribe all", True),
        ("U0OWNER", "subscribe trade", True),
        ("U0MAKER", "unsubscribe all", True),  # created the channel
        ("U0STRANGER", "unsubscribe all", False),  # users.info fails: not vouched for
    ],
)
async def test_who_may_change_a_channel(
    admins_only: SlackRequests,
    fake_api: FakeSlackApi,
    commands: RecordingCommands,
    user: str,
    text: str,
    allowed: bool,
) -> None:
    reply = await answer(admins_only, fake_api, text, user_id=user)
    if allowed:
        assert [r.user_id for r in commands.requests] == [user]
    else:
        assert reply == channel_admins_only(SLACK)
        assert commands.requests == []  # the core never saw it: nothing changed


async def test_a_dm_is_the_members_own(
    admins_only: SlackRequests, fake_api: FakeSlackApi, commands: RecordingCommands
) -> None:
    await answer(
        admins_only,
        fake_api,
        "unsubscribe all",
        user_id="U0MEMBER",
        channel_id="D0MEMBER",
        channel_name="directmessage",
    )
    assert len(commands.requests) == 1  # not refused: no admin check in a DM


async def test_membership_is_looked_up_once(
    admins_only: SlackRequests, fake_api: FakeSlackApi
) -> None:
    for _ in range(3):
        await answer(admins_only, fake_api, "subscribe trade", user_id="U0ADMIN")
    assert len(fake_api.calls_to("users.info")) == 1
