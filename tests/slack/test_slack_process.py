"""`digestbot run` with Slack credentials, as a real process: serves /slack/events over HTTP,
answers a signed /digest, never logs a secret, and exits 0 on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from digests.config import CONFIG_DIR
from tests.slack.conftest import SIGNING_SECRET
from tests.slack.fake_slack_api import FakeSlackApi
from tests.slack.slack_requests import SlackRequests

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

BOT_TOKEN = "xoxb-process-test-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def read_until(stream: asyncio.StreamReader, marker: str, seen: list[str]) -> None:
    while True:
        line = (await stream.readline()).decode()
        if not line:
            raise AssertionError(f"process ended before {marker!r}:\n{''.join(seen)}")
        seen.append(line)
        if marker in line:
            return


async def test_worker_serves_slack_over_http_and_stops_on_sigterm(
    tmp_path: Path, fake_api: FakeSlackApi
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_api.base_url,
        PORT=str(port),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'proc.sqlite3'}",
        DIGESTBOT_FEEDS_FILE=str(CONFIG_DIR / "feeds.toml"),  # local sample files only
        DIGESTBOT_POLL_INTERVAL="600",
        DIGESTBOT_LOG_LEVEL="DEBUG",  # the strictest setting for "no secret in the log"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None and proc.stdout is not None
    log: list[str] = []
    try:
        async with asyncio.timeout(60):
            await read_until(proc.stderr, "slack: serving /slack/events", log)
            slack = SlackRequests(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET)
            status, _ = await slack.command(
                "subscribe trade", response_url=fake_api.response_url("proc")
            )
            assert status == 200
            await fake_api.wait_for(lambda: bool(fake_api.responses["proc"]), within=20)
            proc.send_signal(signal.SIGTERM)
            rest = (await proc.stderr.read()).decode()
            await proc.stdout.read()
            code = await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    output = "".join(log) + rest
    assert code == 0, output
    assert "worker stopped" in rest
    slack_warnings = [line for line in output.splitlines() if "WARNING bot.slack" in line]
    assert slack_warnings == []  # a clean start: nothing for ops to wonder about
    assert "trade" in fake_api.responses["proc"][0]["text"]
    assert BOT_TOKEN not in output
    assert SIGNING_SECRET not in output
