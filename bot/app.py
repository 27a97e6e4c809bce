"""Wiring: settings -> store, news pipeline, command core, chat adapters, poller, delivery.

Public API::

    App(settings, *, fetch_transport=None, adapters=None, clock=None, pacing=True,
        sleep=asyncio.sleep, store=None, console_out=None, delivery_policy=None)
        .settings, .store (SqlStore), .commands (CommandCore), .adapters (list[ChatAdapter]),
        .senders (dict platform -> ChatSender), .catalog (TopicCatalog)
        async with App(settings) as app:     # upgrades the DB, syncs config/feeds.toml
            report = await app.run_once()    # CycleReport(feeds=[FeedReport], delivery=...)
            await app.poll(); await app.deliver()
            await app.serve()                # adapters + APScheduler until app.request_stop()

The process around it (logging, signals, exit codes) is ``bot.worker_cli``; the factories it
wires adapters and the LLM summarizer with are ``bot.builders``.

Adapters: with ``adapters=None`` they come from settings: Telegram when ``TELEGRAM_BOT_TOKEN``
is set, Slack when ``SLACK_BOT_TOKEN`` is (plus its signing secret or app token) or
``SLACK_CLIENT_ID`` is (OAuth: installs in many workspaces), both when both,
else the console adapter ("no chat token set: printing digests to the console"). With the
console adapter wired, a built-in console subscriber (everything, instant) is created once,
and it receives the newest 3 cards of each newly added feed; chats never get such a backfill.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Self, TextIO

import httpx

from bot.builders import build_adapters, build_llm_summarizer, build_user_feeds
from bot.clock import utcnow
from bot.commands import CommandCore
from bot.console import CONSOLE_CHAT
from bot.delivery import Delivery, DeliveryPolicy, DeliveryReport
from bot.filters import TaxonomyCatalog, TopicCatalog
from bot.metrics import Metrics
from bot.models import Subscription
from bot.operations import AdminReports, Operations
from bot.pacing import Pacer
from bot.poller import FeedReport, Poller
from bot.ports import ChatAdapter, ChatSender
from bot.send_budget import shared_budget
from bot.settings import Settings
from bot.store import SqlStore
from bot.workers import (
    Heartbeat,
    UpdateLeader,
    answer_each_update_once,
    exclusive_updates,
    parse_roles,
    update_lock_key,
    worker_identity,
)

__all__ = ["App", "CycleReport", "build_adapters"]

log = logging.getLogger(__name__)

CONSOLE_BACKFILL = 3


@dataclass
class CycleReport:
    feeds: list[FeedReport] = field(default_factory=list)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)

    @property
    def failed_feeds(self) -> list[FeedReport]:
        return [f for f in self.feeds if f.error]


class App:
    def __init__(
        self,
        settings: Settings,
        *,
        fetch_transport: httpx.AsyncBaseTransport | None = None,
        adapters: Sequence[ChatAdapter] | None = None,
        clock: Callable[[], datetime] | None = None,
        pacing: bool = True,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        store: SqlStore | None = None,
        console_out: TextIO | None = None,
        delivery_policy: DeliveryPolicy | None = None,
    ) -> None:
        from digests.card_work import default_processes, usable_cores
        from digests.heap import fix_gc_threshold, fix_mmap_threshold
        from digests.http import Fetcher
        from digests.pipeline import NewsPipeline
        from digests.summarizer import EXTRACTIVE
        from digests.topics import Taxonomy

        self.settings = settings
        self.clock = clock or utcnow
        self.store = store or SqlStore.from_url(settings.database_url)
        self.worker_id = worker_identity()
        self.roles = parse_roles(settings.roles)
        # Another worker is dead once its heartbeat is three beats late.
        dead_after = 3 * settings.heartbeat_seconds
        self.heartbeat = Heartbeat(
            self.store, self.worker_id, self.roles, every=settings.heartbeat_seconds, clock=utcnow
        )
        config = settings.pipeline_config()
        # Process-wide, like the card processes' own (digests.heap): page buffers freed by the
        # poller go back to the system instead of leaving holes in the heap.
        fix_mmap_threshold(config.malloc_mmap_threshold)
        # And the cyclic collector looks at its young objects far less often (digests.heap).
        fix_gc_threshold(config.gc_threshold)
        self.taxonomy = Taxonomy.load(config.topics_path)
        self.catalog: TopicCatalog = TaxonomyCatalog(self.taxonomy)
        self.metrics = Metrics()
        self._fetcher = Fetcher(config, transport=fetch_transport)
        # None when DIGESTBOT_LLM_URL is not set; its outcomes go to /metrics.
        self.llm = build_llm_summarizer(settings, self.store)
        if self.llm is not None:
            counted = self.metrics.llm_summaries
            self.llm.counters.subscribe(lambda outcome: counted.labels(outcome=outcome).inc())
        self.pipeline = NewsPipeline(
            self._fetcher,
            self.taxonomy,
            config,
            summarizer=self.llm or EXTRACTIVE,
            summary_mode=settings.summary_mode,
            card_processes=(
                default_processes(usable_cores())
                if settings.card_processes is None
                else settings.card_processes
            ),
            cards_per_process=settings.cards_per_process,
        )
        self.commands = CommandCore(
            self.store,
            self.catalog,
            clock=self.clock,
            admin=AdminReports(settings, self.store, self.clock),
            metrics=self.metrics,
            group_commands=settings.group_commands,
            user_feeds=build_user_feeds(settings, self.pipeline),
        )
        if adapters is None:
            adapters = build_adapters(
                settings, self.commands, console_out=console_out, store=self.store
            )
        self.adapters: list[ChatAdapter] = list(adapters)
        self.senders: dict[str, ChatSender] = {a.platform: a.sender for a in self.adapters}
        self.poller = Poller(
            self.store,
            self.pipeline,
            self.catalog.names(),
            interval=settings.poll_interval,
            clock=self.clock,
            backfill_platforms=("console",),
            backfill_count=CONSOLE_BACKFILL,
            metrics=self.metrics,
            feed_concurrency=settings.poll_concurrency,
            serial_writes=self.store.dialect == "sqlite",
            worker_id=self.worker_id,
            lease_seconds=settings.lease_seconds,
            dead_after=dead_after,
        )
        redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
        self.budget = (
            shared_budget(redis_url, self.store, settings.global_rate, sleep) if pacing else None
        )
        self.delivery = Delivery(
            self.store,
            self.senders,
            # With a shared budget the Pacer keeps the per-chat pace only (rate 0).
            pacer=Pacer(rate=0.0 if self.budget else settings.global_rate, enabled=pacing),
            budget=self.budget,
            clock=self.clock,
            sleep=sleep,
            policy=delivery_policy
            or DeliveryPolicy(
                lease_seconds=settings.lease_seconds, sends_in_flight=settings.sends_in_flight
            ),
            worker_id=self.worker_id,
            dead_after=dead_after,
            lease_epoch=self.heartbeat.lease_epoch,
            metrics=self.metrics,
        )
        self._started: list[str] = []  # platforms this worker serves now (for /readyz)
        self.ops = Operations(
            settings,
            self.store,
            self.delivery,
            self.metrics,
            clock=self.clock,
            platforms_started=lambda: list(self._started),
        )
        self._leader: UpdateLeader | None = None
        # Two locks, not one: a long poll (many feeds, slow pages) must not hold back hourly
        # and daily digests or retries that fall due meanwhile; each kind of work runs once
        # at a time.
        self._poll_lock = asyncio.Lock()
        self._deliver_lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._jobs: dict[str, asyncio.Task[None]] = {}
        self._entered = False
        self._stopped: set[int] = set()  # id() of adapters already stopped

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        try:
            await self.store.upgrade()
            await self._fetcher.__aenter__()
            await self.sync_feeds_file()
            if "console" in self.senders:
                await self._ensure_console_subscriber()
        except BaseException:
            await self.aclose()
            raise
        self._entered = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        # Senders may have opened connections without their adapter being started
        # (``run --once`` delivers without receiving updates): stop() closes them. Adapters
        # that serve() started were stopped there already.
        for adapter in reversed(self.adapters):
            if id(adapter) in self._stopped:
                continue
            self._stopped.add(id(adapter))
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping the %s adapter failed", adapter.platform)
        await self._fetcher.aclose()
        self.pipeline.close()
        if self.llm is not None:
            await self.llm.aclose()
        if self.budget is not None:
            await self.budget.aclose()
        await self.store.close()

    async def sync_feeds_file(self) -> None:
        """The feeds file manages its feeds: each is added (or updated), and a feed that came
        from the file but is no longer in it is removed. Feeds added by command stay."""
        from bot.feeds_cli import load_feeds_file

        path = self.settings.feeds_file
        if not path.exists():
            log.info("no feeds file at %s; `digestbot feeds add URL` adds feeds", path)
            return
        listed = load_feeds_file(path)
        for entry in listed:
            _, created = await self.store.add_feed(
                entry.url, name=entry.name, topics=entry.topics, origin="file"
            )
            if created:
                log.info("feed added from %s: %s", path.name, entry.url)
        wanted = {entry.url for entry in listed}
        for feed in await self.store.list_feeds():
            if feed.origin == "file" and feed.url not in wanted:
                done = await self.store.remove_operator_feed(feed.url)
                log.info("feed %s: no longer in %s: %s", done, path.name, feed.url)

    async def _ensure_console_subscriber(self) -> None:
        if await self.store.get_subscription(CONSOLE_CHAT) is None:
            await self.store.save_subscription(Subscription(chat=CONSOLE_CHAT, title="console"))

    async def _start_receiving(self) -> list[ChatAdapter]:
        """Start the adapters that receive updates here; returns them. Long polling (one
        consumer per bot token) starts in whichever worker holds the update lock."""
        if "updates" not in self.roles:
            log.info("worker %s: not receiving chat updates (no 'updates' role)", self.worker_id)
            return []
        shared = self.store.dialect == "postgresql"
        exclusive = [a for a in self.adapters if shared and exclusive_updates(a)]
        started = []
        for adapter in self.adapters:
            if adapter not in exclusive:
                await adapter.start()
                started.append(adapter)
        token = self.settings.telegram_bot_token
        if exclusive and token is not None:
            for adapter in exclusive:
                answer_each_update_once(
                    adapter, lambda update_id: self.store.claim_update("telegram", update_id)
                )
            self._leader = UpdateLeader(
                self.store.engine,
                update_lock_key("telegram", token.get_secret_value()),
                exclusive,
                on_change=self._holds_updates,
            )
            self._jobs["updates"] = asyncio.create_task(
                self._leader.run(self._stop), name="digestbot-updates"
            )
            log.info("worker %s: waiting for the update lock (long polling)", self.worker_id)
        return started

    def _holds_updates(self, holding: bool) -> None:
        self.heartbeat.holds_updates = holding

    # --- work ------------------------------------------------------------------------------

    async def poll(self) -> list[FeedReport]:
        return await self.poller.poll_due()

    async def deliver(self) -> DeliveryReport:
        return await self.delivery.run()

    async def run_once(self) -> CycleReport:
        """One poll of the due feeds, then delivery of everything due: `digestbot run --once`."""
        feeds, delivery = [], DeliveryReport()
        if "poll" in self.roles:
            async with self._poll_lock:
                feeds = await self.poll()
                try:
                    await self.ops.check_alerts()
                except Exception:  # alerts must never stop digests
                    log.exception("checking alert conditions failed")
        if "deliver" in self.roles:
            async with self._deliver_lock:
                delivery = await self.deliver()
        return CycleReport(feeds, delivery)

    async def _deliver_locked(self) -> None:
        async with self._deliver_lock:
            await self.deliver()

    def request_stop(self) -> None:
        """Stop scheduling; in-flight sends finish; ``serve`` returns."""
        self._stop.set()
        self.delivery.request_stop()

    def _spawn(
        self, name: str, job: Callable[[], Awaitable[object]]
    ) -> Callable[[], Awaitable[None]]:
        """An APScheduler job that starts ``job`` as a task the App owns.

        APScheduler's asyncio executor cancels running jobs on shutdown; owning the task lets
        SIGTERM wait for in-flight sends instead. A run still going when the next is due is
        left alone (the next run picks up whatever it leaves).
        """

        async def guarded() -> None:
            try:
                await job()
            except Exception:
                log.exception("%s job failed; it runs again at its next time", name)

        async def kick() -> None:
            running = self._jobs.get(name)
            if self._stop.is_set() or (running is not None and not running.done()):
                return
            self._jobs[name] = asyncio.create_task(guarded(), name=f"digestbot-{name}")

        return kick

    async def serve(self) -> None:
        """Run adapters and the scheduled poll/delivery jobs until :meth:`request_stop`."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        started: list[ChatAdapter] = []
        ops_started = False
        try:
            await self.heartbeat.start()
            started = await self._start_receiving()
            # Delivery works on every configured platform whether or not this worker also
            # receives its updates (long polling may be another worker's role).
            self._started = list(self.senders)
            roles = [*self.roles, *(f"updates:{a.platform}" for a in started)]
            await self.ops.start(roles + (["http"] if self.settings.http_port else []))
            ops_started = True
            interval = max(1, self.settings.poll_interval)
            scheduler = AsyncIOScheduler(timezone=UTC)
            scheduler.add_job(
                self._spawn("poll", self.run_once),
                "interval",
                seconds=interval,
                jitter=max(1, interval // 10),
                next_run_time=datetime.now(UTC),
                max_instances=1,
                coalesce=True,
                id="poll",
            )
            # Hourly/daily digests and retries fall due between polls.
            scheduler.add_job(
                self._spawn("deliver", self._deliver_locked),
                "interval",
                seconds=min(30, interval),
                max_instances=1,
                coalesce=True,
                id="deliver",
            )
            scheduler.start()
            log.info(
                "worker %s running (roles: %s): polling every %d s, delivering to %s",
                self.worker_id,
                ",".join(self.roles),
                interval,
                ", ".join(self.senders) or "nobody",
            )
            try:
                await self._stop.wait()
            finally:
                scheduler.shutdown(wait=False)
                running = [t for t in self._jobs.values() if not t.done()]
                if running:
                    log.info("finishing %d in-flight job(s)", len(running))
                await asyncio.gather(*self._jobs.values(), return_exceptions=True)
        finally:
            self._started.clear()
            if ops_started:
                await self.ops.stop()
            await self.heartbeat.stop()
            for adapter in reversed(started):
                self._stopped.add(id(adapter))
                try:
                    await adapter.stop()
                except Exception:
                    log.exception("stopping the %s adapter failed", adapter.platform)
