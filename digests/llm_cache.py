"""Where LLM summaries are kept between calls: the port and an in-memory implementation.

Kept apart from :mod:`digests.llm` so that the store can implement the port without importing
the client (nothing LLM-related loads unless ``DIGESTBOT_LLM_URL`` is set).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["CachedSummary", "MemorySummaryCache", "SummaryCache"]


@dataclass(frozen=True, slots=True)
class CachedSummary:
    summary: tuple[str, ...] | None  # None: the guard rejected the model's text
    outcome: str  # "accepted" or the guard's reason
    content_hash: str = ""
    model: str = ""
    prompt_version: str = ""


class SummaryCache(Protocol):
    async def get_summary(self, key: str) -> CachedSummary | None: ...

    async def put_summary(self, key: str, entry: CachedSummary) -> None: ...

    async def count_summaries_since(self, since: datetime) -> int:
        """Answers stored since ``since`` (by every worker sharing the cache): the model calls
        ``DIGESTBOT_LLM_MAX_PER_HOUR`` counts."""
        ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


class MemorySummaryCache:
    """A process-local cache (``digestbot preview``, tests)."""

    def __init__(self, clock: Callable[[], datetime] = _utcnow) -> None:
        self.entries: dict[str, CachedSummary] = {}
        self.stored_at: dict[str, datetime] = {}
        self._clock = clock

    async def get_summary(self, key: str) -> CachedSummary | None:
        return self.entries.get(key)

    async def put_summary(self, key: str, entry: CachedSummary) -> None:
        if key not in self.entries:  # the first answer is kept, as in the store
            self.entries[key] = entry
            self.stored_at[key] = self._clock()

    async def count_summaries_since(self, since: datetime) -> int:
        return sum(at >= since for at in self.stored_at.values())
