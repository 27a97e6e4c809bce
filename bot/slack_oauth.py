"""Slack OAuth mode: Bolt's install flow over our database.

With ``SLACK_CLIENT_ID``, ``SLACK_CLIENT_SECRET`` and ``SLACK_STATE_SECRET`` set, Bolt's
:class:`~slack_bolt.oauth.async_oauth_settings.AsyncOAuthSettings` serves ``/slack/install``
(the "Add to Slack" page) and ``/slack/oauth_redirect``, and finds each request's bot token
through :class:`SlackInstallations` (slack_sdk's ``AsyncInstallationStore`` interface) over
``bot.store``'s ``slack_installations`` table: one row per workspace, the token Fernet-encrypted
when ``DIGESTBOT_SECRET_KEY`` is set (:mod:`bot.token_cipher`).

slack_sdk ships ``AsyncSQLAlchemyInstallationStore``; it runs on an async engine but does not
fit this store: it creates its tables itself (``metadata.create_all``) rather than through our
Alembic migrations, keeps naive timestamps, stores tokens in clear in ``VARCHAR(200)`` columns
(Fernet ciphertext of a 57-character ``xoxb-`` token is 164 characters, of a 150-character
rotating token 292: measured with ``cryptography`` 50), and adds a row per install that every
look-up sorts through. The few methods Bolt calls are written here instead.

OAuth states are random nonces signed with ``SLACK_STATE_SECRET`` (HMAC-SHA256) and kept in
``slack_oauth_states`` until used once or expired; Bolt also ties each to the browser that
started the install with a cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.clock import utcnow
from bot.models import SlackInstallation
from bot.slack_workspaces import workspace_key
from bot.token_cipher import TokenCipher

__all__ = [
    "BOT_SCOPES",
    "InstallationStore",
    "SignedStateStore",
    "SlackInstallations",
    "build_oauth_settings",
]

log = logging.getLogger(__name__)

# The bot scopes the install asks for; config/slack-manifest.yml lists the same (a test checks).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "app_mentions:read",
    "im:write",
    "users:read",
    "channels:read",
    "groups:read",
)
STATE_SECONDS = 600  # an install started and not finished within 10 minutes starts over
TOKEN_CACHE_SECONDS = 60.0  # how long a worker trusts a token it read (others may uninstall)


class InstallationStore(Protocol):
    """What this module needs of ``bot.store.SqlStore``."""

    async def save_slack_installation(self, inst: SlackInstallation) -> None: ...

    async def find_slack_installation(self, workspace: str) -> SlackInstallation | None: ...

    async def uninstall_slack_workspace(self, workspace: str, now: datetime) -> tuple[int, int]: ...

    async def issue_oauth_state(self, state: str, expires_at: datetime) -> None: ...

    async def consume_oauth_state(self, state: str, now: datetime) -> bool: ...


class SlackInstallations(AsyncInstallationStore):
    """Installations for Bolt (``async_save``, ``async_find_bot``...), bot tokens for the
    sender (:class:`bot.slack_sender.WorkspaceTokens`) and uninstalls for the adapter."""

    def __init__(
        self,
        store: InstallationStore,
        cipher: TokenCipher,
        *,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._cipher = cipher
        self._clock = clock
        self._monotonic = monotonic
        self._tokens: dict[str, tuple[float, str | None]] = {}

    @property
    def logger(self) -> logging.Logger:
        return log

    # --- Bolt's side -------------------------------------------------------------------

    async def async_save(self, installation: Installation) -> None:
        await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        workspace = workspace_key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        if workspace is None or not bot.bot_token:
            raise ValueError("an installation without a workspace or a bot token")
        stored, encrypted = self._cipher.encrypt(bot.bot_token)
        await self._store.save_slack_installation(
            SlackInstallation(
                workspace=workspace,
                enterprise_id=bot.enterprise_id,
                team_id=bot.team_id,
                is_enterprise_install=bool(bot.is_enterprise_install),
                bot_token=stored,
                token_encrypted=encrypted,
                installed_at=self._clock(),
                team_name=bot.team_name,
                app_id=bot.app_id,
                bot_id=bot.bot_id,
                bot_user_id=bot.bot_user_id,
                bot_scopes=",".join(bot.bot_scopes),
            )
        )
        self.forget(workspace)
        log.info("slack: installed in workspace %s (%s)", workspace, bot.team_name or "?")

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        workspace = workspace_key(enterprise_id, team_id, is_enterprise_install)
        inst = await self._store.find_slack_installation(workspace) if workspace else None
        if inst is None and enterprise_id and not is_enterprise_install:
            # A team of an organisation where the app was installed org-wide.
            inst = await self._store.find_slack_installation(enterprise_id)
        if inst is None:
            return None
        return Bot(
            app_id=inst.app_id,
            enterprise_id=inst.enterprise_id,
            team_id=inst.team_id,
            team_name=inst.team_name,
            bot_token=self._cipher.decrypt(inst.bot_token, inst.token_encrypted),
            bot_id=inst.bot_id or "",
            bot_user_id=inst.bot_user_id or "",
            bot_scopes=inst.bot_scopes or "",
            is_enterprise_install=inst.is_enterprise_install,
            installed_at=inst.installed_at.timestamp(),
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        bot = await self.async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        if bot is None:
            return None
        return Installation(
            app_id=bot.app_id,
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            team_name=bot.team_name,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
            user_id=user_id or "",
            is_enterprise_install=bot.is_enterprise_install,
            installed_at=bot.installed_at,
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        workspace = workspace_key(enterprise_id, team_id, is_enterprise_install=False)
        if workspace is not None:
            await self.uninstall(workspace, "bot deleted")

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if user_id is None:  # user tokens are never stored: only a whole install is deleted
            await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    # --- ours ----------------------------------------------------------------------------

    async def uninstall(self, workspace: str, why: str) -> None:
        """The workspace's token is gone: stop everything there, in one log line.

        Slack sends ``tokens_revoked`` and ``app_uninstalled`` for one uninstall: the second
        finds nothing left to stop and is logged at DEBUG only.
        """
        installed = await self._store.find_slack_installation(workspace) is not None
        subscriptions, items = await self._store.uninstall_slack_workspace(workspace, self._clock())
        self.forget(workspace)
        log.log(
            logging.INFO if installed or subscriptions else logging.DEBUG,
            "slack: %s in workspace %s: %d subscription(s) deactivated, %d pending card(s) "
            "cancelled",
            why,
            workspace,
            subscriptions,
            items,
        )

    async def bot_token(self, workspace: str) -> str | None:
        cached = self._tokens.get(workspace)
        now = self._monotonic()
        if cached is not None and now - cached[0] < TOKEN_CACHE_SECONDS:
            return cached[1]
        inst = await self._store.find_slack_installation(workspace)
        token = None if inst is None else self._cipher.decrypt(inst.bot_token, inst.token_encrypted)
        self._tokens[workspace] = (now, token)
        return token

    def forget(self, workspace: str) -> None:
        self._tokens.pop(workspace, None)


@dataclass
class SignedStateStore(AsyncOAuthStateStore):
    """OAuth states: ``nonce.signature``, the nonce kept in the database until used once."""

    store: InstallationStore
    secret: str
    clock: Callable[[], datetime] = utcnow
    expiration_seconds: int = STATE_SECONDS

    @property
    def logger(self) -> logging.Logger:
        return log

    def _sign(self, nonce: str) -> str:
        return hmac.new(self.secret.encode(), nonce.encode(), hashlib.sha256).hexdigest()[:32]

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        nonce = secrets.token_urlsafe(24)
        expires = self.clock() + timedelta(seconds=self.expiration_seconds)
        await self.store.issue_oauth_state(nonce, expires)
        return f"{nonce}.{self._sign(nonce)}"

    async def async_consume(self, state: str) -> bool:
        nonce, _, signature = (state or "").partition(".")
        if not nonce or not hmac.compare_digest(signature, self._sign(nonce)):
            log.warning("slack: an OAuth redirect came back with a state we did not sign")
            return False
        return await self.store.consume_oauth_state(nonce, self.clock())


def build_oauth_settings(
    *,
    client_id: str,
    client_secret: str,
    state_secret: str,
    redirect_uri: str | None,
    installations: SlackInstallations,
    store: InstallationStore,
) -> AsyncOAuthSettings:
    return AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        redirect_uri=redirect_uri,
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=SignedStateStore(store, state_secret),
        state_expiration_seconds=STATE_SECONDS,
    )
