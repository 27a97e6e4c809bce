"""Keep a long-running process's memory from creeping: large blocks straight from the system.

glibc's ``malloc`` serves a block above its *mmap threshold* with its own ``mmap`` and gives it
back to the system when it is freed; a smaller block comes from the heap, where a freed block
stays a hole the process keeps. The threshold starts at 128 KiB, but glibc raises it to the size
of any such block that is freed (up to 32 MiB). A worker frees large blocks all the time (page
bodies and their parse buffers: 25 KB to 1.4 MB on real pages), so after the first few pages
they all come from the heap and leave holes of every size, and both the worker and its card
processes grow for dozens of cycles after their caches are full.

Fixing the threshold (``mallopt(M_MMAP_THRESHOLD)``, which also stops glibc moving it) keeps
those blocks out of the heap. Not at glibc's own 128 KiB: asyncio reads a socket into a fresh
256 KiB buffer each time, and below that size every read became an mmap and a munmap (a bare
aiohttp loop of 10,000 304 answers took about 35% more CPU). At 512 KiB the reads come from
the heap as before (``strace -c`` of 5,000 polls: the same mmap, munmap and brk counts as
glibc's own) and pages above it do not. Measured with ``python bench/ingest.py rss --feeds 10
--cycles 50 --new --baseline`` (real pages, one card process), see the README. The cost, a
system call and fresh pages per large block, was within the noise of ``bench/pipeline.py``.

Nothing is done where the C library is not glibc, or where ``MALLOC_MMAP_THRESHOLD_`` is set
in the environment (glibc has read the operator's own choice at start-up).

The cyclic garbage collector is tuned here too (:func:`fix_gc_threshold`): its youngest
generation is collected after 700 more allocations than frees, and each collection of an older
one walks every object that survived, which in a worker with trafilatura, lxml, SQLAlchemy and
their caches loaded is some 150,000. An unchanged poll allocates a few hundred short-lived
objects, almost all freed by reference counting before any collection could find them, yet a
cycle of 10,000 unchanged feeds ran about 95 young and 9 middle collections and a full one:
10-20 us of a poll's ~200 us (``gc.callbacks``). From 10,000 allocations on, the same cycle ran
2 young collections and about 1 us a poll. Garbage in reference cycles waits a little longer
to be collected; nothing is kept that would not be.
"""

from __future__ import annotations

import gc
import logging
import os

__all__ = [
    "CARD_PROCESS_MMAP_THRESHOLD",
    "DEFAULT_GC_THRESHOLD",
    "DEFAULT_MMAP_THRESHOLD",
    "fix_gc_threshold",
    "fix_mmap_threshold",
]

log = logging.getLogger(__name__)

DEFAULT_MMAP_THRESHOLD = 512 * 1024  # above asyncio's 256 KiB socket read buffer
# A card process reads no socket: its large blocks are pages and what is parsed from them, so
# it keeps glibc's starting value (at most: a smaller setting is taken as it is).
CARD_PROCESS_MMAP_THRESHOLD = 128 * 1024
# Allocations (net of frees) before the cyclic collector's youngest generation is collected;
# Python's own is 700 (see the module's docstring).
DEFAULT_GC_THRESHOLD = 10_000
_M_TRIM_THRESHOLD = -1  # <malloc.h>
_M_MMAP_THRESHOLD = -3


def _is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (ValueError, OSError, AttributeError):  # not a GNU C library, or no confstr at all
        return False


def fix_mmap_threshold(size: int) -> bool:
    """Serve blocks of ``size`` bytes and more with ``mmap`` from now on in this process;
    ``0`` leaves glibc's moving threshold alone. True when the threshold was set."""
    if size <= 0 or "MALLOC_MMAP_THRESHOLD_" in os.environ or not _is_glibc():
        return False
    import ctypes  # here: settings import this module, and every command imports settings

    try:
        mallopt = ctypes.CDLL(None).mallopt
        done = mallopt(_M_MMAP_THRESHOLD, size) == 1
        # The free space glibc keeps at the top of the heap before giving it back, which its
        # moving threshold also raises: back to the threshold. Lower, and each socket read's
        # buffer freed at the top was handed back and asked for again (two brk calls a read);
        # twice as high (glibc's own ratio), and the worker kept ~2 MB more over 50 cycles.
        if done:
            mallopt(_M_TRIM_THRESHOLD, size)
    except (OSError, AttributeError) as exc:  # a libc without mallopt
        log.debug("mallopt unavailable: %s", exc)
        return False
    if not done:  # glibc refuses sizes above its 32 MiB maximum
        log.warning("could not set the malloc mmap threshold to %d bytes", size)
    return done


def fix_gc_threshold(allocations: int) -> bool:
    """Collect the cyclic garbage collector's youngest generation after ``allocations`` (net)
    rather than Python's 700; the older generations keep their own thresholds. ``0`` leaves
    the collector as it is. True when the threshold was set."""
    if allocations <= 0:
        return False
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(allocations, middle, oldest)
    return True
