"""The operators' side of a running worker, wired by the App: metrics, the HTTP endpoint,
alerts to the admin chats, and the worker's start/stop marks (crash detection)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.alerts import Alerts, AlertThresholds, observe
from bot.delivery import Delivery
from bot.metrics import Metrics
from bot.models import ChatRef
from bot.ops_http import OpsServer, ReadinessSource
from bot.settings import Settings
from bot.store import SqlStore
from bot.store.ops import head_revision

__all__ = ["AdminReports", "Operations"]

log = logging.getLogger(__name__)


class Operations:
    def __init__(
        self,
        settings: Settings,
        store: SqlStore,
        delivery: Delivery,
        metrics: Metrics,
        *,
        clock: Callable[[], datetime],
        platforms_started: Callable[[], list[str]],
    ) -> None:
        from datetime import timedelta

        self.settings = settings
        self.store = store
        self.delivery = delivery
        self.metrics = metrics
        self.clock = clock
        self.alerts = Alerts(
            store,
            settings.admin_chat_refs(),
            thresholds=AlertThresholds(
                feed_failing=timedelta(hours=settings.alert_feed_failing_hours),
                outbox_age=timedelta(minutes=settings.alert_outbox_minutes),
            ),
            metrics=metrics,
        )
        self._platforms_started = platforms_started
        self.server: OpsServer | None = None

    async def check_alerts(self) -> int:
        """Observe the conditions now and queue what the admin chats should hear."""
        now = self.clock()
        feeds = await self.store.list_feeds()
        outbox = await self.store.outbox_by_platform(now)
        self.metrics.set_outbox(outbox)
        observations = observe(
            feeds,
            self.delivery.paused_platforms(),
            outbox,
            self.alerts.thresholds,
            platforms=self.delivery.senders,
        )
        return await self.alerts.check(observations, now)

    async def start(self, roles: list[str]) -> None:
        """The long-running worker starts: note it (a crash before :meth:`stop` is told at
        the next start) and open the HTTP endpoint when a port is set."""
        self.metrics.set_roles(roles)
        await self.alerts.worker_started(self.settings.worker_name, self.clock())
        if self.settings.http_port is not None:
            self.server = OpsServer(
                ReadinessSource(
                    store=self.store,
                    head_revision=head_revision(),
                    platforms_started=self._platforms_started,
                    clock=self.clock,
                    metrics=self.metrics,
                ),
                host=self.settings.http_host,
                port=self.settings.http_port,
            )
            await self.server.start()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None
        try:
            await self.alerts.worker_stopped(self.settings.worker_name)
        except Exception:  # the database may be what is failing; the stop goes on
            log.exception("could not record the clean stop")


class AdminReports:
    """``/status`` and ``/feeds`` for the admin chats (``bot.ports.AdminDesk``): the same
    report as ``digestbot status`` and ``digestbot feeds list``."""

    def __init__(self, settings: Settings, store: SqlStore, clock: Callable[[], datetime]) -> None:
        self.chats = set(settings.admin_chat_refs())
        self.settings = settings
        self.store = store
        self.clock = clock

    def is_admin_chat(self, chat: ChatRef) -> bool:
        return chat in self.chats

    async def status_text(self) -> str:
        from bot.status_cli import format_status, gather_extras

        extras = await gather_extras(self.store, self.settings, self.clock())
        text, _ = format_status(
            await self.store.list_feeds(),
            await self.store.active_subscriptions(),
            await self.store.outbox_counts(),
            extras,
        )
        return text

    async def feeds_text(self) -> str:
        from bot.feeds_cli import feed_health

        feeds = await self.store.list_feeds()
        if not feeds:
            return "No feeds yet: digestbot feeds add URL"
        return "\n".join(f"{f.name or f.url}\n  {f.url}\n  {feed_health(f)}" for f in feeds)
