"""Scale-out on one PostgreSQL: 1, 2 and 3 worker processes against local stand-ins, each
figure printed beside the 1-worker figure of the same run.

* ingest: F feeds on ``bench/feed_site.py`` (a child process), every feed with one new
  article (its page fetched, extracted and summarised); feeds ingested per second, how many
  times the feeds were fetched (each exactly once, whatever the number of workers), and the
  workers' CPU per feed (each worker's own CPU from "go" to done, threads included, after a
  warm-up: start-up, the language model's first load and a first card are not counted);
* delivery, budget high: one message to each of C Telegram chats through the fake Bot API (a
  child process); messages per second with the shared budget set to 100,000/s, with the
  budget booked in blocks of consecutive slots (as shipped) and one slot per round trip (as
  before, ``block 1``), in the same run;
* the budget alone: each worker books slots at 100,000/s as fast as it can (8 senders), one
  slot per round trip and in blocks: sends booked per second and waits on the budget's row;
* delivery, budget 25/s against a fake that answers 429 above 30/s: the aggregate rate and
  the number of 429s (PostgreSQL budget; ``--redis`` adds the same with ``REDIS_URL``).

While workers run, ``pg_stat_activity`` is sampled every 10 ms for backends of the bench
database waiting on a lock (``wait_event_type = 'Lock'``): row-lock waits between one
worker's claim and another's records, or on the budget's row, would show there.

How to read the ingest lines on a small machine. With the feed site answering at once, ingest
is CPU-bound: one worker already keeps more than one core busy (cards are built in threads),
and the feed site and PostgreSQL share the same cores, so on a 2-core machine a second worker
can add only what is left of the machine (measured: x1.38), and a third adds nothing. That
line measures the machine, not the workers. Two figures do not depend on the number of cores:

* CPU per feed across 1, 2 and 3 workers: flat means no work is done twice (each feed
  fetched, extracted and summarised once) and no worker burns CPU waiting on another (no lock
  waits); with N cores free, N workers then ingest N times as fast;
* ``--latency S`` (default 2 s; 0 turns it off): every feed and page answer is delayed by S
  seconds, as a distant news site would. A worker has at most 50 feeds in flight, so the
  work waits on the network, not on CPU (one worker at 2 s: at most 50 feeds per 4 s, about
  half a core) and the figure shows how the leases share the feeds: N workers have N x 50 in
  flight, as long as the machine has the CPU for them (3 workers at 2 s are close to this
  machine's limit again). On a machine busy with other jobs a worker gets only its share of
  the cores, and more workers get more shares: read the load average printed on each line.

Pinning each worker to a CPU (``os.sched_setaffinity``) was not used: with 2 cores, 3
workers, the feed site and PostgreSQL there is no free core to pin to, so it would measure
the same ceiling with less honesty about it.

Each worker is ``python bench/scale.py --worker poll|deliver`` (the real ``App``), started and
ready before the clock starts; the clock stops when the last one has nothing left to do.

    python bench/scale.py [--feeds 300] [--latency 2] [--chats 600] [--paced 250] [--redis]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bench.feed_site import PARAGRAPH, page_html  # noqa: E402
from bench.ingest import PORTS, Site  # noqa: E402
from bot.ports import ChatRef  # noqa: E402
from bot.store import SqlStore, Subscription, cards_t, feeds_t  # noqa: E402
from bot.store.schema import outbox_t  # noqa: E402
from tests.telegram.fake_bot_api import DEFAULT_TOKEN, fake_bot_api_process  # noqa: E402

BASE_URL = os.environ.get(
    "DIGESTBOT_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("DIGESTBOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
WORKERS = (1, 2, 3)


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    name = f"bench9_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(BASE_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(BASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def worker_env(db: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=db,
        DIGESTBOT_FEEDS_FILE="/nonexistent/feeds.toml",
        DIGESTBOT_POLL_INTERVAL="3600",
        DIGESTBOT_ALLOW_PRIVATE_ADDRESSES="1",
        DIGESTBOT_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


class LockWaits:
    """Samples pg_stat_activity for backends of ``db`` waiting on a lock."""

    def __init__(self, db: str) -> None:
        self.db = make_url(db).database
        self.samples = 0
        self.waiting = 0  # samples with at least one backend waiting on a lock
        self.max_waiters = 0
        self.statements: Counter[str] = Counter()  # what the waiting backends ran
        self.worker_cpu = 0.0  # the workers' own CPU seconds from "go" to done
        self.load = 0.0  # the machine's 1-minute load average at the end (other jobs too)

    async def run(self, stop: asyncio.Event) -> None:
        engine = create_async_engine(BASE_URL, isolation_level="AUTOCOMMIT")
        query = sa.text(
            "SELECT left(query, 40) FROM pg_stat_activity "
            "WHERE datname = :db AND wait_event_type = 'Lock'"
        )
        try:
            async with engine.connect() as conn:
                while not stop.is_set():
                    waiting = (await conn.execute(query, {"db": self.db})).scalars().all()
                    self.samples += 1
                    self.waiting += bool(waiting)
                    self.max_waiters = max(self.max_waiters, len(waiting))
                    self.statements.update(" ".join(str(q).split()) for q in waiting)
                    await asyncio.sleep(0.01)
        finally:
            await engine.dispose()

    def __str__(self) -> str:
        on = ", ".join(f"{q!r} x{n}" for q, n in self.statements.most_common(3))
        return (
            f"lock waits in {self.waiting}/{self.samples} samples (max {self.max_waiters}"
            + (f"; {on}" if on else "")
            + f"); load {self.load:.1f}"
        )


async def run_workers(
    mode: str, count: int, env: dict[str, str], db: str
) -> tuple[float, LockWaits]:
    """Start ``count`` workers, wait until each is ready, start the clock, wait for all."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__)),
            "--worker",
            mode,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(count)
    ]
    for proc in procs:
        assert proc.stdout is not None
        line = await proc.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError(f"worker did not start: {line!r}")
    waits, stop = LockWaits(db), asyncio.Event()
    sampler = asyncio.create_task(waits.run(stop))
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    reports = []
    for proc in procs:
        assert proc.stdout is not None
        reports.append(json.loads(await proc.stdout.readline()))
        await proc.wait()
    wall = time.perf_counter() - started
    stop.set()
    await sampler
    waits.worker_cpu = sum(report["cpu"] for report in reports)
    waits.load = os.getloadavg()[0]
    return wall, waits


def fake_stats(base_url: str) -> dict[str, float]:
    root = base_url.rsplit("/bot", 1)[0]
    with urllib.request.urlopen(f"{root}/_fake/stats") as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


async def seed_polled_feeds(store: SqlStore, site: Site) -> None:
    """Feeds polled before (stale validators, so the site answers 200), due now, each with
    one article not seen yet."""
    now = datetime.now(UTC)
    rows = [
        {"url": site.url(n), "topics": [], "etag": '"stale"', "error_count": 0,
         "added_at": now, "initialized": True, "next_poll_at": None}
        for n in range(site.feeds)
    ]  # fmt: skip
    async with store.engine.begin() as conn:
        await conn.execute(sa.insert(feeds_t), rows)
    await analyze(store)


async def analyze(store: SqlStore) -> None:
    """Planner statistics, as a database in service has them (autovacuum would take a minute
    to notice a fresh bench database, and claims planned without them probe row by row)."""
    async with store.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(sa.text("ANALYZE"))


class SlowSite(Site):
    """``bench.ingest.Site`` whose every feed and page answer comes ``latency`` s late."""

    def __init__(self, feeds: int, latency: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "feed_site.py"), "--feeds", str(feeds),
             "--ports", str(PORTS), "--latency", str(latency)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.ports = json.loads(self.proc.stdout.readline())["ports"]
        self.feeds = feeds


async def ingest(feeds: int, latency: float) -> None:
    base: float | None = None
    label = f"ingest {latency:.1f} s" if latency else "ingest"
    for count in WORKERS:
        # A fresh site per run: every feed has exactly one article.
        site = SlowSite(feeds, latency)
        try:
            async with fresh_database() as db:
                store = SqlStore.from_url(db)
                await store.upgrade()
                await seed_polled_feeds(store, site)
                wall, waits = await run_workers("poll", count, worker_env(db), db)
                fetched = site.control("stats")["requests"].get("feed", 0)
                async with store.engine.connect() as conn:
                    count_cards = sa.select(sa.func.count()).select_from(cards_t)
                    cards = (await conn.execute(count_cards)).scalar()
                await store.close()
        finally:
            site.close()
        rate = feeds / wall
        base = base or rate
        cpu = waits.worker_cpu
        print(
            f"{label:<13} {count} worker(s): {rate:6.1f} feeds/s ({wall:5.1f} s, {cards} new "
            f"cards, feeds fetched {fetched} times for {feeds}; workers' CPU {cpu:.1f} s = "
            f"{cpu / feeds * 1000:.1f} ms/feed, {cpu / wall:.2f} cores; {waits})  "
            f"x{rate / base:.2f} of 1 worker",
            flush=True,
        )


async def queue_chats(store: SqlStore, chats: int) -> None:
    from tests.bot.test_bot_store import card

    now = datetime.now(UTC)
    feed, _ = await store.add_feed("http://127.0.0.1:9/feed.xml")
    (stored,) = await store.record_entries(feed.id, [("e1", card(1))], now)
    ids = []
    for n in range(chats):
        sub = await store.save_subscription(Subscription(chat=ChatRef("telegram", str(10_000 + n))))
        ids.append(sub.id or 0)
    await store.enqueue([(sub_id, stored.id, now) for sub_id in ids], now)
    # Each chat's lease row, as a chat that was ever sent to has, then the statistics.
    async with store.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO chat_leases (platform, chat_id) "
                "SELECT DISTINCT platform, chat_id FROM subscriptions"
            )
        )
    await analyze(store)


async def deliver(
    chats: int,
    *,
    rate: float,
    fake_rate: float | None,
    redis: bool,
    label: str,
    blocks: tuple[int | None, ...] = (None,),
) -> None:
    """One message to each of ``chats`` chats; a fresh fake Bot API per run (its counters).

    ``blocks``: the budget as shipped (None) and/or with one slot per round trip (1), each
    worker count run with each, so that both are measured in the same run."""
    base: dict[int | None, float] = {}
    for count in WORKERS:
        one_slot: float | None = None
        for block in blocks:
            mps, line = await _deliver_once(chats, count, rate, fake_rate, redis, block)
            base.setdefault(block, mps)
            name = f"{label}{' block 1' if block == 1 else ''}"
            versus = f"  x{mps / base[block]:.2f} of 1 worker"
            if block == 1:
                one_slot = mps
            elif one_slot:
                versus += f", x{mps / one_slot:.2f} of block 1"
            print(f"{name:<16} {count} worker(s): {line}{versus}", flush=True)


async def _deliver_once(
    chats: int, count: int, rate: float, fake_rate: float | None, redis: bool, block: int | None
) -> tuple[float, str]:
    with fake_bot_api_process(record=False, global_rate=fake_rate) as api:
        async with fresh_database() as db:
            store = SqlStore.from_url(db)
            await store.upgrade()
            await queue_chats(store, chats)
            extra = {"TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN, "TELEGRAM_BASE_URL": api,
                     "DIGESTBOT_GLOBAL_RATE": str(rate)}  # fmt: skip
            if redis:
                extra["REDIS_URL"] = REDIS_URL
            if block is not None:
                extra["DIGESTBOT_BENCH_BUDGET_BLOCK"] = str(block)
            wall, waits = await run_workers("deliver", count, worker_env(db, **extra), db)
            stats = fake_stats(api)
            async with store.engine.connect() as conn:
                pending = (
                    await conn.execute(
                        sa.select(sa.func.count()).where(outbox_t.c.status == "pending")
                    )
                ).scalar()
            await store.close()
    sent = stats["sent"]
    # The rate the platform saw: sends between its first and its last.
    span = (stats["last_sent_at"] or 0) - (stats["first_sent_at"] or 0)
    mps = (sent - 1) / span if span > 0 else sent / wall
    return mps, (
        f"{mps:7.1f} msg/s ({sent:.0f} sent, {stats['rate_limited']:.0f} x 429, {pending} "
        f"pending, {wall:5.1f} s wall; {waits})"
    )


async def budget_worker(slots: int) -> None:
    """Book ``slots`` sends on the shared PostgreSQL budget at 100,000/s, 8 senders at once,
    nothing else: the cost of the budget's hot row alone."""
    from sqlalchemy.ext.asyncio import create_async_engine as engine_for

    from bot import send_budget

    if block := os.environ.get("DIGESTBOT_BENCH_BUDGET_BLOCK"):
        send_budget._MAX_BLOCK = int(block)
    engine = engine_for(os.environ["DATABASE_URL"])
    budget = send_budget.PostgresBudget(engine, 100_000)
    await budget.acquire("bench")  # its row and a connection
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    cpu, left = time.process_time(), [slots]

    async def sender() -> None:
        while left[0] > 0:
            left[0] -= 1
            await budget.acquire("bench")

    await asyncio.gather(*(sender() for _ in range(8)))
    print(json.dumps({"cpu": time.process_time() - cpu}), flush=True)
    await engine.dispose()


async def budget_only(slots: int) -> None:
    """``slots`` bookings per worker, one slot per round trip (as before) and in blocks."""
    base: dict[int | None, float] = {}
    for count in WORKERS:
        one_slot = 1.0
        for block in (1, None):
            async with fresh_database() as db:
                store = SqlStore.from_url(db)
                await store.upgrade()
                await store.close()
                extra = {} if block is None else {"DIGESTBOT_BENCH_BUDGET_BLOCK": str(block)}
                env = worker_env(db, **extra)
                wall, waits = await run_workers(f"budget:{slots}", count, env, db)
            rate = count * slots / wall
            base.setdefault(block, rate)
            name = "budget/pg" + (" block 1" if block == 1 else "")
            versus = f"  x{rate / base[block]:.2f} of 1 worker"
            if block == 1:
                one_slot = rate
            else:
                versus += f", x{rate / one_slot:.2f} of block 1"
            print(
                f"{name:<16} {count} worker(s): {rate:8.0f} sends booked/s ({count * slots} in "
                f"{wall:4.1f} s, workers' CPU {waits.worker_cpu:.1f} s; {waits}){versus}",
                flush=True,
            )


async def worker(mode: str) -> None:
    from bot import send_budget
    from bot.app import App
    from bot.settings import Settings
    from digests.lang import detect_language

    if block := os.environ.get("DIGESTBOT_BENCH_BUDGET_BLOCK"):
        send_budget._MAX_BLOCK = int(block)  # the budget as it was: one slot per round trip
    detect_language(PARAGRAPH)  # warm-up: the language model loads once per process
    async with App(Settings.load()) as app:
        # and one card through the pipeline: what a process builds on its first card
        await app.pipeline.card_for_html(page_html(0, 0), "http://127.0.0.1/p/0-0.html")
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        cpu = time.process_time()  # every thread of this process
        if mode == "poll":
            await app.poll()
        else:
            await app.deliver()
        print(json.dumps({"cpu": time.process_time() - cpu}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker")  # poll | deliver | budget:N (a worker process)
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument(
        "--latency", type=float, default=2.0, help="seconds each feed/page answer takes (0: off)"
    )
    parser.add_argument("--chats", type=int, default=600)
    parser.add_argument("--paced", type=int, default=250, help="messages of the 25/s runs")
    parser.add_argument("--redis", action="store_true", help="also the budget on Redis")
    parser.add_argument("--only", choices=["ingest", "high", "budget", "paced"])
    parser.add_argument("--slots", type=int, default=3000, help="bookings per budget worker")
    args = parser.parse_args()
    if args.worker and args.worker.startswith("budget:"):
        asyncio.run(budget_worker(int(args.worker.split(":")[1])))
        return
    if args.worker:
        asyncio.run(worker(args.worker))
        return
    if args.only in (None, "ingest"):
        asyncio.run(ingest(args.feeds, 0.0))
        if args.latency:
            asyncio.run(ingest(args.feeds, args.latency))
    if args.only in (None, "high"):
        blocks = (1, None)
        asyncio.run(
            deliver(args.chats, rate=100_000, fake_rate=None, redis=False, label="high/pg",
                    blocks=blocks)
        )  # fmt: skip
        if args.redis:
            asyncio.run(
                deliver(args.chats, rate=100_000, fake_rate=None, redis=True, label="high/rds",
                        blocks=blocks)
            )  # fmt: skip
    if args.only in (None, "budget"):
        asyncio.run(budget_only(args.slots))
    if args.only in (None, "paced"):
        asyncio.run(deliver(args.paced, rate=25, fake_rate=30, redis=False, label="25/s/pg"))
        if args.redis:
            asyncio.run(deliver(args.paced, rate=25, fake_rate=30, redis=True, label="25/s/rds"))


if __name__ == "__main__":
    main()
