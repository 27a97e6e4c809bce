"""The ``slack_installations`` and ``slack_oauth_states`` tables: which Slack workspaces the app
is installed in (with their bot token, as stored), and the OAuth states handed out by
``/slack/install``.

Subscriptions of an OAuth-installed workspace have chat ids qualified by the workspace
(``T0TEAM:C0NEWS``, see :mod:`bot.slack_workspaces`); uninstalling a workspace deactivates
exactly those, and a later install of the same workspace removes what the uninstall left, so
that it starts clean.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import SlackInstallation
from bot.store._sql import SqlBase
from bot.store.schema import (
    outbox_t,
    slack_installations_t,
    slack_oauth_states_t,
    subscriptions_t,
)

__all__ = ["UNINSTALLED", "SqlSlackInstalls"]

# The reason an uninstall gives the workspace's subscriptions (and their cancelled items).
UNINSTALLED = "the Slack app was uninstalled from the workspace"

_PLATFORM = "slack"


def _workspace_chats(workspace: str) -> sa.ColumnElement[bool]:
    return (subscriptions_t.c.platform == _PLATFORM) & subscriptions_t.c.chat_id.startswith(
        workspace + ":", autoescape=True
    )


def _installation(row: Any) -> SlackInstallation:
    return SlackInstallation(
        workspace=row.workspace,
        enterprise_id=row.enterprise_id,
        team_id=row.team_id,
        is_enterprise_install=bool(row.is_enterprise_install),
        bot_token=row.bot_token,
        token_encrypted=bool(row.token_encrypted),
        installed_at=row.installed_at,
        team_name=row.team_name,
        app_id=row.app_id,
        bot_id=row.bot_id,
        bot_user_id=row.bot_user_id,
        bot_scopes=row.bot_scopes,
        installer_user_id=row.installer_user_id,
    )


class SqlSlackInstalls(SqlBase):
    async def save_slack_installation(self, inst: SlackInstallation) -> None:
        """Insert or replace the workspace's installation; a reinstall after an uninstall
        also removes the subscriptions that uninstall deactivated (their history with them)."""
        values = {
            "enterprise_id": inst.enterprise_id,
            "team_id": inst.team_id,
            "team_name": inst.team_name,
            "is_enterprise_install": inst.is_enterprise_install,
            "app_id": inst.app_id,
            "bot_id": inst.bot_id,
            "bot_user_id": inst.bot_user_id,
            "bot_scopes": inst.bot_scopes,
            "bot_token": inst.bot_token,
            "token_encrypted": inst.token_encrypted,
            "installer_user_id": inst.installer_user_id,
            "active": True,
            "installed_at": inst.installed_at,
            "uninstalled_at": None,
        }
        where = slack_installations_t.c.workspace == inst.workspace
        async with self.engine.begin() as conn:
            previous = (
                await conn.execute(sa.select(slack_installations_t.c.active).where(where))
            ).first()
            if previous is None:
                await conn.execute(
                    sa.insert(slack_installations_t).values(workspace=inst.workspace, **values)
                )
                return
            if not previous.active:
                await conn.execute(
                    sa.delete(subscriptions_t).where(
                        _workspace_chats(inst.workspace),
                        subscriptions_t.c.deactivated_reason == UNINSTALLED,
                    )
                )
            await conn.execute(sa.update(slack_installations_t).where(where).values(values))

    async def find_slack_installation(self, workspace: str) -> SlackInstallation | None:
        """The workspace's active installation, or None (never installed, or uninstalled)."""
        stmt = sa.select(slack_installations_t).where(
            slack_installations_t.c.workspace == workspace,
            slack_installations_t.c.active.is_(True),
            slack_installations_t.c.bot_token.is_not(None),
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        return _installation(row) if row else None

    async def uninstall_slack_workspace(self, workspace: str, now: datetime) -> tuple[int, int]:
        """Forget the workspace's token, deactivate its subscriptions and cancel their pending
        items, in one transaction. Returns ``(subscriptions deactivated, items cancelled)``."""
        async with self.engine.begin() as conn:
            await conn.execute(
                sa.update(slack_installations_t)
                .where(slack_installations_t.c.workspace == workspace)
                .values(active=False, bot_token=None, token_encrypted=False, uninstalled_at=now)
            )
            return await _deactivate_workspace(conn, workspace, now)

    async def issue_oauth_state(self, state: str, expires_at: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                sa.insert(slack_oauth_states_t).values(state=state, expires_at=expires_at)
            )

    async def consume_oauth_state(self, state: str, now: datetime) -> bool:
        """True once for a state issued and not expired; expired states are swept meanwhile."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                sa.delete(slack_oauth_states_t).where(
                    slack_oauth_states_t.c.state == state, slack_oauth_states_t.c.expires_at > now
                )
            )
            await conn.execute(
                sa.delete(slack_oauth_states_t).where(slack_oauth_states_t.c.expires_at <= now)
            )
        return bool(result.rowcount)


async def _deactivate_workspace(
    conn: AsyncConnection, workspace: str, now: datetime
) -> tuple[int, int]:
    active = _workspace_chats(workspace) & subscriptions_t.c.active.is_(True)
    ids = list((await conn.execute(sa.select(subscriptions_t.c.id).where(active))).scalars())
    if not ids:
        return 0, 0
    await conn.execute(
        sa.update(subscriptions_t)
        .where(subscriptions_t.c.id.in_(ids))
        .values(active=False, deactivated_reason=UNINSTALLED, updated_at=now)
    )
    cancelled = await conn.execute(
        sa.update(outbox_t)
        .where(outbox_t.c.subscription_id.in_(ids), outbox_t.c.status == "pending")
        .values(status="failed", last_error=UNINSTALLED, claimed_until=None, claim_token=None)
    )
    return len(ids), int(cancelled.rowcount or 0)
