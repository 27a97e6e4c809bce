"""digests.heap: page-sized blocks come from mmap in the worker and in its card processes."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.settings import Settings
from digests.card_work import CardWork
from digests.config import PipelineConfig
from digests.heap import DEFAULT_MMAP_THRESHOLD, fix_mmap_threshold
from digests.topics import Taxonomy

ROOT = Path(__file__).resolve().parents[2]

glibc_only = pytest.mark.skipif(
    not hasattr(os, "confstr") or "CS_GNU_LIBC_VERSION" not in os.confstr_names,
    reason="glibc's malloc only",
)


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


def _mallinfo() -> _MallInfo2:
    mallinfo2 = ctypes.CDLL(None).mallinfo2
    mallinfo2.restype = _MallInfo2
    return mallinfo2()


def page_buffer_is_mmapped() -> bool:
    """After a larger block was freed, is a large block (a page body) served by mmap?

    glibc raises its moving threshold to the size of a freed mmapped block: unless the threshold
    is fixed, the next smaller large block comes from the heap. The block asked for is larger
    than all the heap's free space, which glibc would otherwise hand out first whatever the
    threshold. Runs in the process under test (a card process gets it pickled by name)."""
    size = max(int(_mallinfo().fordblks) + 65_536, 200_000)
    bigger = bytearray(2 * size)
    del bigger
    before = int(_mallinfo().hblkhd)
    page = bytearray(size)
    mmapped = int(_mallinfo().hblkhd) - before >= size
    del page
    return mmapped


def _in_a_fresh_process(code: str) -> bool:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_MMAP_THRESHOLD_"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip() == "True"


@glibc_only
def test_without_a_fixed_threshold_page_buffers_come_from_the_heap() -> None:
    # The mechanism this module is for: glibc's own, moving threshold.
    probe = "from tests.news.test_heap import page_buffer_is_mmapped as p; print(p())"
    assert _in_a_fresh_process(probe) is False


@glibc_only
def test_a_fixed_threshold_keeps_page_buffers_out_of_the_heap() -> None:
    code = (
        "from digests.heap import fix_mmap_threshold as fix\n"
        "from tests.news.test_heap import page_buffer_is_mmapped as p\n"
        "assert fix(128 * 1024)\n"
        "print(p())"
    )
    assert _in_a_fresh_process(code) is True


def test_zero_or_the_operators_own_setting_leaves_malloc_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert fix_mmap_threshold(0) is False
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert fix_mmap_threshold(DEFAULT_MMAP_THRESHOLD) is False


def test_the_worker_fixes_it_by_default_and_zero_turns_it_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.pipeline_config().malloc_mmap_threshold == DEFAULT_MMAP_THRESHOLD == 524288
    monkeypatch.setenv("DIGESTBOT_MALLOC_MMAP_THRESHOLD", "0")
    assert Settings(_env_file=None).pipeline_config().malloc_mmap_threshold == 0  # type: ignore[call-arg]


@pytest.fixture
async def card_process(request: pytest.FixtureRequest) -> AsyncIterator[CardWork]:
    config = PipelineConfig(malloc_mmap_threshold=request.param)
    work = CardWork(Taxonomy.load(config.topics_path), config, processes=1)
    try:
        yield work
    finally:
        work.close()


@glibc_only
@pytest.mark.parametrize(
    ("card_process", "mmapped"),
    [(131072, True), (524288, True), (0, False)],
    indirect=["card_process"],
)
async def test_a_card_process_fixes_it_as_configured_at_most_128_kib(
    card_process: CardWork, mmapped: bool
) -> None:
    assert await card_process._in_pool(page_buffer_is_mmapped) is mmapped  # type: ignore[arg-type]


# --- the cyclic garbage collector ------------------------------------------------------------


def _gc_threshold_in(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code + "\nimport gc; print(gc.get_threshold())"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout.strip().splitlines()[-1]


def test_the_young_generation_is_collected_less_often_and_zero_leaves_python_alone() -> None:
    assert _gc_threshold_in("") == "(700, 10, 10)"  # Python's own
    fixed = "from digests.heap import fix_gc_threshold as fix; assert fix(10_000)"
    assert _gc_threshold_in(fixed) == "(10000, 10, 10)"
    left = "from digests.heap import fix_gc_threshold as fix; assert not fix(0)"
    assert _gc_threshold_in(left) == "(700, 10, 10)"


def test_the_worker_and_its_card_processes_get_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings(_env_file=None).pipeline_config().gc_threshold == 10_000  # type: ignore[call-arg]
    monkeypatch.setenv("DIGESTBOT_GC_THRESHOLD", "0")
    assert Settings(_env_file=None).pipeline_config().gc_threshold == 0  # type: ignore[call-arg]
    monkeypatch.setenv("DIGESTBOT_GC_THRESHOLD", "lots")
    with pytest.raises(ValueError, match="DIGESTBOT_GC_THRESHOLD"):
        Settings(_env_file=None)  # type: ignore[call-arg]
