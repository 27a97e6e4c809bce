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
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bot.app import App  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import (  # noqa: E402
    SqlStore,
    entry_key,
    feeds_t,
    seen_entries_t,
)

PORTS = 50
IN_FLIGHT = 50


def timed_cpu() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def line(label: str, wall: float, cpu: float, n: int) -> str:
    return f"  {label:<44} {wall:8.2f} s  {cpu / max(n, 1) * 1000:7.2f} ms CPU/feed"


# The real pages new items link to (see bench/feed_site.py --pages); the public evaluation set
# beside the checkout, read in place.
REAL_PAGES = ROOT.parent / "shared" / "bench" / "aeb-dev" / "html"


class Site:
    def __init__(self, feeds: int, slow_feed: int = -1, *, real_pages: bool = False) -> None:
        pages = ["--pages", str(REAL_PAGES)] if real_pages else []
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "feed_site.py"), "--feeds", str(feeds),
             "--ports", str(PORTS), "--slow-feed", str(slow_feed), *pages],
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
                ratios: list[tuple[float, float]] = []  # (wall, CPU) of poller / bare loop
                for repeat in range(args.repeat):

                    async def poller() -> tuple[float, float]:
                        await make_due(app.store)
                        wall, cpu = await measure(app.poll)
                        stats = site.control("stats")
                        print(
                            line("digestbot poller", wall, cpu, n),
                            f" peak/site {stats['peak_per_port']}",
                        )
                        return wall, cpu

                    async def bare() -> tuple[float, float]:
                        wall, cpu = await measure(lambda: bare_aiohttp(urls, etags))
                        print(line("bare aiohttp loop", wall, cpu, n))
                        return wall, cpu

                    # Taken in turns, first one then the other: the machine's pace drifts.
                    if repeat % 2:
                        loop_, ours = await bare(), await poller()
                    else:
                        ours, loop_ = await poller(), await bare()
                    ratios.append((ours[0] / loop_[0], ours[1] / loop_[1]))
                    if repeat == 0:  # the other client, once: it is ten times slower
                        wall, cpu = await measure(lambda: bare_httpx(urls, etags))
                        print(line("bare httpx loop", wall, cpu, n))
                for k, what in enumerate(("wall", "CPU")):
                    got = [r[k] for r in ratios]
                    print(
                        f"  poller / bare aiohttp, {what}: median {statistics.median(got):.2f}x "
                        f"over {len(got)} (from {min(got):.2f}x to {max(got):.2f}x)"
                    )
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
        site = Site(m, real_pages=args.pages == "real")
        try:
            async with App(settings_for(db), adapters=[]) as app:
                await seed_feeds(app.store, site, 0)
                site.control("new", "POST")
                print(
                    f"one new item in each of {m} feeds (feed, page, card, queue),"
                    f" {args.pages} pages:"
                )
                await make_due(app.store)
                wall, cpu = await measure(app.poll)
                print(line("digestbot poller", wall, cpu, m))
                site.control("new", "POST")
                urls = [site.url(i) for i in range(m)]
                wall, cpu = await measure(lambda: bare_aiohttp(urls, [None] * m, extract=True))
                print(line("bare aiohttp fetch + feedparser + extract", wall, cpu, m))
        finally:
            site.close()


# --- memory ----------------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for row in status:
            if row.startswith("VmRSS:"):
                return int(row.split()[1]) / 1024
    return 0.0


def children_rss_mb(skip: int) -> float:
    """RSS of this process's card workers (its live children but the feed site ``skip``)."""
    import multiprocessing

    total = 0.0
    for child in multiprocessing.active_children():
        if child.pid is None or child.pid == skip:
            continue
        try:
            with open(f"/proc/{child.pid}/status") as status:
                total += sum(int(r.split()[1]) for r in status if r.startswith("VmRSS:")) / 1024
        except OSError:
            continue
    return total


async def rss(args: argparse.Namespace) -> None:
    settings = settings_for("sqlite+aiosqlite:///unused")
    if args.card_processes is not None:
        settings = settings.model_copy(update={"card_processes": args.card_processes})
    with tempfile.TemporaryDirectory() as tmp:
        site = Site(args.feeds, real_pages=args.new and args.pages == "real")
        settings = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{tmp}/m.db"})
        samples: list[tuple[float, float]] = []
        try:
            async with App(settings, adapters=[]) as app:
                await seed_feeds(app.store, site, 0)
                warm = args.warmup
                for cycle in range(warm + args.cycles):
                    if cycle >= warm and (cycle - warm) % max(1, args.cycles // 10) == 0:
                        samples.append((rss_mb(), children_rss_mb(site.proc.pid)))
                    if args.new:
                        site.control("new", "POST")
                    await make_due(app.store)
                    await app.poll()
                samples.append((rss_mb(), children_rss_mb(site.proc.pid)))
                processes = app.pipeline._work.processes
        finally:
            site.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kind = "one-new-item-per-feed" if args.new else "unchanged"
    (start, start_kids), (end, end_kids) = samples[0], samples[-1]
    print(
        f"RSS over {args.cycles} {kind} cycles of {args.feeds} feeds after {args.warmup} warm-up: "
        f"{start:.1f} -> {end:.1f} MB ({end - start:+.1f} MB), peak {peak:.1f} MB"
    )
    if processes and end_kids:  # a pool starts with the first card: none when unchanged
        print(
            f"  its {processes} card process(es): {start_kids:.1f} -> {end_kids:.1f} MB "
            f"({end_kids - start_kids:+.1f} MB); "
            f"in all {end + end_kids - start - start_kids:+.1f} MB"
        )
    print("  along the way (worker + card processes, MB):", " ".join(
        f"{a + b:.0f}" for a, b in samples
    ))  # fmt: skip


# --- main ------------------------------------------------------------------------------------


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
    parser.add_argument(
        "--card-processes", type=int, default=None, help="rss: DIGESTBOT_CARD_PROCESSES"
    )
    parser.add_argument("--warmup", type=int, default=5, help="rss: cycles before measuring")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="rss: first the same run with glibc's own malloc threshold, in a fresh process",
    )
    parser.add_argument("--with-text", action="store_true", help="digest: cards carry text")
    parser.add_argument(
        "--pages",
        choices=["real", "synthetic"],
        default="real" if REAL_PAGES.is_dir() else "synthetic",
        help="polls: what new items link to (real: ../shared/bench/aeb-dev pages, when present)",
    )
    args = parser.parse_args()
    if args.what == "rss" and args.baseline:
        # malloc's threshold is process-wide and glibc's moving one cannot be brought back
        # once fixed: the baseline (DIGESTBOT_MALLOC_MMAP_THRESHOLD=0) runs in a process of
        # its own, then this one with the setting as the worker has it.
        print("baseline, DIGESTBOT_MALLOC_MMAP_THRESHOLD=0 (glibc's own threshold):", flush=True)
        argv = [a for a in sys.argv[1:] if a != "--baseline"]
        env = {**os.environ, "DIGESTBOT_MALLOC_MMAP_THRESHOLD": "0"}
        subprocess.run([sys.executable, __file__, *argv], env=env, check=True)
        threshold = settings_for("sqlite://").malloc_mmap_threshold
        print(f"as the worker runs (DIGESTBOT_MALLOC_MMAP_THRESHOLD={threshold}):", flush=True)
    from ingest_store import digest, opml, queue

    runs = {"polls": polls, "queue": queue, "digest": digest, "rss": rss, "opml": opml}
    asyncio.run(runs[args.what](args))


if __name__ == "__main__":
    main()
