"""Which feed URLs the worker polls, and the one spelling each is stored and compared under.

Only ``http`` and ``https`` URLs come from ``feeds add`` and OPML imports; the feeds file may
also name a local file (``bot.feeds_cli.resolve_feed_url``: a path relative to the file's
folder, or ``file://``), since the operator wrote it (the bundled sample feed is one).
``digestbot preview`` reads any path or URL and does not come here.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import httpx

from bot.errors import FeedUrlError

__all__ = ["MAX_URL_LENGTH", "normalize_feed_url"]

MAX_URL_LENGTH = 2048  # the store's column
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_feed_url(url: str) -> str:
    """``url`` as stored: scheme and host in lower case, no default port, no fragment.

    Raises :class:`FeedUrlError` for anything but an absolute http(s) URL with a host.
    """
    text = url.strip()
    if not text:
        raise FeedUrlError("a feed URL is empty; give one like https://example.org/feed.xml")
    if len(text) > MAX_URL_LENGTH:
        raise FeedUrlError(f"a feed URL is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in text):
        raise FeedUrlError(f"{_shown(text)} has spaces or control characters; not a URL")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise FeedUrlError(f"{_shown(text)} is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        what = f"a {scheme}: URL" if scheme else "not a URL"
        raise FeedUrlError(
            f"{_shown(text)} is {what}; feeds are polled over http or https "
            "(e.g. https://example.org/feed.xml)"
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FeedUrlError(f"{_shown(text)} has no host name")
    netloc = host if ":" not in host else f"[{host}]"  # IPv6 literal
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    if parts.username is not None:
        creds = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{creds}@{netloc}"
    normalized = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    try:  # what the fetcher will do with it: an IDNA host such as "xn--" cannot be requested
        httpx.URL(normalized)
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise FeedUrlError(f"{_shown(text)} is not a valid URL: {exc}") from None
    return normalized


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")
