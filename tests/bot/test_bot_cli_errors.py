"""``digestbot`` turns every project error into one line on stderr and an exit code by kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.errors import (
    EXIT_SETUP,
    ConfigError,
    DatabaseUrlError,
    DigestError,
    FeedsFileError,
    SetupError,
    SlackConfigError,
    StoreError,
    TelegramSetupError,
    mask_secrets,
    one_line,
)
from bot.settings import check_database_url
from digests.topics import TaxonomyError
from tests.telegram.fake_bot_api import fake_bot_api_process


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No .env and no settings from the developer's shell; a temp SQLite database."""
    import os

    monkeypatch.chdir(tmp_path)
    for name in os.environ:
        if name.startswith(("TELEGRAM_", "SLACK_", "DIGESTBOT_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("DIGESTBOT_FEEDS_FILE", str(tmp_path / "no-feeds.toml"))
    return monkeypatch


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("digestbot:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_slack_token_without_signing_secret(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("SLACK_BOT_TOKEN", "xoxb-1-secret-bot-token")
    assert main(["run", "--once"]) == EXIT_SETUP
    line = one_error_line(capsys)
    assert "SLACK_SIGNING_SECRET" in line and "SLACK_APP_TOKEN" in line
    assert "xoxb-1-secret-bot-token" not in line


def test_malformed_telegram_token_is_not_printed(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("TELEGRAM_BOT_TOKEN", "tok3n")
    assert main(["run", "--once"]) == EXIT_SETUP
    line = one_error_line(capsys)
    assert "TELEGRAM_BOT_TOKEN" in line and "@BotFather" in line
    assert "tok3n" not in line


def test_a_short_token_telegram_refuses_is_not_printed(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Well formed but short, so no token pattern catches it; Telegram (the fake) says 401.
    with fake_bot_api_process() as base_url:
        env.setenv("TELEGRAM_BOT_TOKEN", "7:Zq")
        env.setenv("TELEGRAM_BASE_URL", base_url)
        assert main(["run"]) == EXIT_SETUP
    line = one_error_line(capsys)
    assert "refused TELEGRAM_BOT_TOKEN" in line and "Unauthorized" in line
    assert "7:Zq" not in line


def test_database_url_of_another_database(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("DATABASE_URL", "mysql://bot:hunter22@db.example/news")
    assert main(["status"]) == EXIT_SETUP
    line = one_error_line(capsys)
    assert "DATABASE_URL" in line and "mysql://" in line and "postgresql://" in line
    assert "hunter22" not in line


def test_broken_feeds_file(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feeds = tmp_path / "feeds.toml"
    feeds.write_text('[[feeds]]\nname = "no url here"\n', encoding="utf-8")
    env.setenv("DIGESTBOT_FEEDS_FILE", str(feeds))
    assert main(["run", "--once"]) == EXIT_SETUP
    line = one_error_line(capsys)
    assert str(feeds) in line and "has no url" in line and "DIGESTBOT_FEEDS_FILE" in line


def test_broken_topics_file(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    topics = tmp_path / "topics.toml"
    topics.write_text("[topics\n", encoding="utf-8")
    env.setenv("DIGESTBOT_TOPICS_FILE", str(topics))
    assert main(["run", "--once"]) == EXIT_SETUP
    line = one_error_line(capsys)
    assert str(topics) in line and "DIGESTBOT_TOPICS_FILE" in line


def test_one_root_for_every_project_error() -> None:
    for error in (TelegramSetupError, SlackConfigError, FeedsFileError, DatabaseUrlError):
        assert issubclass(error, SetupError) and not issubclass(error, ValueError)
    assert issubclass(SetupError, ConfigError) and issubclass(TaxonomyError, ConfigError)
    assert issubclass(StoreError, DigestError) and not issubclass(StoreError, ConfigError)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("postgres://u:p@h/db", True),
        ("postgresql+asyncpg://h/db", True),
        ("sqlite:///x.db", True),
        ("SQLITE+AIOSQLITE:///x.db", True),
        ("mysql://u:p@h/db", False),
        ("sqlite+pysqlite:///x.db", False),
        ("postgresql+psycopg2://h/db", False),
        ("u:p@h/db", False),
        ("", False),
    ],
)
def test_database_url_schemes(url: str, ok: bool) -> None:
    if ok:
        assert check_database_url(url) == url
    else:
        with pytest.raises(DatabaseUrlError, match="DATABASE_URL") as caught:
            check_database_url(url)
        assert ":p@" not in str(caught.value)


def test_secrets_are_masked_whatever_their_length() -> None:
    text = "token x1 rejected; secret abc:defg and x1 again"
    assert mask_secrets(text, ["x1", "abc:defg", None, ""]) == (
        "token <hidden> rejected; secret <hidden> and <hidden> again"
    )
    # A secret containing another is masked whole.
    assert mask_secrets("key abcdef", ["abc", "abcdef"]) == "key <hidden>"
    assert one_line("a\n  b\n") == "a | b"


_TYPO = "DIGESTBOT_POLL_INTERVALL is not a setting (did you mean DIGESTBOT_POLL_INTERVAL?)"
_PREFIXED = "DIGESTBOT_DATABASE_URL is not a setting (did you mean DATABASE_URL?)"


@pytest.mark.parametrize(
    ("names", "said"),
    [
        (["DIGESTBOT_POLL_INTERVAL", "PATH", "DATABASE_URL"], []),  # all read, or not ours
        (["DIGESTBOT_POLL_INTERVALL"], [_TYPO]),
        (["DIGESTBOT_DATABASE_URL"], [_PREFIXED]),
        (["digestbot_log_level"], []),  # names are not case-sensitive
        (["DIGESTBOT_FROBNICATE"], ["DIGESTBOT_FROBNICATE is not a setting;"]),
        (["DIGESTBOT_TEST_POSTGRES_URL"], []),  # the test suite's own
    ],
)
def test_unknown_settings_are_named(names: list[str], said: list[str]) -> None:
    from bot.settings import unknown_settings

    got = unknown_settings(names)
    assert len(got) == len(said), got
    for line, start in zip(got, said, strict=True):
        assert line.startswith(start), line
        assert line.endswith("it is ignored (README: Configuration)")


def test_a_misspelt_setting_is_warned_of_and_the_command_still_runs(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    env.setenv("DIGESTBOT_POLL_INTERVALL", "60")
    (tmp_path / ".env").write_text("DIGESTBOT_DATABASE_URL=sqlite+aiosqlite:///elsewhere.db\n")
    assert main(["feeds", "list"]) == 0
    err = capsys.readouterr().err
    assert (
        "DIGESTBOT_POLL_INTERVALL is not a setting (did you mean DIGESTBOT_POLL_INTERVAL?)" in err
    )
    assert "DIGESTBOT_DATABASE_URL is not a setting (did you mean DATABASE_URL?)" in err
    assert "Traceback" not in err
