"""`digestbot run` with Slack credentials, as a real process: serves /slack/events over HTTP,
answers a signed /digest, never logs a secret, and exits 0 on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import pytest

from tests.slack.conftest import SIGNING_SECRET
from tests.slack.fake_slack_api import FakeSlackApi
from tests.slack.slack_requests import SlackRequests
from tests.worker_process import read_until, worker_env, worker_process

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

BOT_TOKEN = "xoxb-process-test-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_worker_serves_slack_over_http_and_stops_on_sigterm(
    tmp_path: Path, fake_api: FakeSlackApi
) -> None:
    port = free_port()
    env = worker_env(
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_api.base_url,
        PORT=str(port),
        DIGESTBOT_LOG_LEVEL="DEBUG",  # the strictest setting for "no secret in the log"
    )
    log: list[str] = []
    async with worker_process(tmp_path, env) as proc:
        assert proc.stderr is not None and proc.stdout is not None
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
    output = "".join(log) + rest
    assert code == 0, output
    assert "worker stopped" in rest
    slack_warnings = [line for line in output.splitlines() if "WARNING bot.slack" in line]
    assert slack_warnings == []  # a clean start: nothing for ops to wonder about
    assert "trade" in fake_api.responses["proc"][0]["text"]
    assert BOT_TOKEN not in output
    assert SIGNING_SECRET not in output
