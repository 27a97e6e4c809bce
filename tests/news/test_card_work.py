"""Cards built in worker processes are the cards built in threads; a dead worker costs one card."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
from collections.abc import AsyncIterator
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digests.card_work import (
    CARDS_PER_PROCESS,
    MAX_BROKEN_POOLS,
    CardWork,
    default_processes,
    usable_cores,
)
from digests.config import PipelineConfig
from digests.models import FeedEntry
from digests.topics import Taxonomy

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "config" / "samples"
PAGE = SAMPLE / "cgtn-first-voice-china-rok.html"
CONFIG = PipelineConfig()
ENTRY = FeedEntry(
    entry_id="e-1",
    feed_url="https://news.example/feed.xml",
    title="Budget passed",
    link="https://news.example/budget",
    published=datetime(2026, 11, 27, 8, tzinfo=UTC),
    updated=None,
    author="Ann Reporter",
    summary_html=None,
    content_html="<p>"
    + "The city council approved a budget of 4.2 billion dollars on Tuesday. " * 4
    + "</p><p>"
    + "Housing alone receives 1.1 billion dollars over the next three years. " * 4
    + "</p>",
    categories=("Local",),
    language=None,
)


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load(CONFIG.topics_path)


@pytest.fixture
async def pooled(taxonomy: Taxonomy) -> AsyncIterator[CardWork]:
    work = CardWork(taxonomy, CONFIG, processes=1)
    try:
        yield work
    finally:
        work.close()


async def test_process_pool_builds_the_cards_threads_build(
    pooled: CardWork, taxonomy: Taxonomy
) -> None:
    threads = CardWork(taxonomy, CONFIG)
    html = PAGE.read_bytes()
    url = "https://news.cgtn.com/news/first-voice.html"
    assert await pooled.from_html(html, url, ENTRY) == await threads.from_html(html, url, ENTRY)
    assert await pooled.from_html(html, url, None) == await threads.from_html(html, url, None)
    assert await pooled.from_entry(ENTRY) == await threads.from_entry(ENTRY)


async def test_a_card_process_ignores_ctrl_c_which_the_worker_handles(pooled: CardWork) -> None:
    await pooled.from_entry(ENTRY)  # the pool is up
    [pid] = [p.pid for p in multiprocessing.active_children() if "Process" in p.name]
    os.kill(pid, signal.SIGINT)  # what Ctrl-C sends the whole process group
    card = await pooled.from_entry(ENTRY)  # the same process, still serving
    assert card.title == "Budget passed"
    assert [p.pid for p in multiprocessing.active_children() if "Process" in p.name] == [pid]


async def test_a_dead_worker_costs_one_card_and_the_pool_is_replaced(pooled: CardWork) -> None:
    with pytest.raises(BrokenProcessPool):
        await pooled._in_pool(os._exit, 1)  # type: ignore[arg-type]
    card = await pooled.from_entry(ENTRY)
    assert card.title == "Budget passed" and card.author == "Ann Reporter"
    assert pooled.processes == 1  # one death: a fresh pool, still processes


@pytest.mark.parametrize(("cores", "processes"), [(1, 0), (2, 1), (3, 2), (4, 2), (64, 2), (0, 0)])
def test_default_processes_use_the_cores_beyond_the_loops_at_most_two(
    cores: int, processes: int
) -> None:
    assert default_processes(cores) == processes


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [
        ("max 100000\n", "affinity"),  # no quota: the affinity stands
        ("100000 100000\n", 1),
        ("150000 100000\n", 2),  # one and a half cores' worth: a second process has room
        ("not a number\n", "affinity"),
    ],
)
def test_usable_cores_are_capped_by_a_cgroup_quota(
    tmp_path: Path, cpu_max: str, expected: int | str
) -> None:
    limit = tmp_path / "cpu.max"
    limit.write_text(cpu_max)
    affinity = len(os.sched_getaffinity(0))
    want = affinity if expected == "affinity" else min(affinity, int(expected))
    assert usable_cores(str(limit)) == want
    assert usable_cores(str(tmp_path / "missing")) == affinity


async def test_cards_go_to_threads_where_no_process_pool_can_start(
    taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    work = CardWork(taxonomy, CONFIG, processes=1)

    def no_semaphores() -> None:  # what a container without /dev/shm answers
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(work, "_start", no_semaphores)
    card = await work.from_entry(ENTRY)
    assert card == await CardWork(taxonomy, CONFIG).from_entry(ENTRY)
    assert work.processes == 0
    assert "building cards in threads from now on" in caplog.text


async def test_a_process_dying_again_and_again_sends_the_cards_to_threads(
    pooled: CardWork,
) -> None:
    for _ in range(MAX_BROKEN_POOLS):
        assert pooled.processes == 1
        with pytest.raises(BrokenProcessPool):
            await pooled._in_pool(os._exit, 1)  # type: ignore[arg-type]
    assert pooled.processes == 0
    card = await pooled.from_entry(ENTRY)  # in a thread
    assert card.title == "Budget passed"


async def _exited(pid: int) -> bool:
    for _ in range(100):
        if pid not in [p.pid for p in multiprocessing.active_children()]:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a_pool_is_replaced_after_its_cards_and_finishes_those_it_holds(
    taxonomy: Taxonomy,
) -> None:
    work = CardWork(taxonomy, CONFIG, processes=1, cards_per_process=3)
    try:
        first = await work._in_pool(os.getpid)  # type: ignore[arg-type]
        # The second and third handed over at once: the third retires the pool, and both are
        # still built there rather than cancelled.
        card, pid = await asyncio.gather(
            work.from_entry(ENTRY),
            work._in_pool(os.getpid),  # type: ignore[arg-type]
        )
        assert card.title == "Budget passed" and pid == first
        assert await _exited(first)  # its cards done, the old process goes
        fresh = await work._in_pool(os.getpid)  # type: ignore[arg-type]
        assert fresh != first
        assert work.processes == 1  # a replacement is not a breakage
    finally:
        work.close()


async def test_a_pool_is_kept_when_cards_per_process_is_zero(taxonomy: Taxonomy) -> None:
    work = CardWork(taxonomy, CONFIG, processes=1, cards_per_process=0)
    try:
        pids = {await work._in_pool(os.getpid) for _ in range(5)}  # type: ignore[arg-type]
        assert len(pids) == 1
    finally:
        work.close()


def test_the_settings_default_is_the_card_works() -> None:
    from bot.settings import Settings

    assert Settings.model_fields["cards_per_process"].default == CARDS_PER_PROCESS


_WORKER_SCRIPT = """
import asyncio, multiprocessing, sys
from digests.card_work import CardWork
from digests.config import PipelineConfig
from digests.models import FeedEntry
from digests.topics import Taxonomy

async def main():
    work = CardWork(Taxonomy({"budget": ("budget",)}, {}), PipelineConfig(), processes=1)
    entry = FeedEntry(entry_id="e", feed_url="https://a.example/f", title="Budget passed",
                      content_html="<p>" + "The budget passed on Tuesday. " * 20 + "</p>")
    await work.from_entry(entry)  # the pool is up
    with open(sys.argv[1], "w") as out:
        out.write(" ".join(str(p.pid) for p in multiprocessing.active_children()))
    await asyncio.sleep(120)  # killed long before

asyncio.run(main())
"""


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
async def test_a_card_process_ends_when_its_worker_is_killed_outright(tmp_path: Path) -> None:
    # SIGKILL (or the out-of-memory killer) leaves the worker no time to shut its pool down.
    # The pid comes in a file, not a pipe the card process would hold open too.
    pids = tmp_path / "pids"
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _WORKER_SCRIPT, str(pids), cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(600):  # the pool starts within seconds; a minute at most
            if pids.exists() and pids.read_text():
                break
            await asyncio.sleep(0.1)
        [card_process] = [int(pid) for pid in pids.read_text().split()]
        assert _running(card_process)
    finally:
        worker.kill()
        await worker.wait()
    try:
        for _ in range(100):  # it checks every second
            if not _running(card_process):
                break
            await asyncio.sleep(0.1)
        assert not _running(card_process)
    finally:
        if _running(card_process):  # what the test found wrong: not left behind
            os.kill(card_process, signal.SIGKILL)
