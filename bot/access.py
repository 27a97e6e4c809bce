"""Who may run which command where: admins manage a shared chat, everyone reads.

Pure decisions over plain data (``tests/bot/test_bot_access.py`` is their table). The command
core asks :func:`decide` first; only for :data:`ADMINS_ONLY` does it look the sender up
(``ChatDirectory.member_status``, cached by the platform) and ask :func:`is_admin`.
"""

from __future__ import annotations

import re
from enum import Enum

__all__ = [
    "ADMINS_ONLY",
    "ALLOW",
    "GROUP_COMMAND_POLICIES",
    "MANAGING_COMMANDS",
    "Access",
    "decide",
    "is_admin",
    "is_channel_ref",
]

# Commands that change what a chat gets; the rest (list, topics, digest, help, start, feeds,
# export) only read.
MANAGING_COMMANDS = frozenset(
    {"subscribe", "unsubscribe", "settings", "addfeed", "removefeed", "import"}
)
# DIGESTBOT_GROUP_COMMANDS: "admins" (the default) or "everyone".
GROUP_COMMAND_POLICIES = ("admins", "everyone")
_ADMIN_STATUSES = frozenset({"creator", "administrator"})
# ``@channelname`` (5-32 letters, digits, _) or a channel's numeric id (-100...).
_CHANNEL_REF = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}|-100\d{5,15}")


class Access(Enum):
    ALLOW = "allow"
    ADMINS_ONLY = "admins only"  # allowed if the sender is an admin of the chat


ALLOW = Access.ALLOW
ADMINS_ONLY = Access.ADMINS_ONLY


def decide(command: str, *, shared: bool, sender_is_chat: bool, policy: str = "admins") -> Access:
    """May this command run without knowing the sender's role?

    ``shared``: a group, supergroup or channel (a private chat is its user's own).
    ``sender_is_chat``: the chat itself speaks (a channel post, or an anonymous group admin
    posting as the group): only admins can do that, so it needs no look-up.
    """
    if not shared or policy == "everyone" or command not in MANAGING_COMMANDS:
        return ALLOW
    if sender_is_chat:
        return ALLOW
    return ADMINS_ONLY


def is_admin(status: str | None) -> bool:
    """The member status a platform reported is one that may manage the chat."""
    return status in _ADMIN_STATUSES


def is_channel_ref(word: str) -> bool:
    """``@channelname`` or ``-1001234567890``: a command about that channel."""
    return _CHANNEL_REF.fullmatch(word) is not None
