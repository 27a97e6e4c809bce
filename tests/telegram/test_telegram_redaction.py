"""The bot token stays out of log lines, whatever its shape."""

from __future__ import annotations

import logging

from bot.telegram_redaction import RedactTokenFilter, redact_token


def test_a_short_configured_token_is_redacted_from_logs() -> None:
    redactor = RedactTokenFilter()
    redactor.tokens.add("7:Zq")
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, "GET %s", ("/bot7:Zq/getMe",), None
    )
    assert redactor.filter(record) and record.getMessage() == "GET /bot<token>/getMe"


def test_token_shaped_strings_are_redacted_without_being_configured() -> None:
    token = "123456789:AAbbccddeeffgghhiijjkkllmmnnoopp"
    assert redact_token(f"url /bot{token}/x") == "url /bot<token>/x"
