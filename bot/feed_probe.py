"""The :class:`bot.ports.FeedProbe` the command core (and ``digestbot feeds add``) checks feed
addresses with: the address normalised (http and https only: never a local file), then fetched
and parsed through the worker's own pipeline, so through the same guarded fetcher (private
addresses refused unless ``DIGESTBOT_ALLOW_PRIVATE_ADDRESSES``, the same size cap and deadline).

An address that is a web page is searched for its feeds (:mod:`digests.discovery`): the feeds
its head links, best first; else the links in its body that look like feeds ("RSS" in a
footer), best first; else the site's usual places (``/feed``, ``/rss``, ...). Each
candidate is one more request through the same fetcher, a bounded few of them, all within one
deadline; the first that reads as a feed is the one found.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from bot.errors import FeedUrlError
from bot.feed_urls import normalize_feed_url
from bot.ports import FeedFound, FeedProblem
from bot.user_feeds import classify_failure
from digests.discovery import common_feed_urls, looks_like_html, page_feeds
from digests.errors import FeedError, FetchError
from digests.feeds import parse_feed
from digests.models import FetchedResource

__all__ = ["MAX_LINKED_TRIES", "FetcherDocuments", "PipelineFeedProbe"]

# The page's linked feeds (or, with none, its feed-like links) fetched, best first, until one
# reads.
MAX_LINKED_TRIES = 3
# Problems that say the site itself is out of reach: no use asking it for /rss after /feed.
_SITE_DOWN = frozenset({"private", "timeout", "unreachable", "invalid"})


class _FetchesDocuments(Protocol):
    async def fetch_document(self, url: str) -> FetchedResource: ...

    @property
    def feed_timeout(self) -> float: ...


@dataclass(frozen=True, slots=True)
class _Page:
    url: str  # the final address, after redirects
    content: bytes


class _GetsResources(Protocol):
    async def get(self, url: str) -> FetchedResource: ...


class FetcherDocuments:
    """``fetch_document`` over a bare :class:`digests.http.Fetcher`, for the command line
    (``digestbot feeds add``), which builds no pipeline."""

    def __init__(self, fetcher: _GetsResources, feed_timeout: float) -> None:
        self._fetcher = fetcher
        self.feed_timeout = feed_timeout

    async def fetch_document(self, url: str) -> FetchedResource:
        return await self._fetcher.get(url)


class PipelineFeedProbe:
    """Implements :class:`bot.ports.FeedProbe` over ``digests.pipeline.NewsPipeline``;
    ``discovery_seconds`` bounds the search of a page's feeds (default: the pipeline's
    deadline for one feed)."""

    def __init__(
        self, pipeline: _FetchesDocuments, *, discovery_seconds: float | None = None
    ) -> None:
        self._pipeline = pipeline
        self._budget = discovery_seconds or pipeline.feed_timeout

    async def probe(self, url: str) -> FeedFound | FeedProblem:
        try:
            normalized = normalize_feed_url(url)
        except FeedUrlError:
            return FeedProblem("invalid")
        read = await self._read(normalized)
        if not isinstance(read, _Page):
            return read
        try:
            async with asyncio.timeout(self._budget):
                found = await self._discover(normalized, read)
        except TimeoutError:
            return FeedProblem("timeout", f"{self._budget:g}")
        return found or FeedProblem("not_feed")

    async def _discover(self, page_url: str, page: _Page) -> FeedFound | None:
        links, anchors = await asyncio.to_thread(page_feeds, page.content, page.url)
        if links:
            listed = [(link.url, link.title) for link in links]
            tried: set[str] = set()  # the feed found, and those that failed: not offered
            for url, _ in listed[:MAX_LINKED_TRIES]:
                found = await self._candidate(url)
                tried.update((url, found.url) if isinstance(found, FeedFound) else (url,))
                if isinstance(found, FeedFound):
                    others = tuple(o for o in listed if o[0] not in tried)
                    return FeedFound(found.url, found.title, found.entries, page_url, True, others)
            return None
        # No <link> in its head: the links in its body that look like feeds ("RSS" in the
        # footer), a few, then the site's usual places.
        tried = set()
        for url in anchors[:MAX_LINKED_TRIES]:
            tried.add(url)
            found = await self._candidate(url)
            if isinstance(found, FeedFound):
                return FeedFound(found.url, found.title, found.entries, page_url, True)
        for url in common_feed_urls(page.url):
            if url in tried:
                continue
            found = await self._candidate(url)
            if isinstance(found, FeedFound):
                return FeedFound(found.url, found.title, found.entries, page_url, False)
            if found.kind in _SITE_DOWN:
                return None
        return None

    async def _candidate(self, url: str) -> FeedFound | FeedProblem:
        try:
            normalized = normalize_feed_url(url)
        except FeedUrlError:
            return FeedProblem("invalid")
        read = await self._read(normalized)
        return FeedProblem("not_feed") if isinstance(read, _Page) else read

    async def _read(self, url: str) -> FeedFound | FeedProblem | _Page:
        """The feed at ``url``, why there is none, or the page it is (for discovery)."""
        try:
            resource = await self._pipeline.fetch_document(url)
        except FetchError as exc:
            return classify_failure(exc.reason)
        content = resource.content
        if content is None:  # a 304 to a request without validators: nothing to read
            return FeedProblem("not_feed")
        try:
            feed = await asyncio.to_thread(
                parse_feed, content, resource.url, content_type=resource.content_type
            )
        except FeedError:
            if looks_like_html(content, resource.content_type):
                return _Page(resource.url, content)
            return FeedProblem("not_feed")
        return FeedFound(url, feed.title, len(feed.entries))
