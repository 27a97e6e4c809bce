"""The :class:`bot.ports.FeedProbe` the command core checks ``/addfeed`` addresses with: the
address normalised (http and https only: never a local file), then fetched and parsed by the
worker's own pipeline, so through the same guarded fetcher (private addresses refused unless
``DIGESTBOT_ALLOW_PRIVATE_ADDRESSES``, the same size cap and deadline)."""

from __future__ import annotations

from typing import Protocol

from bot.errors import FeedUrlError
from bot.feed_urls import normalize_feed_url
from bot.ports import FeedFound, FeedProblem
from bot.user_feeds import classify_failure
from digests.errors import FeedError, FetchError

__all__ = ["PipelineFeedProbe"]


class _Fetched(Protocol):
    @property
    def feed(self) -> object: ...


class _FetchesFeeds(Protocol):
    async def fetch_feed(self, url: str) -> _Fetched: ...


class PipelineFeedProbe:
    """Implements :class:`bot.ports.FeedProbe` over ``digests.pipeline.NewsPipeline``."""

    def __init__(self, pipeline: _FetchesFeeds) -> None:
        self._pipeline = pipeline

    async def probe(self, url: str) -> FeedFound | FeedProblem:
        try:
            normalized = normalize_feed_url(url)
        except FeedUrlError:
            return FeedProblem("invalid")
        try:
            fetched = await self._pipeline.fetch_feed(normalized)
        except FeedError:
            return FeedProblem("not_feed")
        except FetchError as exc:
            return classify_failure(exc.reason)
        feed = fetched.feed
        if feed is None:  # a 304 to a request without validators: nothing to read
            return FeedProblem("not_feed")
        title = getattr(feed, "title", None)
        return FeedFound(normalized, title, len(getattr(feed, "entries", ())))
