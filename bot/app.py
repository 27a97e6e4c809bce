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
    run_worker(settings, once) -> int        # `digestbot run [--once]`
    run_chat(settings) -> int                # `digestbot chat`
    upgrade_database(settings) -> int        # `digestbot db upgrade`

Adapters: with ``adapters=None`` they come from settings: Telegram when ``TELEGRAM_BOT_TOKEN``
is set, Slack when ``SLACK_BOT_TOKEN`` is (plus its signing secret or app token) or
``SLACK_CLIENT_ID`` is (OAuth: installs in many workspaces), both when both,
else the console adapter ("no chat token set: printing digests to the console"). With the
console adapter wired, a built-in console subscriber (everything, instant) is created once,
and it receives the newest 3 cards of each newly added feed; chats never get such a backfill.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Self, TextIO

import httpx

from bot import messages as msg
from bot.clock import utcnow
from bot.commands import CommandCore
from bot.console import CONSOLE_CHAT, ConsoleAdapter, chat_repl
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
from bot.store import SqlStore, open_store
from bot.workers import (
    Heartbeat,
    UpdateLeader,
    answer_each_update_once,
    exclusive_updates,
    parse_roles,
    update_lock_key,
    worker_identity,
)

if TYPE_CHECKING:
    from digests.llm import LlmSummarizer

__all__ = ["App", "CycleReport", "run_chat", "run_worker", "upgrade_database"]

log = logging.getLogger(__name__)

CONSOLE_BACKFILL = 3


def build_llm_summarizer(
    settings: Settings, store: SqlStore, *, transport: httpx.AsyncBaseTransport | None = None
) -> LlmSummarizer | None:
    """The LLM summarizer ``DIGESTBOT_LLM_URL`` asks for, caching in the store; ``None`` (and
    nothing imported) when it is not set."""
    config = settings.llm_config()
    if config is None:
        return None
    from digests.llm import LlmSummarizer
    from digests.llm_client import ChatClient

    client = ChatClient(
        config.url,
        model=config.model,
        api_key=config.api_key,
        timeout=config.timeout,
        deadline=config.deadline,
        max_retries=config.max_retries,
        transport=transport,
    )
    log.info("summaries by %s at %s (guarded; extractive on any doubt)", config.model, config.url)
    return LlmSummarizer(client, config, max_summary_words=settings.summary_words, cache=store)


@dataclass
class CycleReport:
    feeds: list[FeedReport] = field(default_factory=list)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)

    @property
    def failed_feeds(self) -> list[FeedReport]:
        return [f for f in self.feeds if f.error]


def build_adapters(
    settings: Settings,
    commands: CommandCore,
    *,
    console_out: TextIO | None = None,
    store: SqlStore | None = None,
) -> list[ChatAdapter]:
    """The chat adapters the credentials in ``settings`` ask for (console when none, printing
    to ``console_out``, standard output by default). Slack in OAuth mode keeps its
    installations in ``store``."""
    adapters: list[ChatAdapter] = []
    if settings.telegram_bot_token is not None:
        from bot.telegram import build_telegram_adapter

        adapters.append(build_telegram_adapter(settings, commands))
    if settings.slack_enabled:
        from bot.slack import build_slack_adapter

        adapters.append(build_slack_adapter(settings, commands, store=store))
    if not adapters:
        if not settings.database_url.startswith("sqlite"):
            # A shared database: a console "chat" here would subscribe the terminal of every
            # token-less worker in the store. Such a worker polls; `digestbot chat` talks.
            log.info(msg.NO_TOKEN_SHARED_DATABASE)
            return adapters
        log.info(msg.CONSOLE_NO_TOKEN)
        adapters.append(ConsoleAdapter(commands, out=console_out))
    return adapters


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
        self.taxonomy = Taxonomy.load(config.topics_path)
        self.catalog: TopicCatalog = TaxonomyCatalog(self.taxonomy)
        self.metrics = Metrics()
        self.commands = CommandCore(
            self.store,
            self.catalog,
            clock=self.clock,
            admin=AdminReports(settings, self.store, self.clock),
            metrics=self.metrics,
            group_commands=settings.group_commands,
        )
        if adapters is None:
            adapters = build_adapters(
                settings, self.commands, console_out=console_out, store=self.store
            )
        self.adapters: list[ChatAdapter] = list(adapters)
        self.senders: dict[str, ChatSender] = {a.platform: a.sender for a in self.adapters}
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
        )
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
                await self.store.remove_feed(feed.url)
                log.info("feed removed: no longer in %s: %s", path.name, feed.url)

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


# --- entry points ------------------------------------------------------------------------


def _configure_logging(settings: Settings) -> None:
    from bot.logs import configure_logging
    from bot.secret_masking import install_secret_masking

    configure_logging(settings.log_level, settings.log_format)
    install_secret_masking(settings.secret_values(), settings.secret_passwords())


def once_exit_code(report: CycleReport) -> tuple[int, str | None]:
    """``digestbot run --once``'s exit code for cron, and the line saying why when not 0.

    1 when at least one due feed was polled and every polled feed failed, or a send failed
    for a reason other than the chat being gone; 0 otherwise (one failing feed among working
    ones is a warning in the log, not a failed run).
    """
    polled, failed = len(report.feeds), len(report.failed_feeds)
    if polled and failed == polled:
        return 1, f"all {polled} feed(s) due this cycle failed; see the errors above"
    if report.delivery.errors:
        return 1, f"{report.delivery.errors} card(s) could not be sent; see the errors above"
    return 0, None


def _summary(report: CycleReport) -> str:
    polled = len(report.feeds)
    failed = len(report.failed_feeds)
    new = sum(f.new_entries for f in report.feeds)
    return (
        f"cycle done: {polled} feed(s) polled ({failed} failed), {new} new entries; "
        f"delivery: {report.delivery}"
    )


async def _worker(settings: Settings, once: bool) -> int:
    async with App(settings) as app:
        if once:
            report = await app.run_once()
            log.info("%s", _summary(report))
            code, problem = once_exit_code(report)
            if problem:
                log.error("%s", problem)
                return code
            if not report.delivery.sent and "console" in app.senders:
                log.info(msg.CONSOLE_NOTHING_NEW)
            return 0
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):  # Windows
                loop.add_signal_handler(sig, app.request_stop)
        await app.serve()
        log.info("worker stopped")
        return 0


def run_worker(settings: Settings, once: bool) -> int:
    _configure_logging(settings)
    return asyncio.run(_worker(settings, once))


async def _chat(settings: Settings) -> int:
    async with App(settings, adapters=[]) as app:
        await chat_repl(app.commands)
    return 0


def run_chat(settings: Settings) -> int:
    _configure_logging(settings)
    return asyncio.run(_chat(settings))


async def _upgrade(settings: Settings) -> int:
    async with open_store(settings.database_url):
        pass  # opening the store upgrades it
    log.info("database is at the newest schema")
    return 0


def upgrade_database(settings: Settings) -> int:
    _configure_logging(settings)
    return asyncio.run(_upgrade(settings))
