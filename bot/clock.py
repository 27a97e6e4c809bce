"""The one wall clock of the chat side. Everything that needs "now" takes a clock argument
defaulting to :func:`utcnow`, so tests inject a fixed one."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utcnow"]


def utcnow() -> datetime:
    """Timezone-aware UTC now."""
    return datetime.now(UTC)
