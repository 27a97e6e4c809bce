"""`digestbot run` as a real process: prints the sample cards, exits 0 on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from digests.config import CONFIG_DIR

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


async def _read_until(stream: asyncio.StreamReader, marker: str, seen: list[str]) -> None:
    while True:
        line = (await stream.readline()).decode()
        if not line:
            raise AssertionError(f"process ended before {marker!r}:\n{''.join(seen)}")
        seen.append(line)
        if marker in line:
            return


async def test_worker_process_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'proc.sqlite3'}",
        DIGESTBOT_FEEDS_FILE=str(CONFIG_DIR / "feeds.toml"),
        DIGESTBOT_POLL_INTERVAL="600",
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
            await _read_until(proc.stderr, "printing digests to the console", log)
            await _read_until(proc.stderr, "delivery: 3 card(s) sent", log)
            proc.send_signal(signal.SIGTERM)
            rest = (await proc.stderr.read()).decode()
            printed = (await proc.stdout.read()).decode()
            code = await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert code == 0, "".join(log) + rest
    assert "worker stopped" in rest
    assert printed.count("Editor's note") >= 1 and "Small ports, big stakes" in printed
