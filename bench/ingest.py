"""One worker at scale, each figure beside a baseline measured in the same run.

Against ``bench/feed_site.py`` (a child process: N feeds over 50 ports of 127.0.0.1, so that
"2 in flight per site" still leaves room for 50 at once):

* ``polls``: an all-unchanged cycle (every feed answers 304) of ``digestbot``'s poller beside
  bare concurrent loops (aiohttp and httpx, 50 in flight, 2 per site); the same cycle with one
  feed answering after 10 s; a one-new-item-per-feed cycle (feed, page, card, queue) beside a
  bare concurrent fetch + ``trafilatura.extract`` loop over the same feeds and pages.
* ``queue``: one card queued for S subscriptions (random keyword sets) on SQLite and, with
  ``--postgres URL``, PostgreSQL: index build, matching, planning and the outbox insert,
  beside a bare executemany insert of the same rows.
* ``digest``: ``/digest`` with 5 keyword filters over C stored cards beside ``/list``.
* ``rss``: peak RSS and its growth over R unchanged cycles after a warm-up.

    python bench/ingest.py polls --feeds 1000 [--new-feeds 1000]
    python bench/ingest.py queue --subs 100000 [--postgres postgresql+asyncpg://...]
    python bench/ingest.py digest --cards 10000
    python bench/ingest.py rss --feeds 1000 --cycles 50
    python bench/ingest.py rss --feeds 10 --cycles 50 --new
    python bench/ingest.py opml --feeds 10000

Every count is bounded by its flag; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bot.app import App  # noqa: E402
from bot.commands import CommandCore  # noqa: E402
from bot.filters import TaxonomyCatalog  # noqa: E402
from bot.ports import ChatRef, CommandRequest  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import (  # noqa: E402
    SqlStore,
    entry_key,
    feeds_t,
    outbox_t,
    seen_entries_t,
    subscriptions_t,
)
from bot.store.entries import card_data  # noqa: E402
from bot.store.schema import cards_t  # noqa: E402
from digests.config import CONFIG_DIR  # noqa: E402
from digests.models import Card  # noqa: E402
from digests.topics import Taxonomy  # noqa: E402

PORTS = 50
IN_FLIGHT = 50


def timed_cpu() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def line(label: str, wall: float, cpu: float, n: int) -> str:
    return f"  {label:<44} {wall:8.2f} s  {cpu / max(n, 1) * 1000:7.2f} ms CPU/feed"


class Site:
    def __init__(self, feeds: int, slow_feed: int = -1) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "feed_site.py"), "--feeds", str(feeds),
             "--ports", str(PORTS), "--slow-feed", str(slow_feed)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.ports: list[int] = json.loads(self.proc.stdout.readline())["ports"]
        self.feeds = feeds

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.ports[n % PORTS]}/f/{n}.xml"

    def control(self, path: str, method: str = "GET") -> dict[str, Any]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.ports[0]}/control/{path}", method=method
        )
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()


async def seed_feeds(store: SqlStore, site: Site, version: int) -> None:
    """Feeds already polled once: validators of ``version`` and its entries seen (setup)."""
    now = datetime.now(UTC)
    async with store.engine.begin() as conn:
        await conn.execute(sa.delete(feeds_t))
        rows = [
            {"id": n + 1, "url": site.url(n), "topics": [], "etag": f'"v{version}-{n}"',
             "error_count": 0, "added_at": now, "initialized": True, "next_poll_at": None}
            for n in range(site.feeds)
        ]  # fmt: skip
        await conn.execute(sa.insert(feeds_t), rows)
        seen = [
            {"feed_id": n + 1, "entry_key": entry_key(f"f{n}-{v}"), "entry_id": f"f{n}-{v}",
             "seen_at": now}
            for n in range(site.feeds) for v in range(version + 1)
        ]  # fmt: skip
        await conn.execute(sa.insert(seen_entries_t), seen)


async def make_due(store: SqlStore) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(sa.update(feeds_t).values(next_poll_at=None))


def settings_for(db: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=db, feeds_file=Path("/nonexistent.toml"),
        poll_interval=3600, allow_private_addresses=True, poll_concurrency=IN_FLIGHT,
    )  # fmt: skip


async def bare_aiohttp(urls: list[str], etags: list[str | None], extract: bool = False) -> int:
    import aiohttp
    import feedparser
    import trafilatura

    connector = aiohttp.TCPConnector(limit=IN_FLIGHT, limit_per_host=2)
    done = 0
    async with aiohttp.ClientSession(connector=connector) as session:
        jobs = iter(zip(urls, etags, strict=True))

        async def worker() -> None:
            nonlocal done
            for url, etag in jobs:
                headers = {"If-None-Match": etag} if etag else {}
                async with session.get(url, headers=headers) as response:
                    body = await response.read()
                if extract and response.status == 200:
                    parsed = await asyncio.to_thread(feedparser.parse, body)
                    link = parsed.entries[0].link
                    async with session.get(link) as page:
                        html = await page.read()
                    await asyncio.to_thread(trafilatura.extract, html)
                done += 1

        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return done


async def bare_httpx(urls: list[str], etags: list[str | None]) -> int:
    import httpx

    limits = httpx.Limits(max_connections=IN_FLIGHT * 2, max_keepalive_connections=IN_FLIGHT)
    async with httpx.AsyncClient(limits=limits) as client:
        jobs = iter(zip(urls, etags, strict=True))
        host_gate: dict[str, asyncio.Semaphore] = {}

        async def worker() -> None:
            for url, etag in jobs:
                gate = host_gate.setdefault(url.split("/f/")[0], asyncio.Semaphore(2))
                async with gate:
                    await client.get(url, headers={"If-None-Match": etag} if etag else {})

        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return len(urls)


async def measure(work: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    wall, cpu = timed_cpu()
    await work()
    return time.perf_counter() - wall, time.process_time() - cpu


async def polls(args: argparse.Namespace) -> None:
    n = args.feeds
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        site = Site(n, slow_feed=-1)
        try:
            urls = [site.url(i) for i in range(n)]
            etags: list[str | None] = [f'"v0-{i}"' for i in range(n)]
            async with App(settings_for(db), adapters=[]) as app:
                await seed_feeds(app.store, site, 0)
                print(f"all-unchanged cycle, {n} feeds (304), 50 in flight, 2 per site:")
                for _ in range(args.repeat):
                    await make_due(app.store)
                    wall, cpu = await measure(app.poll)
                    stats = site.control("stats")
                    print(
                        line("digestbot poller", wall, cpu, n),
                        f" peak/site {stats['peak_per_port']}",
                    )
                    wall, cpu = await measure(lambda: bare_aiohttp(urls, etags))
                    print(line("bare aiohttp loop", wall, cpu, n))
                    wall, cpu = await measure(lambda: bare_httpx(urls, etags))
                    print(line("bare httpx loop", wall, cpu, n))
        finally:
            site.close()
        # One feed answering after 10 s.
        site = Site(n, slow_feed=0)
        try:
            async with App(settings_for(db), adapters=[]) as app:
                await seed_feeds(app.store, site, 0)
                await make_due(app.store)
                wall, cpu = await measure(app.poll)
                print(line("same, feed 0 answers after 10 s", wall, cpu, n))
        finally:
            site.close()
        m = min(n, args.new_feeds)
        site = Site(m)
        try:
            async with App(settings_for(db), adapters=[]) as app:
                await seed_feeds(app.store, site, 0)
                site.control("new", "POST")
                print(f"one new item in each of {m} feeds (feed, page, card, queue):")
                await make_due(app.store)
                wall, cpu = await measure(app.poll)
                print(line("digestbot poller", wall, cpu, m))
                site.control("new", "POST")
                urls = [site.url(i) for i in range(m)]
                wall, cpu = await measure(lambda: bare_aiohttp(urls, [None] * m, extract=True))
                print(line("bare aiohttp fetch + feedparser + extract", wall, cpu, m))
        finally:
            site.close()


# --- queueing --------------------------------------------------------------------------------

WORDS = [w for words in Taxonomy.load(CONFIG_DIR / "topics.toml").topics.values() for w in words]


def random_filters(rng: random.Random) -> list[str]:
    pick = rng.random()
    if pick < 0.05:
        return []
    return rng.sample(WORDS, rng.randint(1, 4))


def bench_card() -> Card:
    return Card(
        title="Central bank holds rates as inflation cools and exports slow",
        url="https://news.example/a", source="Bench News", published=datetime.now(UTC),
        summary=("The central bank kept its interest rate unchanged on Tuesday.",
                 "Economists expect a cut in the spring as the labour market loosens.",
                 "Exporters say tariffs and the strong currency weigh on trade."),
        key_facts=("Inflation fell to 2.4% in November.",), editors_note=None,
        topics=("economy", "trade"), reading_minutes=3,
    )  # fmt: skip


async def seed_subscriptions(store: SqlStore, count: int) -> None:
    rng = random.Random(15)
    now = datetime.now(UTC)
    rows = [
        {"platform": "telegram", "chat_id": str(n), "filters": random_filters(rng),
         "mode": rng.choice(["instant", "instant", "hourly", "daily"]), "daily_time": "08:00",
         "timezone": rng.choice(["UTC", "Europe/Berlin", "Asia/Tokyo"]), "active": True,
         "created_at": now, "updated_at": now}
        for n in range(count)
    ]  # fmt: skip
    async with store.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            await conn.execute(subscriptions_t.insert(), rows[start : start + 5000])


async def queue_one(store: SqlStore, subs: int, label: str) -> None:
    from bot.matching import SubscriptionIndex
    from bot.schedule import plan_queue_indexed

    await store.upgrade()
    try:
        await seed_subscriptions(store, subs)
        feed, _ = await store.add_feed(f"https://news.example/{uuid.uuid4().hex}.xml")
        names = Taxonomy.load(CONFIG_DIR / "topics.toml").names()
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        index = SubscriptionIndex(names)
        index.add_all(await store.indexed_subscriptions())
        t_index = time.perf_counter() - t0
        figures = []
        for entry in ("cold", "warm"):  # the first card compiles its candidate keywords
            t1 = time.perf_counter()
            async with store.transaction() as tx:
                [stored] = await tx.record_entries(feed.id, [(entry, bench_card())], now)
                t2 = time.perf_counter()
                matched = index.matching(stored.card)
                t_match = time.perf_counter() - t2
                rows = plan_queue_indexed([stored], index.matching, now)
                t3 = time.perf_counter()
                queued = await tx.enqueue(rows, now)
                t_insert = time.perf_counter() - t3
            figures.append((entry, time.perf_counter() - t1, t_match, t_insert))
        distinct = len({tuple(sorted(s.filters)) for s in await store.indexed_subscriptions()})
        async with store.engine.begin() as conn:
            await conn.execute(sa.delete(outbox_t).where(outbox_t.c.card_id == stored.id))
        plain = [
            {"subscription_id": s, "card_id": c, "not_before": nb, "status": "pending",
             "attempts": 0, "created_at": now}
            for s, c, nb in rows
        ]  # fmt: skip
        t4 = time.perf_counter()
        async with store.engine.begin() as conn:
            await conn.execute(sa.insert(outbox_t), plain)
        t_bare = time.perf_counter() - t4
        print(
            f"  {label}: {subs} subscriptions ({distinct} distinct filter sets), "
            f"{len(matched)} matched, {queued} queued; index built from the store in "
            f"{t_index:.3f} s (once per change of subscriptions)"
        )
        for entry, total, t_match, t_insert in figures:
            print(
                f"    {entry} card: queued in {total:.3f} s (matching {t_match:.3f} s, "
                f"outbox insert {t_insert:.3f} s)"
            )
        print(f"    bare SQLAlchemy executemany insert of the same rows: {t_bare:.3f} s")
    finally:
        async with store.engine.begin() as conn:
            for table in (outbox_t, cards_t, subscriptions_t, feeds_t):
                await conn.execute(sa.delete(table))
        await store.close()


async def queue(args: argparse.Namespace) -> None:
    print("queueing one card:")
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp}/q.sqlite3")
        await queue_one(store, args.subs, "SQLite")
    if args.postgres:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        from sqlalchemy.ext.asyncio import create_async_engine

        admin = create_async_engine(args.postgres)
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            engine = create_async_engine(
                args.postgres, connect_args={"server_settings": {"search_path": schema}}
            )
            await queue_one(SqlStore(engine), args.subs, "PostgreSQL")
        finally:
            async with admin.begin() as conn:
                await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()


# --- /digest ---------------------------------------------------------------------------------


async def digest(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp}/d.sqlite3")
        await store.upgrade()
        now = datetime.now(UTC)
        feed, _ = await store.add_feed("https://news.example/feed.xml")
        card = card_data(bench_card())
        if args.with_text:
            card["text"] = "x " * 3000  # what a card stored before text was dropped carries
        async with store.engine.begin() as conn:
            await conn.execute(
                sa.insert(cards_t),
                [{"feed_id": feed.id, "entry_key": entry_key(str(n)), "data": card,
                  "published_at": now, "created_at": now} for n in range(args.cards)],
            )  # fmt: skip
        catalog = TaxonomyCatalog(Taxonomy.load(CONFIG_DIR / "topics.toml"))
        core = CommandCore(store, catalog)
        chat = ChatRef("telegram", "1")
        await core.handle(CommandRequest(chat, "subscribe", ("tariff", "harbour", "chip",
                                                              "vaccine", "drought")))  # fmt: skip

        async def median_ms(name: str, *words: str) -> float:
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                await core.handle(CommandRequest(chat, name, words))
                times.append((time.perf_counter() - t) * 1000)
            return statistics.median(times)

        d, li = await median_ms("digest"), await median_ms("list")
        none = await median_ms("digest", "volcano", "glacier", "opera", "rugby", "satellite")
        print(
            f"/digest (5 keyword filters) over {args.cards} stored cards: {d:.1f} ms median; "
            f"/list: {li:.1f} ms ({d / li:.1f}x); /digest with 5 keywords no card has "
            f"(reads the 200 latest): {none:.1f} ms ({none / li:.1f}x)"
        )
        await store.close()


# --- OPML import -----------------------------------------------------------------------------


async def opml(args: argparse.Namespace) -> None:
    from bot.feeds_cli import _import

    body = "".join(
        f'<outline type="rss" text="Feed {n}" xmlUrl="https://n{n}.example/feed.xml" '
        f'category="economy"/>'
        for n in range(args.feeds)
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "feeds.opml"
        path.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>{body}</body></opml>')
        store = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp}/o.sqlite3")
        await store.upgrade()
        t = time.perf_counter()
        await _import(store, str(path))
        ours = time.perf_counter() - t
        now = datetime.now(UTC)
        rows = [
            {"url": f"https://b{n}.example/feed.xml", "name": f"Feed {n}", "topics": ["economy"],
             "added_at": now, "error_count": 0, "initialized": False}
            for n in range(args.feeds)
        ]  # fmt: skip
        t = time.perf_counter()
        async with store.engine.begin() as conn:
            await conn.execute(sa.insert(feeds_t), rows)
        bare = time.perf_counter() - t
        await store.close()
    print(
        f"OPML import of {args.feeds} feeds (parse + URL checks + store): {ours:.2f} s; "
        f"bare executemany insert of the same rows: {bare:.2f} s"
    )


# --- memory ----------------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for row in status:
            if row.startswith("VmRSS:"):
                return int(row.split()[1]) / 1024
    return 0.0


async def rss(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        site = Site(args.feeds)
        try:
            async with App(
                settings_for(f"sqlite+aiosqlite:///{tmp}/m.sqlite3"), adapters=[]
            ) as app:
                await seed_feeds(app.store, site, 0)
                for cycle in range(5 + args.cycles):  # 5 to warm up
                    if cycle == 5:
                        start = rss_mb()
                    if args.new:
                        site.control("new", "POST")
                    await make_due(app.store)
                    await app.poll()
                end = rss_mb()
        finally:
            site.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kind = "one-new-item-per-feed" if args.new else "unchanged"
    print(
        f"RSS over {args.cycles} {kind} cycles of {args.feeds} feeds after 5 warm-up: "
        f"{start:.1f} -> {end:.1f} MB ({end - start:+.1f} MB), peak {peak:.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["polls", "queue", "digest", "rss", "opml"])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--new-feeds", type=int, default=1000)
    parser.add_argument("--subs", type=int, default=100_000)
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--new", action="store_true", help="rss: a new item per feed per cycle")
    parser.add_argument("--with-text", action="store_true", help="digest: cards carry text")
    args = parser.parse_args()
    runs = {"polls": polls, "queue": queue, "digest": digest, "rss": rss, "opml": opml}
    asyncio.run(runs[args.what](args))


if __name__ == "__main__":
    main()
