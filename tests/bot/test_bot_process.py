"""`digestbot run` as a real process: prints the sample cards, exits 0 on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from tests.worker_process import read_until, worker_env, worker_process

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


async def test_worker_process_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    log: list[str] = []
    async with worker_process(tmp_path, worker_env(tmp_path)) as proc:
        assert proc.stderr is not None and proc.stdout is not None
        async with asyncio.timeout(60):
            await read_until(proc.stderr, "printing digests to the console", log)
            await read_until(proc.stderr, "delivery: 3 card(s) sent", log)
            proc.send_signal(signal.SIGTERM)
            rest = (await proc.stderr.read()).decode()
            printed = (await proc.stdout.read()).decode()
            code = await proc.wait()
    assert code == 0, "".join(log) + rest
    assert "worker stopped" in rest
    assert printed.count("Editor's note") >= 1 and "Small ports, big stakes" in printed
