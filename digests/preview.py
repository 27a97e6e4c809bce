"""``digestbot preview``: build cards for pages, saved HTML files or feeds and print them.

Each input is fetched once (one shared :class:`~digests.http.Fetcher`); a feed is recognised by
its content type or by sniffing its first bytes, and its newest entries are previewed. Inputs are
processed concurrently but printed in the order given. A bad input costs one line on stderr,
``digestbot: <input>: <reason>``, and an exit status of 1 at the end; the others still print.
Logging goes to stderr so that stdout stays clean JSON for ``--format json`` and ``slack``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from digests.card_work import CardWork
from digests.config import PipelineConfig
from digests.errors import DigestError, FeedError, FetchError
from digests.feeds import parse_feed
from digests.local_files import local_path, read_file
from digests.models import Card, FetchedResource
from digests.pipeline import NewsPipeline, newest_entries
from digests.render import slack, telegram, text
from digests.topics import Taxonomy

if TYPE_CHECKING:
    from digests.http import Fetcher

log = logging.getLogger(__name__)

FORMATS = ("text", "telegram", "slack", "json")
INPUT_CONCURRENCY = 4

_FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/x-rss+xml",
    }
)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:rdf)[\s>]")
_HTML_ROOT = re.compile(rb"<(?:!doctype\s+html|html)[\s>]")


def looks_like_feed(content: bytes, content_type: str | None = None) -> bool:
    """Is this document a feed (RSS, Atom, RDF, JSON Feed) rather than a web page?"""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in _FEED_TYPES:
        return True
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"{"):
        return b"jsonfeed.org/version" in head
    if media in _HTML_TYPES or _HTML_ROOT.search(head):
        return False
    return bool(_FEED_ROOT.search(head))


@dataclass(frozen=True, slots=True)
class _Failure:
    label: str  # what to name on the error line: the input, or input + entry
    reason: str


_Result = Card | _Failure


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return reason if isinstance(reason, str) else (str(exc) or type(exc).__name__)


class _Previewer:
    """Cards for the inputs. Saved files are read and built without the HTTP clients, which
    are imported and opened on the first input (or feed entry) that needs the network: a
    preview of a saved page starts that much sooner."""

    def __init__(
        self,
        config: PipelineConfig,
        taxonomy: Taxonomy,
        limit: int,
        stack: contextlib.AsyncExitStack,
    ) -> None:
        self._config = config
        self._taxonomy = taxonomy
        self._work = CardWork(taxonomy, config)
        self._limit = limit
        self._gate = asyncio.Semaphore(INPUT_CONCURRENCY)
        self._stack = stack
        self._online_lock = asyncio.Lock()
        self._online_parts: tuple[Fetcher, NewsPipeline] | None = None

    async def _online(self) -> tuple[Fetcher, NewsPipeline]:
        async with self._online_lock:
            if self._online_parts is None:
                from digests.http import Fetcher

                fetcher = await self._stack.enter_async_context(Fetcher(self._config))
                pipeline = NewsPipeline(fetcher, self._taxonomy, self._config)
                self._online_parts = (fetcher, pipeline)
            return self._online_parts

    async def _get(self, source: str) -> FetchedResource:
        path = _local(source)
        if path is not None:
            limit = self._config.max_response_bytes
            return await asyncio.to_thread(read_file, source, path, limit, None)
        fetcher, _ = await self._online()
        return await fetcher.get(source)

    async def results(self, source: str) -> list[_Result]:
        async with self._gate:
            # One bound for the input: a feed's pages get what its own fetch left of it.
            deadline = asyncio.get_running_loop().time() + self._config.feed_timeout
            try:
                resource = await self._get(source)
                if resource.content is None:
                    raise FetchError(source, f"no content (HTTP {resource.status})")
                if looks_like_feed(resource.content, resource.content_type):
                    return await self._feed(source, resource, deadline)
                return [await self._work.from_html(resource.content, resource.url, None)]
            except DigestError as exc:
                return [_Failure(source, _reason(exc))]
            except Exception as exc:  # the CLI edge: one input's bug must not hide the others
                log.debug("unexpected error for %s", source, exc_info=True)
                return [_Failure(source, f"unexpected error: {_reason(exc)}")]

    async def _feed(self, source: str, resource: FetchedResource, deadline: float) -> list[_Result]:
        assert resource.content is not None
        feed = await asyncio.to_thread(
            parse_feed, resource.content, resource.url, content_type=resource.content_type
        )
        entries = newest_entries(feed.entries, self._limit)
        if not entries:
            raise FeedError(source, "the feed has no entries")
        _, pipeline = await self._online()
        outcomes = await pipeline.cards_for_entries(entries, deadline=deadline)
        results: list[_Result] = []
        for entry, outcome in zip(entries, outcomes, strict=True):
            if isinstance(outcome, Card):
                # A page without a site name: the feed's title names the source.
                results.append(outcome if outcome.source else replace(outcome, source=feed.title))
            else:
                name = entry.link or entry.title or entry.entry_id
                results.append(_Failure(f"{source}: {name}", _reason(outcome)))
        return results


def _printer(fmt: str, out: TextIO) -> Callable[[Card], None]:
    first = True

    def emit(card: Card) -> None:
        nonlocal first
        if fmt == "json":
            out.write(json.dumps(card.to_dict(), ensure_ascii=False) + "\n")
        elif fmt == "slack":
            out.write(json.dumps(slack.render_card(card).to_dict(), ensure_ascii=False) + "\n")
        else:
            body = telegram.render_card(card) if fmt == "telegram" else text.render_card(card)
            out.write(("" if first else "\n" + "-" * 40 + "\n\n") + body + "\n")
        out.flush()
        first = False

    return emit


async def _run(
    inputs: Sequence[str], fmt: str, limit: int, config: PipelineConfig, taxonomy: Taxonomy
) -> int:
    emit = _printer(fmt, sys.stdout)
    failed = False
    async with contextlib.AsyncExitStack() as stack:
        previewer = _Previewer(config, taxonomy, limit, stack)
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(previewer.results(source)) for source in inputs]
            progress = _progress_line(len(inputs))
            for done, task in enumerate(tasks, 1):  # input order, each as soon as it is ready
                for result in await task:
                    if isinstance(result, Card):
                        emit(result)
                    else:
                        failed = True
                        progress(None)
                        print(f"digestbot: {result.label}: {result.reason}", file=sys.stderr)
                progress(done)
            progress(None)
    return 1 if failed else 0


def _local(source: str) -> Path | None:
    """The file ``source`` names, or ``None`` for a web address (or one the fetcher will
    refuse with its own message, such as ``http://[::1/feed``)."""
    try:
        return local_path(source)
    except ValueError:
        return None


def _progress_line(total: int) -> Callable[[int | None], None]:
    """``n/total`` on one terminal line while cards go to a file (``> cards.jsonl``); nothing
    when stderr is not a terminal or stdout is (the cards themselves show progress there).
    ``None`` clears the line so that an error message or the end starts clean."""
    shown = total > 1 and sys.stderr.isatty() and not sys.stdout.isatty()

    def show(done: int | None) -> None:
        if shown:
            text = "" if done is None else f"digestbot: {done}/{total} inputs done"
            sys.stderr.write("\r\x1b[K" + text)
            sys.stderr.flush()

    return show


def _configure_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("digestbot: %(levelname)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
    # trafilatura logs what it thinks of a page ("parsed tree length: 0, wrong data type or
    # not valid HTML") as an ERROR; the card's own failure line says it, with the input's name.
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


def main_preview(
    inputs: list[str], *, fmt: str, limit: int = 3, config: PipelineConfig | None = None
) -> int:
    """Print a card per input (or per newest feed entry); 0 if all worked, else 1.

    ``config`` comes from the caller (``bot.cli`` builds it from the settings); the defaults of
    :class:`PipelineConfig` are used without one.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if limit < 1:
        print(f"digestbot: --limit must be at least 1 (got {limit})", file=sys.stderr)
        return 2
    config = config or PipelineConfig()
    _configure_logging()
    try:
        taxonomy = Taxonomy.load(config.topics_path)
    except (DigestError, OSError, ValueError) as exc:
        print(f"digestbot: {config.topics_path}: cannot load topics: {exc}", file=sys.stderr)
        return 1
    return asyncio.run(_run(inputs, fmt, limit, config, taxonomy))
