"""The Bolt app, its web client and the delivery sender, for either Slack mode.

One workspace (``SLACK_BOT_TOKEN``): a client with that token, as before OAuth existed.
OAuth: a client without a token (each request and each send gets its workspace's), Bolt's
:class:`~slack_bolt.oauth.async_oauth_settings.AsyncOAuthSettings` over our installation and
state stores (:mod:`bot.slack_oauth`), tokens encrypted with ``DIGESTBOT_SECRET_KEY``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages as msg
from bot.errors import SlackConfigError
from bot.settings import Settings
from bot.slack_oauth import InstallationStore, SlackInstallations, build_oauth_settings
from bot.slack_sender import SlackSender, delivery_client
from bot.slack_settings import check_oauth_settings, check_settings
from bot.token_cipher import TokenCipher

__all__ = ["SlackParts", "build_bolt"]

log = logging.getLogger(__name__)


class _ClientGivenFilter(logging.Filter):
    """Bolt reads ``SLACK_BOT_TOKEN`` from the environment by itself and then warns, at every
    start, that the client we pass (the one pointed at ``SLACK_API_URL``) wins over it. That
    is what we want, so the warning is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def _bolt_logger() -> logging.Logger:
    # slack_sdk logs every request and response at DEBUG, bodies included: oauth.v2.access
    # answers with the new bot token in its body. Tokens are never logged, whatever the level.
    sdk_log = logging.getLogger("slack_sdk")
    if sdk_log.level < logging.INFO:  # NOTSET too: a DEBUG root must not reach it
        sdk_log.setLevel(logging.INFO)
    bolt_log = logging.getLogger("bot.slack.bolt")
    if not any(isinstance(f, _ClientGivenFilter) for f in bolt_log.filters):
        bolt_log.addFilter(_ClientGivenFilter())
    return bolt_log


@dataclass(frozen=True)
class SlackParts:
    bolt: AsyncApp
    client: AsyncWebClient
    sender: SlackSender
    app_token: str | None
    installations: SlackInstallations | None  # OAuth mode only


def build_bolt(settings: Settings, store: InstallationStore | None) -> SlackParts:
    if settings.slack_oauth:
        return _build_oauth(settings, store)
    token, secret, app_token = check_settings(settings)
    client = delivery_client(token, settings.slack_api_url)
    bolt = AsyncApp(
        client=client,
        # Socket Mode requests are not signed; Bolt skips verification for them by itself.
        signing_secret=secret or "",
        name="digestbot",
        logger=_bolt_logger(),
    )
    return SlackParts(bolt, client, SlackSender(client), app_token, None)


def _build_oauth(settings: Settings, store: InstallationStore | None) -> SlackParts:
    config = check_oauth_settings(settings)
    if store is None:
        raise SlackConfigError("Slack OAuth mode keeps installations in the database: no store")
    key = settings.secret_key.get_secret_value() if settings.secret_key is not None else None
    cipher = TokenCipher(key)
    if not cipher.enabled:
        log.warning(
            "slack: DIGESTBOT_SECRET_KEY is not set: bot tokens are stored unencrypted; "
            "set it to a Fernet key to encrypt them"
        )
    installations = SlackInstallations(store, cipher)
    client = AsyncWebClient(base_url=settings.slack_api_url, retry_handlers=[])
    bolt = AsyncApp(
        client=client,
        signing_secret=config.signing_secret,
        name="digestbot",
        logger=_bolt_logger(),
        oauth_settings=build_oauth_settings(
            client_id=config.client_id,
            client_secret=config.client_secret,
            state_secret=config.state_secret,
            redirect_uri=config.redirect_uri,
            installations=installations,
            store=store,
        ),
        installation_store_bot_only=True,
        user_facing_authorize_error_message=msg.SLACK_NOT_INSTALLED,
    )
    sender = SlackSender(client, tokens=installations)
    return SlackParts(bolt, client, sender, config.app_token, installations)
