"""`digestbot run` as a real child process, for the tests that check the worker end to end:
a clean environment (no chat tokens from the developer's shell), the sample feed, and a
reader that waits for a log line."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from digests.config import CONFIG_DIR


def worker_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'proc.sqlite3'}",
        DIGESTBOT_FEEDS_FILE=str(CONFIG_DIR / "feeds.toml"),  # local sample files only
        DIGESTBOT_POLL_INTERVAL="600",
    )
    env.update(extra)
    return env


@asynccontextmanager
async def worker_process(
    tmp_path: Path, env: dict[str, str]
) -> AsyncIterator[asyncio.subprocess.Process]:
    """The running worker; killed on the way out if the test did not stop it."""
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
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def read_until(stream: asyncio.StreamReader, marker: str, seen: list[str]) -> None:
    while True:
        line = (await stream.readline()).decode()
        if not line:
            raise AssertionError(f"process ended before {marker!r}:\n{''.join(seen)}")
        seen.append(line)
        if marker in line:
            return
