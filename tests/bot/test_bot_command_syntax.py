"""Replies spell commands the way the asking platform types them.

The same conversations as ``test_bot_commands``, held on Telegram, Slack and the console: the
Slack texts must read exactly as the adapter's old regex rewrite of the Telegram texts did
(``tests.slack.spelling``), and console texts name no slash command.
"""

from __future__ import annotations

import re

import pytest

from bot import messages as msg
from bot.commands import CommandCore, parse_command_line
from bot.ports import ChatRef
from tests.bot.test_bot_commands import CONVERSATIONS
from tests.slack.spelling import slack_command_text

TELEGRAM = ChatRef("telegram", "42")
SLACK = ChatRef("slack", "C42")
CONSOLE = ChatRef("console", "terminal")
_SLASH_COMMAND = re.compile(r"(?<![\w/.:-])/(help|subscribe|unsubscribe|list|topics|digest)\b")


@pytest.mark.parametrize("name", list(CONVERSATIONS))
async def test_each_platform_reads_its_own_command_syntax(core: CommandCore, name: str) -> None:
    steps, _ = CONVERSATIONS[name]
    for line, _fragments in steps:
        replies = {}
        for chat in (TELEGRAM, SLACK, CONSOLE):
            request = parse_command_line(line, chat)
            assert request is not None
            replies[chat.platform] = (await core.handle(request)).text
        expected = slack_command_text(replies["telegram"])
        word = line.split()[0].lstrip("/")
        if word == "frobnicate":  # unknown: Slack names the slash command as it was typed
            expected = expected.replace("/frobnicate", "/digest frobnicate")
        assert replies["slack"] == expected, line
        assert not _SLASH_COMMAND.search(replies["console"]), (line, replies["console"])
        assert "`" not in replies["telegram"] + replies["slack"]


async def test_unknown_command_is_named_as_typed(core: CommandCore) -> None:
    for chat, shown, help_ in (
        (TELEGRAM, "/bogus", "/help"),
        (SLACK, "/digest bogus", "/digest help"),
        (CONSOLE, "`bogus`", "`help`"),
    ):
        request = parse_command_line("bogus now", chat)
        assert request is not None
        reply = await core.handle(request)
        assert reply.text == f"I don't know {shown}. Send {help_} to see what I can do."


def test_command_syntax_spells_commands_and_arguments() -> None:
    assert msg.TELEGRAM("subscribe", "economy", "trade") == "/subscribe economy trade"
    assert msg.SLACK("digest", "trade") == "/digest now trade"
    assert msg.SLACK("start") == "/digest help"
    assert msg.SLACK.typed("digest") == "/digest digest"
    assert msg.CONSOLE("unsubscribe", "all") == "`unsubscribe all`"
    assert msg.syntax_for("matrix") is msg.TELEGRAM  # a platform not listed: slash commands


async def test_a_core_can_be_given_its_own_syntax(core: CommandCore) -> None:
    custom = CommandCore(core.store, core.catalog, syntax=lambda platform: msg.CONSOLE)
    reply = await custom.handle(parse_command_line("/help", TELEGRAM))  # type: ignore[arg-type]
    assert "`subscribe economy trade`" in reply.text
