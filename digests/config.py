"""Settings of the news side, as one plain frozen object.

``bot.settings`` builds it from environment variables once, at the edge; nothing here reads
``os.environ``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from digests.heap import DEFAULT_GC_THRESHOLD, DEFAULT_MMAP_THRESHOLD

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    max_summary_words: int = 75
    max_summary_sentences: int = 3
    max_key_facts: int = 5
    max_response_bytes: int = 10 * 1024 * 1024
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    # Overall deadline per fetch, whatever the server trickles (Miniflux's client uses 20 s).
    total_timeout: float = 20.0
    # A whole feed with its pages: pages not in by then are built from the feed's own text, so
    # `digestbot preview FEED` ends within a minute whatever the servers do.
    feed_timeout: float = 45.0
    max_redirects: int = 5
    # Politeness and bounds for many feeds at once: requests in flight in all, and to one origin
    # (scheme, host, port: what browsers limit per host too).
    max_in_flight: int = 50
    max_per_host: int = 2
    user_agent: str = "digestbot/0.1 (+https://github.com/digestbot/digestbot)"
    topics_path: Path = CONFIG_DIR / "topics.toml"
    words_per_minute: int = 230
    cjk_chars_per_minute: int = 500  # reading time of Chinese, Japanese, Korean (digests.lang)
    # Whether pages may live on loopback, private or link-local addresses. The worker turns
    # this off (bot.settings): a feed's entry link must not make it read, and post to chats,
    # what only the server can reach (http://169.254.169.254/..., an intranet admin page).
    allow_private_addresses: bool = True
    # Blocks of this many bytes and more come from mmap in the worker and its card processes,
    # so that freed page buffers go back to the system (digests.heap); 0: glibc's default.
    malloc_mmap_threshold: int = DEFAULT_MMAP_THRESHOLD
    # Allocations before the cyclic garbage collector's young generation is collected in the
    # worker (digests.heap.fix_gc_threshold; card processes keep Python's own: a card cost the
    # same either way in bench/pipeline.py); 0: Python's own 700.
    gc_threshold: int = DEFAULT_GC_THRESHOLD
