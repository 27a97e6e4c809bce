"""Telegram's wiring details: the webhook settings (a secret is required) and the HTTP
requests PTB sends through (aiohttp)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from telegram.request import BaseRequest

from bot.errors import TelegramSetupError
from bot.settings import Settings
from bot.telegram_request import AiohttpRequest

__all__ = ["WebhookConfig", "make_request", "webhook_config"]

_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    url: str
    secret: str
    listen: str
    port: int

    @property
    def path(self) -> str:
        return urlsplit(self.url).path.lstrip("/")


def make_request(pool_size: int, *, read_timeout: float | None = 5.0) -> BaseRequest:
    return AiohttpRequest(
        connection_pool_size=pool_size, read_timeout=read_timeout, pool_timeout=5.0
    )


def webhook_config(settings: Settings) -> WebhookConfig | None:
    """``None`` for long polling; fails fast on a webhook without a usable secret."""
    if not settings.telegram_webhook_url:
        return None
    secret = settings.telegram_webhook_secret
    if secret is None or not secret.get_secret_value():
        raise TelegramSetupError(
            "TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is not: set a secret "
            "(1-256 characters A-Z, a-z, 0-9, _ and -) so that only Telegram can post updates, "
            "or unset TELEGRAM_WEBHOOK_URL to use long polling."
        )
    if not _SECRET_TOKEN.fullmatch(secret.get_secret_value()):
        raise TelegramSetupError(
            "TELEGRAM_WEBHOOK_SECRET may only use A-Z, a-z, 0-9, _ and - (1-256 characters)."
        )
    return WebhookConfig(
        url=settings.telegram_webhook_url,
        secret=secret.get_secret_value(),
        listen=settings.telegram_webhook_listen,
        port=settings.telegram_webhook_port,
    )
