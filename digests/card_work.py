"""Where the CPU work of a card runs: threads of this process, or a pool of processes.

Extraction, summary, key facts and tagging are pure CPU work. The event loop that fetches feeds
also answers chats, so it never does that work itself: by default each card is built in a
thread (:func:`asyncio.to_thread`); with ``processes > 0`` in a pool of that many worker
processes, which use the other cores (threads share one core's worth of Python through the GIL)
and leave the loop's own thread undisturbed. Each worker builds its taxonomy once, from the
same keywords, and keeps its own caches (language model, compiled keyword patterns).
``bench/ingest.py polls --card-processes N`` measures both ways (see the README).

A worker that dies (killed, out of memory) breaks the pool: the card it was building fails
like any other unexpected error, and the next card starts a fresh pool; after
:data:`MAX_BROKEN_POOLS` in a row, or when no pool can start at all, cards are built in threads.
A worker that dies (killed outright, no time to stop its pool) takes its card processes with it:
each checks every second that the worker is still its parent.

With no number configured, :func:`default_processes` picks one from the cores this process may
use (:func:`usable_cores`): one card process per core beyond the event loop's, at most two.

A pool is replaced by a fresh one after it has been handed ``cards_per_process`` cards per
process (:data:`CARDS_PER_PROCESS` by default): a card process's memory still creeps up a
little long after its caches are full (small freed blocks left as holes in its heap; the large
ones go back to the system, :mod:`digests.heap`), and a new process is the one way to give all
of it back. The old pool finishes the cards already handed to it and then exits. (Not
``ProcessPoolExecutor(max_tasks_per_child=...)``: Python 3.11's has had deadlocks.)
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from digests.cards import build_card
from digests.config import PipelineConfig
from digests.extract import article_from_entry, extract_article
from digests.heap import CARD_PROCESS_MMAP_THRESHOLD, fix_mmap_threshold
from digests.models import Card, FeedEntry
from digests.topics import Taxonomy

__all__ = [
    "CardWork",
    "card_from_entry",
    "card_from_html",
    "default_processes",
    "usable_cores",
]

log = logging.getLogger(__name__)

# Each card process holds its own extractor, language model and caches (150-200 MB once it
# has read a few dozen real pages), and one process already takes the card work off the loop's
# core; more only pay off with many new items at once, which an operator can ask for.
MAX_DEFAULT_PROCESSES = 2
_CGROUP_CPU_MAX = "/sys/fs/cgroup/cpu.max"
# How often a card process checks that its worker is still there (_exit_with).
PARENT_CHECK_SECONDS = 1.0
# A process that dies this many times running (killed for memory on start, say) will die again:
# the cards go to threads rather than each failing in a fresh pool.
MAX_BROKEN_POOLS = 3
# Cards a card process builds before a fresh one takes over. A fresh process costs ~1 s of
# CPU (imports, language model) against ~65 ms per real page, so 2,000 cards keep that under
# 1%. Measured (bench/ingest.py rss --new, real pages), a process past its warm-up grew ~1 MB
# per 100 cards with glibc's own malloc threshold and ~0.4 MB with digests.heap's; replaced
# every 2,000 cards, that never adds up to much.
CARDS_PER_PROCESS = 2000


def default_processes(cores: int) -> int:
    """Card processes when ``DIGESTBOT_CARD_PROCESSES`` is not set: one per core beyond the
    one the event loop runs on (0, threads, on a single core, where a pool only adds CPU), at
    most :data:`MAX_DEFAULT_PROCESSES`.

    Measured (``bench/card_work.py --processes 1``, 2 cores, 500 feeds with one new real page
    each): one process 22.0 s against threads 38.2 s and the bare fetch + extract loop 18.8 s,
    and the loop's lag p99 4 ms against 23 ms.
    """
    return max(0, min(cores - 1, MAX_DEFAULT_PROCESSES))


def usable_cores(cgroup_cpu_max: str = _CGROUP_CPU_MAX) -> int:
    """The cores this process may run on: its CPU affinity, capped by a cgroup v2 CPU quota
    ("200000 100000" is two cores' worth), since a container sees the host's cores in
    ``os.cpu_count()`` but is only given its quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    try:
        with open(cgroup_cpu_max, encoding="ascii") as limit:
            quota, period = limit.read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass  # no cgroup v2 limit to read: the affinity stands
    return cores


def card_from_html(
    html: str | bytes,
    url: str,
    entry: FeedEntry | None,
    *,
    taxonomy: Taxonomy,
    config: PipelineConfig,
) -> Card:
    """The card for a page in hand; raises :class:`~digests.errors.ExtractionError`.

    The entry is not handed to the extractor as ``entry``: it would fall back to the feed's
    content silently, and the pipeline wants to log why the page was not used. build_card
    fills in what the page lacks (date, author, categories) from the entry, so the extractor
    need not search the page for them (``metadata_from``).
    """
    article = extract_article(html, url, metadata_from=entry)
    return build_card(article, taxonomy=taxonomy, config=config, entry=entry)


def card_from_entry(entry: FeedEntry, *, taxonomy: Taxonomy, config: PipelineConfig) -> Card:
    """The card from the feed's own content; raises :class:`~digests.errors.ExtractionError`."""
    return build_card(article_from_entry(entry), taxonomy=taxonomy, config=config, entry=entry)


class CardWork:
    """Builds cards off the event loop: in threads (``processes=0``) or worker processes."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        config: PipelineConfig,
        *,
        processes: int = 0,
        cards_per_process: int = CARDS_PER_PROCESS,
    ) -> None:
        self._taxonomy = taxonomy
        self._config = config
        self.processes = max(0, processes)
        # 0: a pool is kept until it breaks or the work is closed.
        self.cards_per_process = max(0, cards_per_process)
        self._pool: Executor | None = None
        self._handed = 0  # cards handed to the current pool
        self._broken = 0  # pools broken in a row (a worker died before finishing its card)

    async def from_html(self, html: str | bytes, url: str, entry: FeedEntry | None) -> Card:
        if self.processes:
            card = await self._in_pool(_worker_html_card, html, url, entry)
            if card is not None:
                return card
        return await asyncio.to_thread(
            card_from_html, html, url, entry, taxonomy=self._taxonomy, config=self._config
        )

    async def from_entry(self, entry: FeedEntry) -> Card:
        if self.processes:
            card = await self._in_pool(_worker_entry_card, entry)
            if card is not None:
                return card
        return await asyncio.to_thread(
            card_from_entry, entry, taxonomy=self._taxonomy, config=self._config
        )

    def close(self) -> None:
        """Stop the worker processes (cards still queued are dropped; none is half-built in
        this process)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    async def _in_pool(self, work: Callable[..., Card], *args: Any) -> Card | None:
        """The card built in the pool; ``None`` when processes turned out not to work here
        and the caller is to build it in a thread (as every later card will be)."""
        # Imported here: multiprocessing costs `digestbot preview` (threads) ~0.1 s to import.
        from concurrent.futures.process import BrokenProcessPool

        pool = self._pool
        try:
            if pool is None:
                pool = self._start()
            future = asyncio.get_running_loop().run_in_executor(pool, work, *args)
            self._handed += 1
            if self.cards_per_process and self._handed >= self.cards_per_process * self.processes:
                self._retire(pool)
        except (OSError, NotImplementedError) as exc:
            # No pool here (no /dev/shm for its locks, a limit on processes): threads still
            # build cards, where failing every card would leave only headline-and-link ones.
            self._use_threads(f"card processes cannot start here ({exc})")
            return None
        except BrokenProcessPool:  # broken before this card was handed over
            if pool is not None:
                self._broke(pool)
            raise
        try:
            card = await future
        except BrokenProcessPool:
            self._broke(pool)
            raise
        self._broken = 0
        return card

    def _retire(self, pool: Executor) -> None:
        """Replace the pool by a fresh one at the next card; this one finishes the cards it
        holds (this card included: no ``cancel_futures``) and then its processes exit."""
        log.info(
            "card process(es) built %d cards; starting fresh ones (DIGESTBOT_CARDS_PER_PROCESS)",
            self._handed,
        )
        self._pool = None
        pool.shutdown(wait=False)

    def _broke(self, pool: Executor) -> None:
        if self._pool is not pool:
            return  # another card saw it first and replaced the pool
        self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)
        self._broken += 1
        if self._broken >= MAX_BROKEN_POOLS:
            self._use_threads(f"a card process died {self._broken} times in a row")
        else:
            log.error("a card worker process died; starting a new pool")

    def _use_threads(self, why: str) -> None:
        log.error(
            "%s; building cards in threads from now on (DIGESTBOT_CARD_PROCESSES=0 says so "
            "from the start)",
            why,
        )
        self.processes = 0
        pool, self._pool = self._pool, None
        if pool is not None:
            # Cards already handed to it finish there; cancelling them would cancel their polls.
            pool.shutdown(wait=False)

    def _start(self) -> Executor:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        log.info(
            "building cards in %d worker process(es) (DIGESTBOT_CARD_PROCESSES)", self.processes
        )
        # "spawn", not fork: this process runs an event loop and threads (a database driver's,
        # the HTTP client's), which a forked child would inherit in whatever state they were.
        topics = {name: tuple(words) for name, words in self._taxonomy.topics.items()}
        translations = {
            language: {name: tuple(words) for name, words in table.items()}
            for language, table in self._taxonomy.translations.items()
        }
        self._handed = 0
        self._pool = ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_start,
            initargs=(topics, translations, self._config, os.getpid()),
        )
        return self._pool


# --- in the worker processes -------------------------------------------------------------------

_WORKER: tuple[Taxonomy, PipelineConfig] | None = None


def _worker_start(
    topics: dict[str, tuple[str, ...]],
    translations: dict[str, dict[str, tuple[str, ...]]],
    config: PipelineConfig,
    parent: int,
) -> None:
    global _WORKER
    # Ctrl-C in a terminal reaches the whole process group: the worker stops the pool itself
    # on shutdown, and a card process interrupted on its own would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(
        target=_exit_with, args=(parent,), name="card-process-parent-watch", daemon=True
    ).start()
    # Its page buffers go back to the system when freed (digests.heap): without this a card
    # process grew about 5 MB over 500 real pages after its caches were full.
    fix_mmap_threshold(min(config.malloc_mmap_threshold, CARD_PROCESS_MMAP_THRESHOLD))
    _WORKER = (Taxonomy(topics, translations), config)


def _exit_with(parent: int, every: float = PARENT_CHECK_SECONDS) -> None:
    """End this card process once ``parent`` (the worker) is gone.

    A worker killed outright (SIGKILL, the out-of-memory killer, a container's hard stop, a
    crash) never shuts its pool down, and the pool's own pipes keep a card process waiting for
    work: it lived on with its 200 MB, one more after every restart of the worker.
    """
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(0)  # nothing here is the worker's any more: its cards go nowhere


def _worker_state() -> tuple[Taxonomy, PipelineConfig]:
    assert _WORKER is not None, "card worker used before its initializer ran"
    return _WORKER


def _worker_html_card(html: str | bytes, url: str, entry: FeedEntry | None) -> Card:
    taxonomy, config = _worker_state()
    return card_from_html(html, url, entry, taxonomy=taxonomy, config=config)


def _worker_entry_card(entry: FeedEntry) -> Card:
    taxonomy, config = _worker_state()
    return card_from_entry(entry, taxonomy=taxonomy, config=config)
