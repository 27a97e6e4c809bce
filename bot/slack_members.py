"""What the Slack adapter asks Slack about people and channels, cached for a few minutes.

``users.info`` with ``include_locale`` (the member's language; is the member a workspace admin
or owner?) and ``conversations.info`` (who created the channel?): the language picks the
gettext catalog of the replies, the rest backs ``DIGESTBOT_SLACK_CHANNEL_COMMANDS=admins``;
the decision itself is :func:`bot.slack_workspaces.may_change`. A failed look-up (a missing
scope, Slack down) counts as "no" (under ``admins`` only a member Slack vouches for changes a
channel's subscription) and as English.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ports import CommandRequest
from bot.slack_workspaces import ChannelCommands, changes_subscription, may_change

__all__ = ["SlackMembers"]

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0


class SlackMembers:
    def __init__(
        self, *, ttl: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[tuple[str, str, str], tuple[float, Any]] = {}

    async def _cached(self, key: tuple[str, str, str], fetch: Any) -> Any:
        hit = self._cache.get(key)
        now = self._clock()
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        try:
            value = await fetch()
        except SlackApiError as exc:
            data = getattr(exc.response, "data", None)
            error = data.get("error") if isinstance(data, dict) else "unreadable answer"
            # Cached too: an app installed without users:read must not ask again at every
            # command. INFO, not WARNING: the reply still goes out (in English).
            log.info("slack: %s failed (%s)", key[0], error)
            value = None
        self._cache[key] = (now, value)
        return value

    async def _user(
        self, client: AsyncWebClient, workspace: str, user_id: str
    ) -> dict[str, Any] | None:
        async def fetch() -> dict[str, Any]:
            user = (await client.users_info(user=user_id, include_locale=True))["user"]
            return dict(user)

        result = await self._cached(("users.info", workspace, user_id), fetch)
        return result if isinstance(result, dict) else None

    async def is_admin(self, client: AsyncWebClient, workspace: str, user_id: str) -> bool:
        """Whether the member is an admin or owner of the workspace (``users.info``)."""
        user = await self._user(client, workspace, user_id) or {}
        return any(bool(user.get(k)) for k in ("is_admin", "is_owner", "is_primary_owner"))

    async def locale(self, client: AsyncWebClient, workspace: str, user_id: str) -> str | None:
        """The member's Slack locale (``users.info`` with ``include_locale``), e.g. ``de-DE``."""
        user = await self._user(client, workspace, user_id) or {}
        locale = user.get("locale")
        return str(locale) if locale else None

    async def channel_creator(
        self, client: AsyncWebClient, workspace: str, channel_id: str
    ) -> str | None:
        """The member who created the channel (``conversations.info``), if Slack says."""

        async def fetch() -> str | None:
            channel = (await client.conversations_info(channel=channel_id))["channel"]
            creator = channel.get("creator")
            return str(creator) if creator else None

        result = await self._cached(("conversations.info", workspace, channel_id), fetch)
        return result if isinstance(result, str) else None

    async def may_run(
        self,
        policy: ChannelCommands,
        request: CommandRequest,
        client: AsyncWebClient,
        workspace: str,
        channel_id: str,
    ) -> bool:
        """Whether ``request`` may run here under ``policy``; Slack is asked only when the
        answer depends on who the member is."""
        changes = changes_subscription(request.name, request.args)
        in_channel = request.is_group
        if may_change(
            policy, changes=changes, in_channel=in_channel, is_admin=False, is_channel_creator=False
        ):
            return True
        user_id = request.user_id or ""
        is_admin = await self.is_admin(client, workspace, user_id)
        creator = None if is_admin else await self.channel_creator(client, workspace, channel_id)
        return may_change(
            policy,
            changes=changes,
            in_channel=in_channel,
            is_admin=is_admin,
            is_channel_creator=creator == user_id,
        )
