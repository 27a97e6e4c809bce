"""``digestbot status``: the operator's first look, and its exit code for health checks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.ports import ChatRef
from bot.settings import Settings
from bot.status_cli import format_status
from bot.store import FeedRecord, SqlStore, Subscription, async_database_url

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def feed(url: str, *, errors: int = 0, polled: bool = True) -> FeedRecord:
    return FeedRecord(
        id=1,
        url=url,
        name=None,
        topics=(),
        etag=None,
        last_modified=None,
        ttl_minutes=None,
        error_count=errors,
        last_error="HTTP 500" if errors else None,
        next_poll_at=None,
        last_polled_at=NOW if polled else None,
        added_at=NOW,
        initialized=polled,
    )


SUBS = [Subscription(ChatRef("telegram", "1")), Subscription(ChatRef("telegram", "2")),
        Subscription(ChatRef("slack", "C1"))]  # fmt: skip


@pytest.mark.parametrize(
    ("feeds", "outbox", "expected", "attention"),
    [
        (
            [feed("a"), feed("b", polled=False)],
            {"sent": 4},
            "2 (1 ok, 0 failing, 1 not polled",
            False,
        ),
        ([feed("a"), feed("b", errors=3)], {}, "FAILING x3: b: HTTP 500", True),
        # failed sends are history (a chat blocked the bot), not a problem holding now
        ([feed("a")], {"pending": 2, "failed": 1}, "2 pending, 0 sent, 1 failed", False),
        ([], {}, "feeds: 0", False),
    ],
)
def test_format_status(
    feeds: list[FeedRecord], outbox: dict[str, int], expected: str, attention: bool
) -> None:
    text, needs_attention = format_status(feeds, SUBS, outbox)
    assert expected in text
    assert "active subscriptions: 3 (1 on slack, 2 on telegram)" in text
    assert needs_attention is attention


def test_status_command_on_a_fresh_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "feeds: 0" in out and "active subscriptions: 0 (none)" in out


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p@db.example:5432/app", "postgresql+asyncpg://u:p@db.example:5432/app"),
        ("postgresql://postgres@127.0.0.1/test", "postgresql+asyncpg://postgres@127.0.0.1/test"),
        ("postgresql+asyncpg://h/db", "postgresql+asyncpg://h/db"),
        ("sqlite:///digestbot.sqlite3", "sqlite+aiosqlite:///digestbot.sqlite3"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("mysql+aiomysql://h/db", "mysql+aiomysql://h/db"),
    ],
)
def test_database_urls_get_the_async_driver(given: str, used: str) -> None:
    assert async_database_url(given) == used


def test_unreachable_database_is_one_clear_line_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as probe:  # a local port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://bot:s3cret@127.0.0.1:{port}/db")
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert f"cannot use the database at postgresql://bot:***@127.0.0.1:{port}/db" in err
    assert "s3cret" not in err and "Traceback" not in err


def test_a_mistyped_setting_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGESTBOT_POLL_INTERVAL", "ten minutes")
    assert main(["status"]) == 2
    assert "DIGESTBOT_POLL_INTERVAL" in capsys.readouterr().err


def test_format_workers_names_live_dead_leases_and_the_lock_holder() -> None:
    from datetime import timedelta

    from bot.models import WorkerRecord
    from bot.status_cli import format_workers

    def worker(name: str, seen: float, holds: bool = False) -> WorkerRecord:
        at = NOW - timedelta(seconds=seen)
        return WorkerRecord(name, "h", 1, ("poll", "deliver", "updates"), holds, at, at)

    text = format_workers(
        [worker("w1", 2, holds=True), worker("w2", 4), worker("w3", 60, holds=True)],
        {"w2": (3, 40)},
        NOW,
        15,
    )
    assert text.splitlines()[0] == "workers: 2 live, 1 dead"
    assert "w1 (poll,deliver,updates): seen 2 s ago, leases 0 feed(s) 0 chat(s), holds" in text
    assert "w2 (poll,deliver,updates): seen 4 s ago, leases 3 feed(s) 40 chat(s)" in text
    assert "w3 (poll,deliver,updates): DEAD (no heartbeat for 60 s)" in text
    assert text.splitlines()[-1] == "update lock (Telegram long polling): w1"


async def test_the_leases_clock_on_sqlite_is_the_callers(store: SqlStore) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert await store.leases_clock(when) == when


def test_an_empty_variable_is_read_as_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a compose file's `DIGESTBOT_POLL_INTERVAL: ${DIGESTBOT_POLL_INTERVAL}` passes it when
    # the operator set nothing; in a .env file too.
    monkeypatch.chdir(tmp_path)
    for name in ("DIGESTBOT_POLL_INTERVAL", "DIGESTBOT_GC_THRESHOLD", "DIGESTBOT_ROLES"):
        monkeypatch.setenv(name, "")
    for name in ("DIGESTBOT_FETCH_TIMEOUT", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)  # the .env file's lines are what is read
    (tmp_path / ".env").write_text("DIGESTBOT_FETCH_TIMEOUT=\nTELEGRAM_BOT_TOKEN=\n")
    settings = Settings.load()
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.poll_interval == defaults.poll_interval == 600
    assert settings.gc_threshold == defaults.gc_threshold
    assert settings.roles == defaults.roles
    assert settings.fetch_timeout == defaults.fetch_timeout
    assert settings.telegram_bot_token is None
