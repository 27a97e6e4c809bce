"""Which Slack mode the settings ask for, checked before anything is built.

* One workspace: ``SLACK_BOT_TOKEN`` (plus ``SLACK_APP_TOKEN`` for Socket Mode or
  ``SLACK_SIGNING_SECRET`` for HTTP), exactly as before OAuth existed.
* Any number of workspaces (OAuth): ``SLACK_CLIENT_ID``, ``SLACK_CLIENT_SECRET`` and
  ``SLACK_STATE_SECRET``, with ``SLACK_SIGNING_SECRET`` (the install pages and, unless
  ``SLACK_APP_TOKEN`` is set, the events are served over HTTP). No bot token: each workspace's
  comes from its install.

Bolt reads ``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET`` from the environment by itself and
switches to OAuth mode without an installation store; half an OAuth setup is therefore refused
here with a message, never left to Bolt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.errors import SlackConfigError
from bot.settings import Settings

__all__ = ["SlackOAuthConfig", "check_oauth_settings", "check_settings"]


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def _check_app_token(app_token: str | None) -> None:
    if app_token is not None and not app_token.startswith("xapp-"):
        raise SlackConfigError(
            "SLACK_APP_TOKEN must be an app-level token (xapp-…) with the connections:write"
            " scope, from Basic Information > App-Level Tokens"
        )


def check_settings(settings: Settings) -> tuple[str, str | None, str | None]:
    """``(bot_token, signing_secret, app_token)``; :class:`SlackConfigError` says what to set."""
    token = _secret(settings.slack_bot_token)
    secret = _secret(settings.slack_signing_secret)
    app_token = _secret(settings.slack_app_token)
    if not token:
        raise SlackConfigError("SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…)")
    if not token.startswith("xox"):
        raise SlackConfigError(
            "SLACK_BOT_TOKEN must be the Bot User OAuth Token (xoxb-…) from OAuth & Permissions;"
            " an xapp- token belongs in SLACK_APP_TOKEN"
        )
    _check_app_token(app_token)
    if not app_token and not secret:
        raise SlackConfigError(
            "SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor"
            " SLACK_SIGNING_SECRET (HTTP mode, /slack/events) is: set one of them"
        )
    return token, secret, app_token


@dataclass(frozen=True)
class SlackOAuthConfig:
    client_id: str
    client_secret: str
    state_secret: str
    signing_secret: str
    app_token: str | None
    redirect_uri: str | None


def check_oauth_settings(settings: Settings) -> SlackOAuthConfig:
    """The OAuth settings, complete, or :class:`SlackConfigError` naming what is missing."""
    values = {
        "SLACK_CLIENT_ID": settings.slack_client_id,
        "SLACK_CLIENT_SECRET": _secret(settings.slack_client_secret),
        "SLACK_STATE_SECRET": _secret(settings.slack_state_secret),
        "SLACK_SIGNING_SECRET": _secret(settings.slack_signing_secret),
    }
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise SlackConfigError(
            "Slack OAuth (installs in many workspaces) needs SLACK_CLIENT_ID, SLACK_CLIENT_SECRET,"
            " SLACK_STATE_SECRET (any long random string) and SLACK_SIGNING_SECRET; not set: "
            + ", ".join(missing)
        )
    if settings.slack_bot_token is not None:
        raise SlackConfigError(
            "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set: unset SLACK_BOT_TOKEN for OAuth"
            " (each workspace's token comes from its install), or the SLACK_CLIENT_* variables"
            " for one workspace"
        )
    app_token = _secret(settings.slack_app_token)
    _check_app_token(app_token)
    return SlackOAuthConfig(
        client_id=str(values["SLACK_CLIENT_ID"]),
        client_secret=str(values["SLACK_CLIENT_SECRET"]),
        state_secret=str(values["SLACK_STATE_SECRET"]),
        signing_secret=str(values["SLACK_SIGNING_SECRET"]),
        app_token=app_token,
        redirect_uri=settings.slack_redirect_uri,
    )
