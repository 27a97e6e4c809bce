"""``digestbot feeds add|list|remove|import|export`` and the ``config/feeds.toml`` format.

``feeds.toml``::

    [[feeds]]
    name = "Sample opinion feed"
    url = "samples/sample-feed.xml"   # a URL, or a path relative to this file
    topics = ["opinion"]              # optional: topics every entry of this feed gets

Public API::

    load_feeds_file(path) -> list[FeedConfig]
    resolve_feed_url(url, base_dir) -> str
    parse_opml(data: bytes) -> list[FeedConfig] ; render_opml(feeds) -> str
    main_feeds(settings, args) -> int
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from bot.errors import FeedsFileError, FeedUrlError
from bot.feed_probe import FetcherDocuments, PipelineFeedProbe
from bot.feed_urls import MAX_URL_LENGTH, normalize_feed_url
from bot.models import FeedRecord
from bot.opml import FeedConfig, parse_opml, render_opml
from bot.ports import FeedFound, FeedProblem
from bot.settings import Settings
from bot.status_cli import feed_error
from bot.store import SqlStore, open_store
from digests.http import Fetcher
from digests.textclean import is_clean

__all__ = [
    "FeedConfig",
    "FeedsFileError",
    "load_feeds_file",
    "main_feeds",
    "parse_opml",
    "render_opml",
    "resolve_feed_url",
]


def resolve_feed_url(url: str, base_dir: Path) -> str:
    """URLs stay; a local path (relative to ``base_dir``) becomes a ``file://`` URL.

    Raises :class:`FeedsFileError` saying what is wrong with a URL no fetch could use: too
    long, control characters, an unparsable host (``http://[::1``), a web URL with no host.
    """
    url = url.strip()
    if not url:
        raise FeedsFileError("the feed URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise FeedsFileError(
            f"the feed URL is {len(url)} characters long; at most {MAX_URL_LENGTH} work"
        )
    if not is_clean(url) or any(c.isspace() for c in url):
        raise FeedsFileError(
            f"the feed URL {url[:60]!r} contains spaces or control characters; "
            "percent-encode them (%20)"
        )
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError as exc:
        raise FeedsFileError(f"not a usable URL: {url[:80]!r} ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise FeedsFileError(f"the feed URL {url[:80]!r} has no host name")
        return normalize_feed_url(url)  # one spelling per feed (case, default port, fragment)
    if scheme == "file":
        return url
    if len(scheme) > 1 and "://" in url:
        raise FeedsFileError(
            f"unsupported URL scheme {scheme!r} in {url[:80]!r}: use http, https or a file path"
        )
    path = Path(url).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    return path.resolve().as_uri()


def _topics(value: object, path: Path | None = None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        reason = f"topics must be a list of words, not {value!r}"
        raise _bad_feeds_file(path, reason) if path else FeedsFileError(reason)
    return tuple(str(t).strip().lower() for t in value if str(t).strip())


def _bad_feeds_file(path: Path, reason: object) -> FeedsFileError:
    return FeedsFileError(
        f"feeds file {path}: {reason} (fix it, or set DIGESTBOT_FEEDS_FILE to another file)"
    )


def load_feeds_file(path: Path) -> list[FeedConfig]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise _bad_feeds_file(path, exc) from exc
    entries = data.get("feeds", [])
    if not isinstance(entries, list):
        raise _bad_feeds_file(path, "expected [[feeds]] tables with a url each")
    feeds = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not str(entry.get("url", "")).strip():
            raise _bad_feeds_file(path, f"feed #{number} has no url")
        try:
            url = resolve_feed_url(str(entry["url"]), path.parent)
        except (FeedsFileError, FeedUrlError) as exc:
            raise _bad_feeds_file(path, f"feed #{number}: {exc}") from None
        feeds.append(
            FeedConfig(
                url=url,
                name=str(entry["name"]) if entry.get("name") else None,
                topics=_topics(entry.get("topics"), path),
            )
        )
    return feeds


# --- the command --------------------------------------------------------------------------


def feed_health(feed: FeedRecord) -> str:
    """One line: failing (and why), never polled, or last poll; next poll; origin."""
    if feed.error_count:
        health = f"FAILING x{feed.error_count}: {feed_error(feed)}"
    elif feed.last_polled_at is None:
        health = "not polled yet"
    else:
        health = f"ok, polled {feed.last_polled_at:%Y-%m-%d %H:%M} UTC"
    if feed.next_poll_at is not None:
        health += f"; next poll {feed.next_poll_at:%Y-%m-%d %H:%M} UTC"
    if feed.origin == "file":
        health += "; from the feeds file"
    elif feed.origin == "chat":
        health += "; added from chats (reaches them only)"
    return health


async def _import(store: SqlStore, file: str) -> int:
    data = await asyncio.to_thread(Path(file).read_bytes)
    imported = parse_opml(data)
    refused = 0
    good: list[tuple[str, str | None, Sequence[str]]] = []
    for entry in imported:
        try:
            url = normalize_feed_url(entry.url)
        except FeedUrlError as exc:
            refused += 1
            print(f"digestbot feeds: skipped: {exc}", file=sys.stderr)
            continue
        good.append((url, entry.name, entry.topics))
    added = await store.add_feeds(good)
    print(f"imported {len(imported) - refused} feed(s) from {file}: {added} new")
    return 1 if refused else 0


async def _remove(store: SqlStore, value: str, feeds_file: Path) -> int:
    url = value
    with contextlib.suppress(FeedUrlError):
        url = normalize_feed_url(value) if urlsplit(value).scheme else value
    feed = await store.get_feed(url)
    if feed is not None and feed.origin == "file":
        # The file manages its feeds: removed here, the feed would come back at the next
        # start. Say where to remove it instead.
        print(
            f"{url} comes from the feeds file {feeds_file}: remove it there (the worker drops "
            "it at its next start)",
            file=sys.stderr,
        )
        return 1
    done = await store.remove_operator_feed(url) if feed is not None else None
    if done is not None:
        # A feed chats added too stays theirs (polled for them, delivered to them only).
        print(f"{done}: {url}")
        return 0
    print(f"no such feed: {url} (digestbot feeds list shows them)", file=sys.stderr)
    return 1


async def _check(settings: Settings, url: str) -> FeedFound | FeedProblem:
    """``url`` fetched once through the worker's own guarded fetcher and limits; a web page
    is searched for its feed, as ``/addfeed`` does (``bot.feed_probe``)."""
    config = settings.pipeline_config()
    async with Fetcher(config) as fetcher:
        probe = PipelineFeedProbe(FetcherDocuments(fetcher, config.feed_timeout))
        return await probe.probe(url)


def _found_line(found: FeedFound | None) -> str:
    if found is None:
        return " (not checked)"
    what = f"'{found.title}', " if found.title else ""
    entries = f"{found.entries} entr{'y' if found.entries == 1 else 'ies'}"
    if found.page is None:
        return f" (a feed: {what}{entries})"
    where = "linked from" if found.on_page else "at the site of"
    return f" (the feed {what}{entries}, {where} the page {found.page})"


def _problem_line(url: str, problem: FeedProblem) -> str:
    why = {
        "not_feed": "not a feed, and no feed found on the page or at its site's usual places",
        "private": f"a private or local network address ({problem.detail}); set "
        "DIGESTBOT_ALLOW_PRIVATE_ADDRESSES=true if the worker may read it",
        "http": f"HTTP {problem.detail}",
        "timeout": f"no answer within {problem.detail} seconds",
        "too_large": f"larger than {problem.detail} MB",
        "invalid": "not an http or https address",
    }.get(problem.kind, problem.detail or problem.kind)
    return f"digestbot feeds: not added: {url}: {why} (--no-check stores it as given)"


def _summary_mode(feed: FeedRecord, settings: Settings) -> str:
    mode = feed.summary_mode or settings.summary_mode
    shown = mode if feed.summary_mode else f"{mode} (default)"
    if mode == "llm" and not settings.llm_url:
        shown += ", extractive until DIGESTBOT_LLM_URL is set"
    return shown


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    async with open_store(settings.database_url) as store:
        action = args.feeds_command
        if action == "add":
            url = normalize_feed_url(args.url)
            checked = None if args.no_check else await _check(settings, url)
            if isinstance(checked, FeedProblem):
                print(_problem_line(url, checked), file=sys.stderr)
                return 1
            stored = checked.url if checked is not None else url
            feed_topics = _topics(args.topics) if args.topics else ()
            feed, created = await store.add_feed(
                stored, name=args.name, topics=feed_topics, summary_mode=args.summary
            )
            verb = "added" if created else "already there, updated"
            found = _found_line(checked)
            print(f"{verb}: {feed.url}{found}  (the worker picks it up at its next poll)")
            for other, title in checked.others if checked is not None else ():
                print(f"  the page also links: {other}" + (f"  ({title})" if title else ""))
            return 0
        if action == "list":
            feeds = await store.list_feeds()
            if not feeds:
                print("no feeds yet: digestbot feeds add URL")
            for feed in feeds:
                topics = f" [{', '.join(feed.topics)}]" if feed.topics else ""
                print(
                    f"{feed.url}  {feed.name or ''}{topics}\n    {feed_health(feed)}; "
                    f"summary: {_summary_mode(feed, settings)}"
                )
            return 0
        if action == "remove":
            return await _remove(store, args.url, settings.feeds_file)
        if action == "import":
            return await _import(store, args.file)
        if action == "export":
            text = render_opml(await store.list_feeds())
            if args.file:
                await asyncio.to_thread(Path(args.file).write_text, text, encoding="utf-8")
                print(f"wrote {args.file}")
            else:
                sys.stdout.write(text)
            return 0
        raise AssertionError(f"unknown feeds action {action!r}")


def main_feeds(settings: Settings, args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(settings, args))
    except (FeedsFileError, OSError) as exc:
        print(f"digestbot feeds: {exc}", file=sys.stderr)
        return 1
