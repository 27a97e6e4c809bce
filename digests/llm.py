"""Abstractive summaries from an OpenAI-compatible server, behind :class:`Summarizer`.

One model call per article (never per subscriber): the answer, or the guard's rejection of it,
is kept in a :class:`SummaryCache` keyed by the article's content hash, the model and the
prompt version, so restarts and other workers reuse it. Whatever goes wrong (no answer in
time, the server refusing, the hourly cap reached, the guard rejecting the text) the card keeps
its extractive summary and the reason is counted in :class:`LlmCounters` and logged. Key facts
and the editor's note are never touched: they stay verbatim from the article.

Imported only when ``DIGESTBOT_LLM_URL`` is set (see ``bot.app``).
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import logging
import re
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from digests.config import CONFIG_DIR
from digests.lang import detect_language, length_budget
from digests.llm_cache import CachedSummary, MemorySummaryCache, SummaryCache
from digests.llm_client import ChatClient, LlmError
from digests.llm_guard import GuardInput, Verdict, check_summary
from digests.models import Card
from digests.sentences import split_sentences
from digests.summary_units import CJK_CHARS_PER_WORD, is_cjk
from digests.summary_units import text_length as unit_length

__all__ = [
    "CachedSummary",
    "HourlyCap",
    "LlmConfig",
    "LlmCounters",
    "LlmSummarizer",
    "MemorySummaryCache",
    "Prompt",
    "SummaryCache",
    "content_hash",
    "fit_text",
]

log = logging.getLogger(__name__)

DEFAULT_PROMPT = CONFIG_DIR / "prompts" / "summary-v1.txt"
_HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class LlmConfig:
    url: str
    model: str
    api_key: str | None = field(default=None, repr=False)  # a secret: never in a log line
    timeout: float = 30.0  # per request
    deadline: float = 60.0  # per article, retries included
    concurrency: int = 2
    max_retries: int = 2
    max_per_hour: int | None = None
    max_input_chars: int = 12_000  # ~3,000 tokens: fits the 4k context of small local models
    prompt_path: Path = DEFAULT_PROMPT
    temperature: float = 0.2


# --- what is counted -----------------------------------------------------------------------


class LlmCounters:
    """Outcomes of the LLM summarizer by name: ``accepted``, ``cached``, ``cached_fallback``
    and each fallback reason. Exporters subscribe with :meth:`subscribe`."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self._listeners: list[Callable[[str], None]] = []

    def subscribe(self, listener: Callable[[str], None]) -> None:
        self._listeners.append(listener)

    def count(self, outcome: str) -> None:
        self.counts[outcome] += 1
        for listener in self._listeners:
            listener(outcome)


class HourlyCap:
    """At most ``limit`` model calls in any 60 minutes (``None``: no cap), across workers.

    Answered calls are counted where every worker sees them: the answers stored in the cache in
    the last hour. Calls of this worker that stored nothing (timeouts, errors) and calls still
    in flight are counted here. Not seen: other workers' failed calls, and calls that several
    workers start in the same instant (the cap can be passed by the calls in flight).
    """

    def __init__(
        self,
        limit: int | None,
        stored_since: Callable[[datetime], Awaitable[int]] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.limit = limit
        self._stored_since = stored_since
        self._clock = clock
        self._failed: collections.deque[datetime] = collections.deque()
        self._in_flight = 0

    async def take(self) -> bool:
        """Book a call if the cap allows it; :meth:`done` must follow a True."""
        if self.limit is None:
            return True
        since = self._clock() - _HOUR
        while self._failed and self._failed[0] < since:
            self._failed.popleft()
        stored = await self._stored_since(since) if self._stored_since else 0
        if stored + len(self._failed) + self._in_flight >= self.limit:
            return False
        self._in_flight += 1
        return True

    def done(self, *, stored: bool) -> None:
        if self.limit is None:
            return
        self._in_flight -= 1
        if not stored:
            self._failed.append(self._clock())


# --- the cache key ---------------------------------------------------------------------


def content_hash(text: str) -> str:
    """The article's text, whitespace aside: a page re-rendered with other line breaks is the
    same article."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def _cache_key(text_hash: str, model: str, prompt_version: str) -> str:
    return hashlib.sha256(f"{text_hash}|{model}|{prompt_version}".encode()).hexdigest()


# --- the prompt ----------------------------------------------------------------------------

_LANGUAGE_NAMES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "pt": "Portuguese",
    "it": "Italian", "nl": "Dutch", "ru": "Russian", "uk": "Ukrainian", "pl": "Polish",
    "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "ar": "Arabic", "tr": "Turkish",
    "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish", "cs": "Czech",
    "he": "Hebrew", "hi": "Hindi", "id": "Indonesian", "vi": "Vietnamese", "el": "Greek",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Prompt:
    """The versioned instructions of ``config/prompts``; the version is the file's name plus
    a hash of its text, so editing the file invalidates cached summaries."""

    template: str
    version: str

    @classmethod
    def load(cls, path: Path) -> Prompt:
        text = path.read_text(encoding="utf-8")
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
        return cls(text, f"{path.stem}:{digest}")

    def instructions(self, *, language: str | None, budget: int, cjk: bool) -> str:
        # A script name from the detector ("cyrillic") is no language to ask for.
        name = _LANGUAGE_NAMES.get(language or "", "the same language as the article")
        unit = "characters" if cjk else "words"
        return string.Template(self.template).safe_substitute(
            language=name, budget=budget, unit=unit
        )


_PARAGRAPHS = re.compile(r"\n\s*\n")


def fit_text(text: str, max_chars: int) -> str:
    """``text`` cut to ``max_chars`` at paragraph boundaries, the lead always kept (cut at a
    sentence when the first paragraph alone is too long)."""
    if len(text) <= max_chars:
        return text
    paragraphs = [p.strip() for p in _PARAGRAPHS.split(text) if p.strip()]
    kept: list[str] = []
    used = 0
    for paragraph in paragraphs:
        if used + len(paragraph) + 2 > max_chars:
            break
        kept.append(paragraph)
        used += len(paragraph) + 2
    if not kept and paragraphs:
        lead = ""
        for sentence in split_sentences(paragraphs[0]):
            if len(lead) + len(sentence) + 1 > max_chars:
                break
            lead = f"{lead} {sentence}".strip()
        kept = [lead or paragraphs[0][:max_chars]]
    return "\n\n".join(kept)


# --- length (the card's language when it has one, else the script of its text) -------------


def budget_units(text: str, language: str | None, max_words: int) -> tuple[int, bool]:
    """The summary budget in the extractive summary's unit (``digests.summary_units``):
    ``(budget, cjk)``, characters for Chinese, Japanese and Korean, else words."""
    cjk = is_cjk(language) if language else length_budget(1, None, text) > 1
    return (max(1, round(max_words * CJK_CHARS_PER_WORD)) if cjk else max_words), cjk


# --- the summarizer ------------------------------------------------------------------------

_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_LABEL = re.compile(r"^\s*(?:\*\*)?summary(?:\*\*)?\s*:\s*", re.IGNORECASE)


def clean_completion(text: str) -> str:
    """The summary without a reasoning model's ``<think>`` block, a "Summary:" label or
    wrapping quotes."""
    text = _LABEL.sub("", _THINKING.sub("", text)).strip()
    if len(text) > 1 and text[0] in '"“' and text[-1] in '"”' and text.count('"') <= 2:
        text = text[1:-1].strip()
    return text


class LlmSummarizer:
    def __init__(
        self,
        client: ChatClient,
        config: LlmConfig,
        *,
        max_summary_words: int,
        cache: SummaryCache | None = None,
        counters: LlmCounters | None = None,
        cap: HourlyCap | None = None,
        prompt: Prompt | None = None,
        language_of: Callable[[str], str | None] = detect_language,
    ) -> None:
        self.client = client
        self.config = config
        self.max_summary_words = max_summary_words
        self.cache: SummaryCache = cache or MemorySummaryCache()
        self.counters = counters or LlmCounters()
        self.cap = cap or HourlyCap(config.max_per_hour, self.cache.count_summaries_since)
        self.prompt = prompt or Prompt.load(config.prompt_path)
        self._language_of = language_of
        self._gate = asyncio.Semaphore(max(1, config.concurrency))
        # The same article in two feeds polled together: one call, both wait for it.
        self._inflight: dict[str, asyncio.Future[CachedSummary | None]] = {}

    def cache_key(self, text: str) -> str:
        return _cache_key(content_hash(text), self.client.model, self.prompt.version)

    async def summarize(self, card: Card) -> Card:
        if not card.text.strip():
            return card  # a headline-and-link card: nothing to summarise
        key = self.cache_key(card.text)
        entry = await self.cache.get_summary(key)
        if entry is not None:
            self.counters.count("cached" if entry.summary else "cached_fallback")
            return replace(card, summary=entry.summary) if entry.summary else card
        pending = self._inflight.get(key)
        if pending is not None:
            entry = await asyncio.shield(pending)
        else:
            future: asyncio.Future[CachedSummary | None] = (
                asyncio.get_running_loop().create_future()
            )
            self._inflight[key] = future
            entry = None
            try:
                entry = await self._fresh(card, key)
            finally:
                # Cancelled or failed: whoever waits on the same article keeps its extractive
                # summary rather than inheriting this task's cancellation.
                future.set_result(entry)
                del self._inflight[key]
        return replace(card, summary=entry.summary) if entry and entry.summary else card

    async def _fresh(self, card: Card, key: str) -> CachedSummary | None:
        """A new answer, judged and cached; ``None`` when there was none (over the cap, no
        answer in time, an error)."""
        if not await self.cap.take():
            self._fallback(card.url, "over_cap", f"{self.cap.limit} calls in the last hour")
            return None
        entry = None
        try:
            entry = await self._ask(card, key)
        finally:
            self.cap.done(stored=entry is not None)
        return entry

    async def _ask(self, card: Card, key: str) -> CachedSummary | None:
        where = card.url
        language = card.language or self._language_of(card.text)
        budget, cjk = budget_units(card.text, language, self.max_summary_words)
        instructions = self.prompt.instructions(language=language, budget=budget, cjk=cjk)
        article = fit_text(card.text, self.config.max_input_chars)
        messages = [
            {"role": "system", "content": instructions},
            {"role": "user", "content": f"{card.title}\n\n{article}"},
        ]
        try:
            async with self._gate:
                completion = await self.client.complete(
                    messages,
                    # Room for the budget in any script, not for an essay: the cost stays bounded.
                    max_tokens=max(64, 4 * budget),
                    temperature=self.config.temperature,
                )
        except LlmError as exc:
            self._fallback(where, exc.reason, exc.detail)
            return None
        text = clean_completion(completion.text)
        if completion.finish_reason == "length":
            verdict = Verdict(False, "over_budget", "cut off at max_tokens")
        else:
            verdict = check_summary(
                text,
                GuardInput(
                    text=card.text,
                    title=card.title,
                    author=card.author,
                    language=language,
                    budget=budget,
                    instructions=instructions,
                ),
                length=lambda summary: unit_length(summary, cjk),
                detect_language=self._language_of,
            )
        identity = {
            "content_hash": content_hash(card.text),
            "model": self.client.model,
            "prompt_version": self.prompt.version,
        }
        if verdict.accepted:
            sentences = tuple(split_sentences(text)) or (text,)
            entry = CachedSummary(sentences, "accepted", **identity)
            self.counters.count("accepted")
        else:
            entry = CachedSummary(None, verdict.reason or "rejected", **identity)
            self._fallback(where, entry.outcome, verdict.detail)
        await self.cache.put_summary(key, entry)
        return entry

    def _fallback(self, where: str, reason: str, detail: str) -> None:
        self.counters.count(reason)
        log.info("LLM summary of %s not used (%s: %s); extractive summary kept", where, reason,
                 detail)  # fmt: skip

    async def aclose(self) -> None:
        await self.client.aclose()
