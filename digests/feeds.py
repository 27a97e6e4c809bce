"""Turn feed documents (RSS 0.9x/1.0/2.0, Atom, JSON Feed) into :class:`ParsedFeed`.

feedparser does the XML formats; JSON Feed is mapped here because it is plain JSON. A feed
that is malformed but still yields entries is used, with feedparser's complaint in
``ParsedFeed.warning``; one that yields nothing raises :class:`FeedError`.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import json
import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

import feedparser

from digests.errors import FeedError
from digests.models import FeedEntry, ParsedFeed
from digests.textclean import clean_entry, clean_line

log = logging.getLogger(__name__)

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")
_TAG = re.compile(r"<[^>]+>")


def parse_feed(content: bytes, url: str, *, content_type: str | None = None) -> ParsedFeed:
    """Parse a feed document fetched from ``url`` (relative links resolve against it).

    Entries come cleaned (:func:`digests.textclean.clean_entry`) and once each
    (:func:`unique_entries`): preview and worker see the same entries.
    """
    feed = _parse_document(content, url, content_type)
    entries = unique_entries(clean_entry(e) for e in feed.entries)
    title = clean_line(feed.title) if feed.title else None
    return replace(feed, title=title or None, entries=entries)


def unique_entries(entries: Iterable[FeedEntry]) -> tuple[FeedEntry, ...]:
    """Each entry once, by the identity rule used across polls (:func:`entry_identity`): a feed
    listing one item twice yields it once, at its first place."""
    seen: dict[str, FeedEntry] = {}
    for entry in entries:
        seen.setdefault(entry.entry_id, entry)
    return tuple(seen.values())


def _parse_document(content: bytes, url: str, content_type: str | None) -> ParsedFeed:
    if _looks_like_json(content, content_type):
        return parse_json_feed(content, url)
    parsed = _feedparser_parse(content, url, content_type)
    bozo_message = _bozo_message(parsed)
    feed_meta: Mapping[str, Any] = parsed.get("feed", {})
    feed_language = feed_meta.get("language") or None
    entries = tuple(
        _entry_from_feedparser(raw, url, feed_language)
        for raw in parsed.get("entries", [])
        if raw is not None
    )
    if not entries:
        if parsed.get("version") and not bozo_message:
            # A well-formed feed with no items yet is healthy, just empty.
            return ParsedFeed(
                url=url,
                title=_clean_title(feed_meta.get("title")) or None,
                site_url=feed_meta.get("link"),
                entries=(),
                ttl_minutes=_ttl(feed_meta.get("ttl")),
            )
        reason = bozo_message or "not a feed (no RSS, Atom or JSON Feed entries found)"
        raise FeedError(url, f"no entries: {reason}")
    return ParsedFeed(
        url=url,
        title=_clean_title(feed_meta.get("title")) or None,
        site_url=feed_meta.get("link"),
        entries=entries,
        ttl_minutes=_ttl(feed_meta.get("ttl")),
        warning=bozo_message,
    )


def entry_identity(
    guid: str | None, link: str | None, title: str | None, content: str | None
) -> str:
    """A stable id for one entry: its guid/id, else its link, else a hash of title + content.

    Never a date: an entry whose ``updated`` changes is still the same entry.
    """
    for candidate in (guid, link):
        if candidate and candidate.strip():
            return candidate.strip()
    digest = hashlib.sha256(f"{title or ''}\n{content or ''}".encode()).hexdigest()
    return f"sha256:{digest}"


def safe_link(link: str | None, feed_url: str) -> str | None:
    """The entry link if the fetcher may follow it, else ``None``.

    Web links always qualify. Links to local files (``file:`` URLs, bare paths) only come
    from a feed that was itself read from disk (the bundled sample feed): a feed on the web
    must never make the worker read files off its own disk. Other schemes (``mailto:``,
    ``javascript:``, ``ftp:``) are not pages.
    """
    if not link or not link.strip():
        return None
    link = link.strip()
    scheme = urlsplit(link).scheme.lower()
    if scheme in ("http", "https"):
        return link
    if _is_local(link) and _is_local(feed_url):
        return link
    return None


def _is_local(url: str) -> bool:
    scheme = urlsplit(url).scheme.lower()
    # one-letter "schemes" are Windows drive letters
    return scheme == "file" or (len(scheme) <= 1 and "://" not in url)


def neutralise_char_refs(content: bytes) -> bytes:
    """Replace numeric character references that name no valid character with U+FFFD.

    feedparser raises (instead of flagging the feed) on surrogates, values past U+10FFFF and
    numbers too long for a C int.
    """

    def fix(match: re.Match[bytes]) -> bytes:
        hex_digits, dec_digits = match.group(1), match.group(2)
        digits = hex_digits or dec_digits
        if len(digits) > 8:
            return b"&#xFFFD;"
        value = int(digits, 16 if hex_digits else 10)
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            return b"&#xFFFD;"
        return match.group(0)

    return _CHAR_REF.sub(fix, content)


# --- feedparser -----------------------------------------------------------------------------


def _feedparser_parse(content: bytes, url: str, content_type: str | None) -> Any:
    # Without a content-type feedparser flags every document as bozo (NonXMLContentType);
    # no declared type is no evidence against the document, so assume XML.
    headers = {
        "content-location": _resolution_base(url),
        "content-type": content_type or "application/xml",
    }
    try:
        return feedparser.parse(content, response_headers=headers)
    except (ValueError, OverflowError, UnicodeError):
        pass
    try:
        return feedparser.parse(neutralise_char_refs(content), response_headers=headers)
    except Exception as exc:  # feedparser bugs must not take the poll down with them
        raise FeedError(url, f"feed parser failed: {type(exc).__name__}: {exc}") from exc


def _resolution_base(url: str) -> str:
    # feedparser's urljoin turns "file:///srv/feed.xml" + "page.html" into "file://srv/..."
    # (a host named "srv"); resolving against the plain path gives a path the fetcher reads.
    parts = urlsplit(url)
    if parts.scheme.lower() == "file" and parts.netloc in ("", "localhost"):
        return url2pathname(unquote(parts.path))
    return url


def _bozo_message(parsed: Mapping[str, Any]) -> str | None:
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    if exc is None:
        return "malformed feed"
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _entry_from_feedparser(
    raw: dict[str, Any], feed_url: str, feed_language: str | None = None
) -> FeedEntry:
    content_html = _pick_content(raw.get("content") or [])
    summary_html = raw.get("summary") or None
    if summary_html is not None and summary_html == content_html:
        summary_html = None  # feedparser copies <content> into summary when there is none
    title_type = (raw.get("title_detail") or {}).get("type")
    title = _clean_title(raw.get("title"), is_html=title_type in _HTML_TYPES)
    link = safe_link(raw.get("link"), feed_url)
    # feedparser resolves permalink guids against the feed URL, as it does links; guids with
    # isPermaLink="false" stay verbatim.
    guid = raw.get("id") or None
    # dict.get, not FeedParserDict.get: the latter maps a missing published_parsed onto
    # updated_parsed with a DeprecationWarning.
    published = dict.get(raw, "published_parsed")
    updated = dict.get(raw, "updated_parsed")
    return FeedEntry(
        entry_id=entry_identity(guid, link, title, content_html or summary_html),
        feed_url=feed_url,
        title=title,
        link=link,
        # RSS 1.0's dc:date lands in "updated" only: it is the best publication date there is.
        published=_struct_to_utc(published or updated),
        updated=_struct_to_utc(updated),
        author=_feedparser_author(raw),
        summary_html=summary_html,
        content_html=content_html,
        categories=_unique(tag.get("term") for tag in raw.get("tags") or []),
        language=_entry_language(raw) or feed_language,
    )


def _entry_language(raw: Mapping[str, Any]) -> str | None:
    """An Atom entry's own xml:lang, as feedparser records it on the content or title."""
    for detail in [*(raw.get("content") or []), raw.get("title_detail") or {}]:
        language = detail.get("language") if isinstance(detail, Mapping) else None
        if isinstance(language, str) and language.strip():
            return language.strip()
    return None


def _feedparser_author(raw: Mapping[str, Any]) -> str | None:
    # RSS <author> is "jane@example.com (Jane Doe)"; feedparser splits out the name.
    detail = raw.get("author_detail") or {}
    name = detail.get("name") or raw.get("author") or ""
    return " ".join(str(name).split()) or None


def _pick_content(contents: Iterable[Mapping[str, Any]]) -> str | None:
    items = [c for c in contents if c.get("value")]
    for item in items:
        if item.get("type") in _HTML_TYPES:
            return str(item["value"])
    if items:
        value = str(items[0]["value"])
        return value if items[0].get("type") in _HTML_TYPES else _text_to_html(value)
    return None


def _struct_to_utc(value: time.struct_time | None) -> datetime | None:
    # feedparser has already normalised the date to UTC in a struct_time.
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _ttl(value: Any) -> int | None:
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes if minutes > 0 else None


# --- JSON Feed ------------------------------------------------------------------------------


def _looks_like_json(content: bytes, content_type: str | None) -> bool:
    if content_type and "json" in content_type.lower():
        return True
    return content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def parse_json_feed(content: bytes, url: str) -> ParsedFeed:
    """Map a JSON Feed (https://jsonfeed.org, versions 1 and 1.1) onto :class:`ParsedFeed`."""
    try:
        doc = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedError(url, f"not a feed: invalid JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise FeedError(url, "not a feed: JSON without an 'items' list")
    warning = None
    if "jsonfeed.org" not in str(doc.get("version", "")):
        warning = "JSON document without a jsonfeed.org version; read as a JSON Feed anyway"
    feed_author = _json_author(doc)
    feed_language = doc.get("language") if isinstance(doc.get("language"), str) else None
    entries_list: list[FeedEntry] = []
    for item in doc["items"]:
        if not isinstance(item, dict):
            continue
        try:
            entries_list.append(_entry_from_json(item, url, feed_author, feed_language))
        except (TypeError, ValueError, OverflowError) as exc:
            # One malformed item (tags: 5, a URL like "http://[bad", year 9999 plus an offset)
            # must not keep the feed's good items from arriving on every poll.
            log.warning("feed %s: skipped a malformed JSON Feed item: %s", url, exc)
    entries = tuple(entries_list)
    if not entries and warning:
        raise FeedError(url, "not a feed: JSON without a jsonfeed.org version or items")
    home = doc.get("home_page_url")
    return ParsedFeed(
        url=url,
        title=_clean_title(doc.get("title")) or None,
        site_url=urljoin(url, home) if isinstance(home, str) and home else None,
        entries=entries,
        warning=warning,
    )


def _entry_from_json(
    item: Mapping[str, Any],
    feed_url: str,
    feed_author: str | None,
    feed_language: str | None = None,
) -> FeedEntry:
    link_value = item.get("url") or item.get("external_url")
    try:
        link = safe_link(
            urljoin(feed_url, link_value) if isinstance(link_value, str) else None, feed_url
        )
    except ValueError:  # "http://[bad": the item stays, without a link
        link = None
    content_html = _str_or_none(item.get("content_html"))
    if content_html is None and _str_or_none(item.get("content_text")):
        content_html = _text_to_html(str(item["content_text"]))
    summary = _str_or_none(item.get("summary"))
    title = _clean_title(item.get("title"))
    guid = item.get("id")
    return FeedEntry(
        entry_id=entry_identity(
            str(guid) if guid is not None else None, link, title, content_html or summary
        ),
        feed_url=feed_url,
        title=title,
        link=link,
        published=_iso_to_utc(item.get("date_published")),
        updated=_iso_to_utc(item.get("date_modified")),
        author=_json_author(item) or feed_author,
        summary_html=html.escape(summary) if summary else None,
        content_html=content_html,
        categories=_unique(t for t in _list(item.get("tags")) if isinstance(t, str)),
        language=item.get("language") if isinstance(item.get("language"), str) else feed_language,
    )


def _json_author(obj: Mapping[str, Any]) -> str | None:
    authors = obj.get("authors")
    candidates = authors if isinstance(authors, list) else [obj.get("author")]
    names = [a.get("name") for a in candidates if isinstance(a, dict) and a.get("name")]
    return ", ".join(str(n) for n in names) or None


def _iso_to_utc(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-05:00 lies past datetime.max in UTC
        return None


# --- small helpers -------------------------------------------------------------------------


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _text_to_html(text: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)


def _clean_title(value: Any, *, is_html: bool = False) -> str:
    if not isinstance(value, str):
        return ""
    if is_html:
        value = html.unescape(_TAG.sub(" ", value))
    return " ".join(value.split())


def _unique(values: Iterable[Any]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        if isinstance(value, str) and value.strip():
            seen.setdefault(value.strip(), None)
    return tuple(seen)
