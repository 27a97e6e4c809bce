"""The operators' HTTP endpoint (``DIGESTBOT_HTTP_PORT``): ``/healthz``, ``/readyz``, ``/metrics``.

* ``GET /healthz``: the process runs and its event loop is not stuck (a watchdog task beats
  every second; a beat older than ``stuck_after`` seconds means the loop is blocked): 200 or
  503. For a liveness probe.
* ``GET /readyz``: the database answers, its schema is the one this code ships, and at least
  one chat platform is started: 200 or 503, with a JSON body naming each check's result. For
  a readiness probe or a load balancer.
* ``GET /metrics``: Prometheus text format (``bot.metrics``), with the outbox gauges read from
  the database at scrape time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from aiohttp import web

from bot.metrics import CONTENT_TYPE, Metrics

__all__ = ["LoopWatch", "OpsServer", "ReadinessSource"]

log = logging.getLogger(__name__)


class OpsStore(Protocol):
    async def ping(self) -> None: ...

    async def schema_revision(self) -> str | None: ...

    async def outbox_by_platform(self, now: datetime) -> dict[str, tuple[int, float | None]]: ...


@dataclass
class ReadinessSource:
    """What ``/readyz`` and ``/metrics`` read, handed over by the App."""

    store: OpsStore
    head_revision: str | None
    platforms_started: Callable[[], list[str]]
    clock: Callable[[], datetime]
    metrics: Metrics = field(default_factory=Metrics)
    timeout: float = 3.0


class LoopWatch:
    """Beats every ``interval`` seconds; the lag of each beat shows a busy or blocked loop."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self.last_beat = time.monotonic()
        self.lag = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="digestbot-loop-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.interval)
            now = time.monotonic()
            self.lag = max(0.0, now - before - self.interval)
            self.last_beat = now

    def stuck(self, after: float) -> bool:
        return time.monotonic() - self.last_beat > after


async def _check(probe: Awaitable[str], limit: float) -> tuple[str, bool]:
    try:
        return await asyncio.wait_for(probe, limit), True
    except TimeoutError:
        return f"error: no answer within {limit:.0f} s", False
    except Exception as exc:
        return f"error: {type(exc).__name__}: {str(exc)[:200]}", False


class OpsServer:
    def __init__(
        self,
        source: ReadinessSource,
        *,
        host: str = "0.0.0.0",
        port: int = 8080,
        stuck_after: float = 10.0,
    ) -> None:
        self.source = source
        self.host = host
        self.port = port
        self.stuck_after = stuck_after
        self.watch = LoopWatch()
        self._runner: web.AppRunner | None = None

    def web_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)
        return app

    async def start(self) -> None:
        self.watch.start()
        self._runner = web.AppRunner(self.web_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        log.info(
            "operations endpoint on http://%s:%d (/healthz /readyz /metrics)", self.host, self.port
        )

    async def stop(self) -> None:
        await self.watch.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def healthz(self, request: web.Request) -> web.Response:
        stuck = self.watch.stuck(self.stuck_after)
        body = {"ok": not stuck, "loop_lag_seconds": round(self.watch.lag, 3)}
        return web.json_response(body, status=503 if stuck else 200)

    async def readyz(self, request: web.Request) -> web.Response:
        src = self.source

        async def database() -> str:
            await src.store.ping()
            return "ok"

        async def schema() -> str:
            current = await src.store.schema_revision()
            if current != src.head_revision:
                raise RuntimeError(
                    f"database at {current or 'no schema'}, code expects {src.head_revision}; "
                    "run `digestbot db upgrade`"
                )
            return "ok"

        checks: dict[str, str] = {}
        ready = True
        for name, probe in (("database", database()), ("schema", schema())):
            checks[name], ok = await _check(probe, src.timeout)
            ready = ready and ok
        started = src.platforms_started()
        checks["platforms"] = f"ok: {', '.join(started)}" if started else "error: none started"
        ready = ready and bool(started)
        return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        src = self.source
        try:
            outbox = await asyncio.wait_for(src.store.outbox_by_platform(src.clock()), src.timeout)
        except Exception as exc:  # the counters are still worth serving without the gauges
            log.warning("metrics: outbox gauges not refreshed: %s", exc)
        else:
            src.metrics.set_outbox(outbox)
        return web.Response(body=src.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})
