"""Every configured secret is masked by value in log lines (text and JSON, tracebacks too) and
in the command line's error lines, whatever its shape; passwords where they stand as one."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import _say
from bot.logs import json_formatter
from bot.secret_masking import SecretMasker, install_secret_masking, url_password
from tests.bot.conftest import make_settings

TOKENS = [
    "7:Zq",  # short and malformed: no token pattern matches it
    "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    "xoxb-1234-5678-abcdefghijkl",
    "xapp-1-A0123-456-deadbeef",
    "8f742231b10e8888abcd99yyyzzz85a5",  # a signing secret
    "s",  # one character: masked too, it is what was configured
]


@pytest.mark.parametrize("secret", TOKENS)
def test_any_configured_value_is_masked(secret: str) -> None:
    masker = SecretMasker([secret])
    line = f"request to https://api.example/bot{secret}/getMe failed: {secret!r}"
    assert secret not in masker.mask(line).replace("<hidden>", "")


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        (
            "cannot connect to postgresql://bot:postgres@db:5432/postgres",
            "cannot connect to postgresql://bot:<hidden>@db:5432/postgres",
        ),
        ("asyncpg: password=postgres host=db", "asyncpg: password=<hidden> host=db"),
        ('{"password": "postgres"}', '{"password": "<hidden>"}'),
        ("PASSWORD: postgres", "PASSWORD: <hidden>"),
        ("redis://:p%40ss@cache:6379/0", "redis://:<hidden>@cache:6379/0"),
        ("the postgres database is up", "the postgres database is up"),  # a word, not a password
    ],
)
def test_passwords_are_masked_where_they_stand_as_passwords(line: str, masked: str) -> None:
    masker = SecretMasker([], ["postgres", "p@ss"])
    assert masker.mask(line) == masked


def test_url_password() -> None:
    assert url_password("postgresql+asyncpg://bot:h%40nter@db/x") == "h@nter"
    assert url_password("sqlite+aiosqlite:///x.sqlite3") is None
    assert url_password("postgresql://[bad") is None


@pytest.fixture
def root_output() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """Two root handlers, text and JSON, writing to strings; removed afterwards."""
    text, as_json = io.StringIO(), io.StringIO()
    handlers = [logging.StreamHandler(text), logging.StreamHandler(as_json)]
    handlers[0].setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handlers[1].setFormatter(json_formatter())
    root = logging.getLogger()
    for handler in handlers:
        root.addHandler(handler)
    try:
        yield text, as_json
    finally:
        for handler in handlers:
            root.removeHandler(handler)


def test_log_lines_and_tracebacks_are_masked(
    root_output: tuple[io.StringIO, io.StringIO], tmp_path: Path
) -> None:
    settings = make_settings(
        "postgresql+asyncpg://bot:hunter22@127.0.0.1/news",
        tmp_path,
        telegram_bot_token="7:Zq",
        slack_bot_token="xoxb-1234-5678-abcdefghijkl",
        slack_signing_secret="8f742231b10e8888abcd99yyyzzz85a5",
        slack_app_token="xapp-1-A0123-456-deadbeef",
    )
    install_secret_masking(settings.secret_values(), settings.secret_passwords())
    log = logging.getLogger("digestbot.test")
    log.warning("token %s and app token %s", "7:Zq", "xapp-1-A0123-456-deadbeef")
    log.error("db postgresql://bot:hunter22@127.0.0.1/news unreachable")
    try:
        raise RuntimeError("signature check with 8f742231b10e8888abcd99yyyzzz85a5 failed")
    except RuntimeError:
        log.exception("slack xoxb-1234-5678-abcdefghijkl refused")
    text, as_json = (stream.getvalue() for stream in root_output)
    records = [json.loads(line) for line in as_json.splitlines()]
    assert len(records) == 3 and "Traceback" in records[2]["exception"]
    assert "Traceback" in text and text.count("<hidden>") >= 5
    for output in (text, as_json):
        for secret in [*settings.secret_values(), "hunter22"]:
            assert secret not in output, secret


def test_the_command_line_error_line_masks_the_database_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:hunter22@db.example/news")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-9")
    _say("driver said: password=hunter22 refused for postgresql://bot:hunter22@db.example; xapp-9")
    err = capsys.readouterr().err
    assert "hunter22" not in err and "xapp-9" not in err
    assert "postgresql://bot:<hidden>@db.example" in err
