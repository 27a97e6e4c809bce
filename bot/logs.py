"""Logging set-up for the worker and the command line: human-readable lines by default, one
JSON object per line with ``DIGESTBOT_LOG_FORMAT=json`` (for log shippers).

JSON lines carry ``time``, ``level``, ``logger`` and ``message``, plus the ``feed``, ``chat``
and ``platform`` fields that a log call passes in ``extra``.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

__all__ = ["configure_logging", "json_formatter"]

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Only fields a log line may carry in ``extra``; anything else stays out of the JSON.
_CONTEXT_FIELDS = ("feed", "chat", "platform", "worker")


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    class _Formatter(JsonFormatter):
        def add_fields(
            self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: Any
        ) -> None:
            log_record["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            )
            log_record["level"] = record.levelname
            log_record["logger"] = record.name
            log_record["message"] = record.getMessage()
            for name in _CONTEXT_FIELDS:
                value = getattr(record, name, None)
                if value is not None:
                    log_record[name] = value
            if record.exc_info:
                # exc_text when set: bot.secret_masking leaves the masked traceback there.
                log_record["exception"] = record.exc_text or self.formatException(record.exc_info)

    return _Formatter()


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Root logging to standard error, at ``level``, as text or JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter() if fmt == "json" else logging.Formatter(_TEXT_FORMAT))
    # Like basicConfig, leaves a root logger that already has handlers (an embedding
    # application, pytest's capture) alone.
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler])
    # httpx logs every request URL at INFO; the Telegram Bot API puts the token in the URL.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
