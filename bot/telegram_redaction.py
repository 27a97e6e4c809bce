"""Keeping the Telegram bot token out of logs and error messages.

The Bot API puts the token in every URL (``.../bot<token>/getUpdates``): httpx logs request
URLs at INFO, a traceback can carry one, and PTB quotes the token in its ``InvalidToken``
message. :func:`redact_token` replaces anything shaped like a token; the log filter also
replaces the configured token itself, whatever its shape or length.
"""

from __future__ import annotations

import logging
import re

__all__ = ["RedactTokenFilter", "install_token_redaction", "redact_token"]

# A bot token (``123456789:AA...``, 35 characters after the colon), as it appears in Bot API
# URLs (``/bot<token>/sendMessage``) and in PTB's InvalidToken message.
_TOKEN = re.compile(r"\d{3,}:[\w-]{20,}")
MASK = "<token>"


def redact_token(text: str, *tokens: str) -> str:
    """``text`` with any token-shaped string and each of ``tokens`` replaced."""
    for token in tokens:
        if token:
            text = text.replace(token, MASK)
    return _TOKEN.sub(MASK, text)


class RedactTokenFilter(logging.Filter):
    """Removes bot tokens from a record's message and traceback.

    Installed on the root handlers and on the ``httpx`` logger by
    :func:`install_token_redaction`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_token(message, *self.tokens)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_token(record.exc_text, *self.tokens)
        return True


_REDACTOR = RedactTokenFilter()


def install_token_redaction(token: str | None = None) -> None:
    """Idempotent; handlers added to the root logger later are covered at the next call.
    ``token``, the configured one, is masked as it is, even when it is not token-shaped."""
    if token:
        _REDACTOR.tokens.add(token)
    for target in (logging.getLogger("httpx"), *logging.getLogger().handlers):
        if _REDACTOR not in target.filters:
            target.addFilter(_REDACTOR)
    # PTB's request log lines add nothing at INFO but the token-bearing URL.
    httpx_logger = logging.getLogger("httpx")
    if httpx_logger.getEffectiveLevel() < logging.WARNING:
        httpx_logger.setLevel(logging.WARNING)
