"""The async news side: feed -> entries -> pages -> digest cards.

Used by ``digestbot preview`` and by the worker. Fetching is async; extraction, summary, key
facts and tagging are CPU work and run off the event loop (:mod:`digests.card_work`: in a
thread, or in a pool of worker processes with ``card_processes``) so that the loop, which also
answers chats, stays responsive. Per-item failures come back as values.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple

from digests.card_work import CARDS_PER_PROCESS, CardWork
from digests.cards import link_card
from digests.config import PipelineConfig
from digests.errors import DigestError, ExtractionError, FetchError
from digests.feeds import parse_feed
from digests.models import Card, FeedEntry, FetchedResource, ParsedFeed
from digests.summarizer import EXTRACTIVE, Summarizer
from digests.topics import Taxonomy

if TYPE_CHECKING:  # the HTTP clients are imported by whoever builds the fetcher
    from digests.http import Fetcher

log = logging.getLogger(__name__)

_NO_DATE = datetime.min.replace(tzinfo=UTC)

CardOutcome = Card | DigestError
"""A card, or the expected error that kept one entry from becoming a card."""


class FeedFetch(NamedTuple):
    """One poll of a feed: ``feed`` is ``None`` when the server said 304 Not Modified."""

    url: str
    feed: ParsedFeed | None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None  # digest of the body (digests.http_body.body_digest)

    @property
    def not_modified(self) -> bool:
        return self.feed is None


class NewsPipeline:
    def __init__(
        self,
        fetcher: Fetcher,
        taxonomy: Taxonomy,
        config: PipelineConfig,
        *,
        summarizer: Summarizer = EXTRACTIVE,
        summary_mode: str = "llm",
        card_processes: int = 0,
        cards_per_process: int = CARDS_PER_PROCESS,
    ) -> None:
        self._fetcher = fetcher
        # Cards are built in threads, or in this many worker processes (close() stops them).
        self._work = CardWork(
            taxonomy, config, processes=card_processes, cards_per_process=cards_per_process
        )
        self._taxonomy = taxonomy
        self._config = config
        # The summarizer used for feeds whose mode is "llm" (the default mode unless a feed
        # says otherwise); extractive when no LLM server is configured.
        self._summarizer = summarizer
        self._summary_mode = summary_mode

    async def fetch_feed(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        body_hash: str | None = None,
        deadline: float | None = None,
    ) -> FeedFetch:
        """Fetch and parse a feed; raises :class:`FetchError` or :class:`FeedError`, and
        ``TimeoutError`` when ``deadline`` (event loop time) passes first.

        Not parsed when the server says 304 or sends the body whose digest is ``body_hash``.
        """
        resource = await self._fetcher.get(
            url, etag=etag, last_modified=last_modified, body_hash=body_hash, deadline=deadline
        )
        if resource.not_modified or resource.content is None:
            # Keep the validators we sent when a 304 does not repeat them.
            return FeedFetch(
                url=url,
                feed=None,
                etag=resource.etag or etag,
                last_modified=resource.last_modified or last_modified,
                body_hash=resource.body_hash or body_hash,
            )
        async with asyncio.timeout_at(deadline):
            feed = await asyncio.to_thread(
                parse_feed, resource.content, resource.url, content_type=resource.content_type
            )
        return FeedFetch(
            url=url,
            feed=feed,
            etag=resource.etag,
            last_modified=resource.last_modified,
            body_hash=resource.body_hash,
        )

    async def fetch_document(self, url: str) -> FetchedResource:
        """The body at ``url``, unparsed, through the same guarded fetcher (its limits, its
        address guard): a feed address checked, or a page searched for its feeds."""
        return await self._fetcher.get(url)

    async def card_for_page(self, url_or_path: str) -> Card:
        """The card for one page (URL, ``file://`` URL or path); raises a :class:`DigestError`."""
        resource = await self._fetcher.get(url_or_path)
        if resource.content is None:  # a 304 without validators sent: nothing to read
            raise FetchError(url_or_path, f"no content (HTTP {resource.status})")
        return await self.card_for_html(resource.content, resource.url)

    async def card_for_html(
        self, html: str | bytes, url: str, *, entry: FeedEntry | None = None
    ) -> Card:
        """The card for a page already in hand; raises :class:`ExtractionError`."""
        return await self._work.from_html(html, url, entry)

    def close(self) -> None:
        """Stop the card worker processes, if any."""
        self._work.close()

    @property
    def feed_timeout(self) -> float:
        """Seconds a whole feed with its pages may take (``PipelineConfig.feed_timeout``)."""
        return self._config.feed_timeout

    def link_card(self, entry: FeedEntry) -> Card:
        """Headline + link (+ the feed's blurb) for an entry whose piece cannot be read."""
        return link_card(entry, taxonomy=self._taxonomy, config=self._config)

    async def card_for_entry(self, entry: FeedEntry, *, deadline: float | None = None) -> Card:
        """The card for a feed entry: its page when that works (and is in by ``deadline``,
        event loop time), else the feed's own content.

        Raises :class:`ExtractionError` only when neither gives any text.
        """
        page_problem = "the entry has no link"
        if entry.link:
            try:
                # Past the feed's bound, a page is not waited for: the feed's text will do.
                async with asyncio.timeout_at(deadline):
                    resource = await self._fetcher.get(entry.link)
                    if resource.content is None:
                        raise FetchError(entry.link, f"no content (HTTP {resource.status})")
                    return await self.card_for_html(resource.content, resource.url, entry=entry)
            except TimeoutError:
                page_problem = "not read within the feed's time bound"
                log.warning("page %s %s; using the feed's own content", entry.link, page_problem)
            except (FetchError, ExtractionError) as exc:
                page_problem = exc.reason
                log.warning(
                    "page %s unusable (%s); using the feed's own content", entry.link, page_problem
                )
        try:
            return await self._work.from_entry(entry)
        except ExtractionError as exc:
            raise ExtractionError(
                entry.link or entry.entry_id,
                f"page: {page_problem}; feed content: {exc.reason}",
            ) from exc

    async def cards_for_entries(
        self,
        entries: Iterable[FeedEntry],
        concurrency: int = 4,
        *,
        summary_mode: str | None = None,
        deadline: float | None = None,
    ) -> list[CardOutcome]:
        """One outcome per entry, in entry order; a failing entry never stops the others.

        ``summary_mode`` ("llm" or "extractive"; ``None``: the pipeline's default) picks the
        summarizer of the feed's cards. Pages are fetched ``concurrency`` at a time until
        ``deadline`` (event loop time; ``feed_timeout`` from now by default); an entry whose
        page is not in by then gets its card from the feed's own text.

        Expected failures come back as they were raised; an unexpected exception is logged
        with its traceback and comes back as an :class:`ExtractionError` caused by it.
        """
        gate = asyncio.Semaphore(max(1, concurrency))
        if deadline is None:
            deadline = asyncio.get_running_loop().time() + self._config.feed_timeout

        async def one(entry: FeedEntry) -> CardOutcome:
            async with gate:
                try:
                    card = await self.card_for_entry(entry, deadline=deadline)
                    return await self._summarized(card, summary_mode)
                except DigestError as exc:
                    return exc
                except Exception as exc:
                    # A bug tripped by one odd page (a parser ValueError, say) must not keep
                    # every other entry of the feed from its card on each poll: log it loudly
                    # with its traceback and turn it into this entry's failure.
                    where = entry.link or entry.entry_id
                    log.exception("unexpected error building the card for %s", where)
                    error = ExtractionError(where, f"unexpected error: {type(exc).__name__}")
                    error.__cause__ = exc
                    return error

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(entry)) for entry in entries]
        return [task.result() for task in tasks]

    async def _summarized(self, card: Card, mode: str | None) -> Card:
        if (mode or self._summary_mode) != "llm":
            return card
        try:
            return await self._summarizer.summarize(card)
        except Exception:
            # A summarizer falls back by itself; a bug in one must not cost the card.
            log.exception("summarizer failed on %s; extractive summary kept", card.url)
            return card


def newest_entries(entries: Sequence[FeedEntry], limit: int) -> list[FeedEntry]:
    """The ``limit`` newest entries, newest first; undated entries keep feed order, last."""
    # A stable sort, so entries with equal dates (or none, sorted last) keep feed order.
    ordered = sorted(entries, key=lambda e: e.published or e.updated or _NO_DATE, reverse=True)
    return ordered[: max(0, limit)]
