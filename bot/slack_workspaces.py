"""Which Slack workspace a chat belongs to, and who may change a channel's subscription.

Pure functions over plain values (table-tested in ``tests/slack/test_slack_workspaces.py``).

Channel ids are unique only within a workspace, so with the app installed in many workspaces
(OAuth mode) a subscription's chat id is qualified by the workspace: ``T0TEAM:C0NEWS``, or
``E0ORG:C0NEWS`` for an org-wide Enterprise Grid install (one installation serves every team of
the organisation, where channel ids are unique). With one ``SLACK_BOT_TOKEN`` chat ids stay
bare channel ids, as they always were.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "ChannelCommands",
    "changes_subscription",
    "may_change",
    "qualify",
    "split_chat_id",
    "workspace_key",
]

SEPARATOR = ":"

ChannelCommands = Literal["everyone", "admins"]


def workspace_key(
    enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None
) -> str | None:
    """The key an installation and its subscriptions are stored under."""
    if is_enterprise_install and enterprise_id:
        return enterprise_id
    return team_id or enterprise_id


def qualify(workspace: str | None, channel: str) -> str:
    """The chat id of ``channel`` in ``workspace`` (the bare channel id without a workspace)."""
    return f"{workspace}{SEPARATOR}{channel}" if workspace else channel


def split_chat_id(chat_id: str) -> tuple[str | None, str]:
    """``(workspace, channel)`` of a chat id; no workspace for a bare (single-token) one."""
    workspace, sep, channel = chat_id.partition(SEPARATOR)
    return (workspace, channel) if sep else (None, chat_id)


def changes_subscription(name: str, args: tuple[str, ...]) -> bool:
    """Whether the (core) command changes the chat's subscription; reading it never does."""
    return name in ("subscribe", "unsubscribe", "addfeed", "removefeed", "import") or (
        name == "settings" and bool(args)
    )


def may_change(
    policy: ChannelCommands,
    *,
    changes: bool,
    in_channel: bool,
    is_admin: bool,
    is_channel_creator: bool,
) -> bool:
    """Whether a member may run this command here.

    Under ``admins`` a channel's subscription is changed only by workspace admins and owners
    and by the member who created the channel; reading it (``list``, ``topics``, ``now``) and
    everything in a DM stays open to everyone.
    """
    if not changes or not in_channel or policy == "everyone":
        return True
    return is_admin or is_channel_creator
