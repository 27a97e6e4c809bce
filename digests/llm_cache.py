"""Where LLM summaries are kept between calls: the port and an in-memory implementation.

Kept apart from :mod:`digests.llm` so that the store can implement the port without importing
the client (nothing LLM-related loads unless ``DIGESTBOT_LLM_URL`` is set).
"""

from __future__ import annotations

from dataclasses import dataclass
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


class MemorySummaryCache:
    """A process-local cache (``digestbot preview``, tests)."""

    def __init__(self) -> None:
        self.entries: dict[str, CachedSummary] = {}

    async def get_summary(self, key: str) -> CachedSummary | None:
        return self.entries.get(key)

    async def put_summary(self, key: str, entry: CachedSummary) -> None:
        self.entries[key] = entry
