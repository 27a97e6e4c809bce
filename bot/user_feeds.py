"""Feeds a chat adds itself: the pure decisions (``tests/bot/test_bot_user_feeds.py`` is their
table). Why a fetch failed, in words a chat can be told (:func:`classify_failure`); which of a
chat's feeds ``/removefeed 2`` or ``/removefeed URL`` names (:func:`pick_feed`); what an OPML
import may add (:func:`plan_import`).

Public API::

    classify_failure(reason, *, feed_error=False) -> FeedProblem
    pick_feed(word, feeds) -> FeedRecord | None
    plan_import(urls, owned_urls, room) -> ImportPlan
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bot.errors import FeedUrlError
from bot.feed_urls import normalize_feed_url
from bot.models import FeedRecord
from bot.ports import FeedProblem

__all__ = ["MAX_OPML_BYTES", "ImportPlan", "classify_failure", "pick_feed", "plan_import"]

MAX_OPML_BYTES = 512 * 1024  # an OPML of 1,000 feeds is ~150 KB
_HTTP = re.compile(r"^HTTP (\d{3})(?: (.+))?$")
_PRIVATE = re.compile(r"is a private address \(([^:)]+)")
_LIMIT = re.compile(r"the (\d+) byte limit")
_SECONDS = re.compile(r"(\d+(?:\.\d+)?)s")


def classify_failure(reason: str, *, feed_error: bool = False) -> FeedProblem:
    """The :class:`FeedProblem` a fetcher's or parser's one-line reason stands for
    (``digests.http`` and ``digests.feeds`` write those lines)."""
    if feed_error:
        return FeedProblem("not_feed")
    if match := _HTTP.match(reason):
        return FeedProblem("http", " ".join(g for g in match.groups() if g))
    if match := _PRIVATE.search(reason):
        return FeedProblem("private", match.group(1))
    if match := _LIMIT.search(reason):
        return FeedProblem("too_large", f"{int(match.group(1)) / 1_000_000:g}")
    if any(word in reason for word in ("deadline", "timed out", "timeout", "no connection within")):
        seconds = _SECONDS.search(reason)
        return FeedProblem("timeout", seconds.group(1) if seconds else "")
    if reason.startswith(("invalid URL", "unsupported URL scheme", "redirected to an unsupported")):
        return FeedProblem("invalid")
    return FeedProblem("unreachable", reason)


def pick_feed(word: str, feeds: Sequence[FeedRecord]) -> FeedRecord | None:
    """The feed ``word`` names among a chat's ``feeds`` (as ``/feeds`` numbers them, from 1),
    by its number or its address (in any spelling :func:`normalize_feed_url` accepts)."""
    text = word.strip()
    if text.isdigit():
        number = int(text)
        return feeds[number - 1] if 1 <= number <= len(feeds) else None
    candidates = {text}
    with contextlib.suppress(FeedUrlError):
        candidates.add(normalize_feed_url(text))
    return next((f for f in feeds if f.url in candidates), None)


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What an OPML import does with its addresses, in the file's order."""

    to_check: tuple[str, ...]  # normalised, new to the chat, within its room
    already: int  # the chat has them
    over_limit: int  # beyond the chat's room
    invalid: tuple[str, ...]  # not http(s) addresses, as written


def plan_import(urls: Sequence[str], owned_urls: Collection[str], room: int) -> ImportPlan:
    """Each address once; those the chat has are counted, not fetched; at most ``room``
    (the chat's limit less what it has) are checked, the rest counted as over the limit."""
    to_check: list[str] = []
    invalid: list[str] = []
    already = over = 0
    seen: set[str] = set()
    for raw in urls:
        try:
            url = normalize_feed_url(raw)
        except FeedUrlError:
            invalid.append(raw)
            continue
        if url in seen:
            continue
        seen.add(url)
        if url in owned_urls:
            already += 1
        elif len(to_check) < room:
            to_check.append(url)
        else:
            over += 1
    return ImportPlan(tuple(to_check), already, over, tuple(invalid))
