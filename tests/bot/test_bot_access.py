"""Admins manage a shared chat, everyone reads: the pure decision, as a table."""

from __future__ import annotations

import pytest

from bot.access import ADMINS_ONLY, ALLOW, Access, decide, is_admin, is_channel_ref
from bot.commands import CommandCore, parse_command_line
from bot.ports import ChatRef


@pytest.mark.parametrize(
    ("command", "shared", "sender_is_chat", "policy", "expected"),
    [
        # A private chat is its user's own.
        ("subscribe", False, False, "admins", ALLOW),
        ("unsubscribe", False, False, "admins", ALLOW),
        ("settings", False, False, "admins", ALLOW),
        # In groups and channels, changing the subscription is for admins ...
        ("subscribe", True, False, "admins", ADMINS_ONLY),
        ("unsubscribe", True, False, "admins", ADMINS_ONLY),
        ("settings", True, False, "admins", ADMINS_ONLY),
        # ... and so are the chat's own feeds (adding, removing, importing) ...
        ("addfeed", True, False, "admins", ADMINS_ONLY),
        ("removefeed", True, False, "admins", ADMINS_ONLY),
        ("import", True, False, "admins", ADMINS_ONLY),
        ("addfeed", False, False, "admins", ALLOW),
        # ... reading is for everyone ...
        ("feeds", True, False, "admins", ALLOW),
        ("export", True, False, "admins", ALLOW),
        ("list", True, False, "admins", ALLOW),
        ("topics", True, False, "admins", ALLOW),
        ("digest", True, False, "admins", ALLOW),
        ("help", True, False, "admins", ALLOW),
        ("start", True, False, "admins", ALLOW),
        ("frobnicate", True, False, "admins", ALLOW),
        # ... the chat itself (a channel post, an anonymous admin) is an admin ...
        ("unsubscribe", True, True, "admins", ALLOW),
        ("settings", True, True, "admins", ALLOW),
        # ... and DIGESTBOT_GROUP_COMMANDS=everyone lets every member manage.
        ("unsubscribe", True, False, "everyone", ALLOW),
        ("subscribe", True, False, "everyone", ALLOW),
    ],
)
def test_decide(
    command: str, shared: bool, sender_is_chat: bool, policy: str, expected: Access
) -> None:
    assert decide(command, shared=shared, sender_is_chat=sender_is_chat, policy=policy) is expected


@pytest.mark.parametrize(
    ("status", "admin"),
    [
        ("creator", True),
        ("administrator", True),
        ("member", False),
        ("restricted", False),
        ("left", False),
        ("kicked", False),
        (None, False),  # the platform could not tell: not an admin
    ],
)
def test_is_admin(status: str | None, admin: bool) -> None:
    assert is_admin(status) is admin


@pytest.mark.parametrize(
    ("word", "channel"),
    [
        ("@worldnews", True),
        ("@World_News_2", True),
        ("-1001234567890", True),
        ("@ab", False),  # too short for a Telegram username
        ("economy", False),
        ("-2001", False),  # a basic group's id, not a channel's
        ("@", False),
    ],
)
def test_is_channel_ref(word: str, channel: bool) -> None:
    assert is_channel_ref(word) is channel


async def test_a_platform_without_channel_look_ups_reads_at_words_as_filters(
    core: CommandCore,
) -> None:
    """Slack and the console have no ``ChatDirectory``: ``@name`` is not a channel there."""
    request = parse_command_line("/subscribe @newsroom", ChatRef("console", "c1"))
    assert request is not None
    reply = await core.handle(request)
    assert "private chat" not in reply.text and "channel" not in reply.text.lower()
