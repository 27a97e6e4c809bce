"""Which summary a card carries: the port the pipeline calls once per card it builds.

:func:`digests.cards.build_card` always writes the extractive summary (the author's own
sentences). A :class:`Summarizer` may put another one in its place, keeping everything else;
the default keeps the extractive one. The LLM summarizer (:mod:`digests.llm`) is wired only when
``DIGESTBOT_LLM_URL`` is set, so that without it nothing more is imported.
"""

from __future__ import annotations

from typing import Protocol

from digests.models import Card

__all__ = ["EXTRACTIVE", "SUMMARY_MODES", "ExtractiveSummarizer", "Summarizer"]

SUMMARY_MODES = ("llm", "extractive")


class Summarizer(Protocol):
    async def summarize(self, card: Card) -> Card:
        """``card`` with the summary this summarizer chose (the same card when it keeps the
        extractive one). Never raises for a summary it cannot make: it falls back."""
        ...


class ExtractiveSummarizer:
    """The default: the card keeps the sentences :func:`digests.summarize.summarize` chose."""

    async def summarize(self, card: Card) -> Card:
        return card


EXTRACTIVE = ExtractiveSummarizer()
