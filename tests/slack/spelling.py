"""The Slack spelling of core commands as the adapter used to produce it, by rewriting the
core's Telegram-style text with a regex. Kept here as an oracle: the core now spells commands
through ``bot.messages.SLACK`` and its texts must read exactly as the rewrite did."""

from __future__ import annotations

import re

_CORE_COMMAND = re.compile(
    r"(?<![\w/.:-])/(start|help|subscribe|unsubscribe|list|topics|digest|settings)\b(?![/@])"
)
_SLACK_SPELLING = {"digest": "now", "start": "help"}


def slack_command_text(text: str) -> str:
    """``"send /subscribe trade"`` -> ``"send /digest subscribe trade"``."""
    return _CORE_COMMAND.sub(
        lambda m: f"/digest {_SLACK_SPELLING.get(m.group(1), m.group(1))}", text
    )
