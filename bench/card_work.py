"""Card building in threads or in worker processes, one new item in each of N feeds, one run.

    python bench/card_work.py [--new-feeds 1000] [--processes 2] [--rounds 1]

Against ``bench/feed_site.py`` (as ``bench/ingest.py polls``): every feed gets one new item
(feed, page, card, queue) and the worker's poller reads them, once with cards built in threads
(``DIGESTBOT_CARD_PROCESSES=0``) and once in a pool of ``--processes`` worker processes, beside
the bare concurrent fetch + feedparser + ``trafilatura.extract`` loop over the same feeds and
pages; the order alternates over ``--rounds``. For each: wall time, CPU per feed of this process
and of the card workers, and the event loop's lag while it runs (a task asking to wake every
10 ms: how late it woke, median, p99 and max), which is how long a chat command would wait.
Both are warmed up (the pool's start; the language model, keyword patterns) before the timing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import (  # noqa: E402
    REAL_PAGES,
    App,
    Site,
    bare_aiohttp,
    make_due,
    seed_feeds,
    settings_for,
)

from digests.models import FeedEntry  # noqa: E402

WARM_ENTRY = FeedEntry(
    entry_id="warm",
    feed_url="http://127.0.0.1/warm.xml",
    title="Warm-up",
    link=None,
    published=datetime(2026, 1, 1, tzinfo=UTC),
    updated=None,
    author=None,
    summary_html=None,
    content_html="<p>" + "The bank kept its rates unchanged on Tuesday as inflation cooled. " * 6,
    categories=(),
    language=None,
)


def children_cpu() -> dict[str, float]:
    """CPU seconds of each live child of this process (the card workers and the feed site)."""
    found: dict[str, float] = {}
    me = str(os.getpid())
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            found[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return found


async def timed(work: Callable[[], Awaitable[object]], n: int) -> str:
    """Run ``work`` with a 10 ms ticker on the loop; wall, CPU per item and loop lag."""
    loop = asyncio.get_running_loop()
    lags: list[float] = []

    async def ticker() -> None:
        while True:
            start = loop.time()
            await asyncio.sleep(0.01)
            lags.append(loop.time() - start - 0.01)

    tick = asyncio.create_task(ticker())
    wall, cpu, before = time.perf_counter(), time.process_time(), children_cpu()
    await work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    kids = sum(t - before.get(pid, 0.0) for pid, t in children_cpu().items())
    tick.cancel()
    lags.sort()
    return (
        f"{wall:7.2f} s  CPU/feed: this process {cpu / n * 1000:6.2f} ms, children "
        f"{kids / n * 1000:6.2f} ms;  loop lag median {statistics.median(lags) * 1000:5.1f} "
        f"ms, p99 {lags[int(0.99 * (len(lags) - 1))] * 1000:6.1f} ms, max {lags[-1] * 1000:6.1f} ms"
    )


async def poller_cycle(db: str, site: Site, n: int, processes: int) -> str:
    settings = settings_for(db).model_copy(update={"card_processes": processes})
    async with App(settings, adapters=[]) as app:
        await seed_feeds(app.store, site, site.control("new", "POST")["version"] - 1)
        # Warm up outside the timing (the pool's spawn and imports; for both, the language
        # model and the keyword patterns): a worker pays them once, not per cycle.
        await asyncio.gather(
            *(app.pipeline._work.from_entry(WARM_ENTRY) for _ in range(2 * max(1, processes)))
        )
        await make_due(app.store)
        return await timed(app.poll, n)


async def main_async(args: argparse.Namespace) -> None:
    n = args.new_feeds
    print(
        f"one new item in each of {n} feeds (feed, page, card, queue); {os.cpu_count()} cores; "
        f"children CPU includes the feed site's (see the bare loop's line); {args.pages} pages"
    )
    with tempfile.TemporaryDirectory() as tmp:
        site = Site(n, real_pages=args.pages == "real")
        try:
            urls = [site.url(i) for i in range(n)]
            for round_ in range(args.rounds):
                order = [0, args.processes] if round_ % 2 == 0 else [args.processes, 0]
                for processes in order:
                    db = f"sqlite+aiosqlite:///{tmp}/cards-{round_}-{processes}.sqlite3"
                    label = f"{processes} card processes" if processes else "card threads"
                    print(f"  poller, {label:<22}", await poller_cycle(db, site, n, processes))
                site.control("new", "POST")
                result = await timed(lambda: bare_aiohttp(urls, [None] * n, extract=True), n)
                print("  bare fetch + feedparser + extract", result)
        finally:
            site.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--new-feeds", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--pages",
        choices=["real", "synthetic"],
        default="real" if REAL_PAGES.is_dir() else "synthetic",
        help="what new items link to (real: ../shared/bench/aeb-dev pages, when present)",
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
