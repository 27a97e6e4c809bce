"""The fetcher's aiohttp path: what :class:`digests.http.Fetcher` uses unless a test plugs in
an httpx transport. Same limits and answers as the httpx path (connect and read timeouts,
size cap before and after decompression, bounded redirects, private addresses refused on
every hop); only the client differs, because it costs a tenth of the CPU per request.
"""

from __future__ import annotations

import asyncio
import functools
from http.cookies import SimpleCookie
from urllib.parse import urljoin, urlsplit

import aiohttp
from yarl import URL

from digests.config import PipelineConfig
from digests.errors import FetchError
from digests.http_body import ACCEPT, ACCEPT_ENCODING, RawResponse, not_modified, read_body
from digests.models import FetchedResource
from digests.netguard import Guard, GuardedResolver

__all__ = ["aiohttp_get", "open_session"]

_REDIRECTS = (301, 302, 303, 307, 308)


def open_session(config: PipelineConfig, guard: Guard | None = None) -> aiohttp.ClientSession:
    """The session; with a ``guard``, its connector connects only to addresses the guard
    resolved and checked (pinned: no second lookup to be rebound)."""
    in_flight = max(1, config.max_in_flight)
    # The fetcher's own gates bound requests per site; the connector only keeps connections
    # alive for reuse. Bodies are decompressed by the fetcher, under its size cap.
    connector = aiohttp.TCPConnector(
        limit=2 * in_flight,
        limit_per_host=0,
        resolver=GuardedResolver(guard) if guard is not None else None,
    )
    return aiohttp.ClientSession(
        connector=connector,
        # No cookie jar shared by every site the worker reads, growing with each: cookies a
        # redirect sets are carried to its next hop only (aiohttp_get).
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        headers={"User-Agent": config.user_agent},
        timeout=aiohttp.ClientTimeout(
            total=None, sock_connect=config.connect_timeout, sock_read=config.read_timeout
        ),
    )


async def aiohttp_get(
    session: aiohttp.ClientSession,
    url: str,
    cfg: PipelineConfig,
    etag: str | None,
    last_modified: str | None,
    guard: Guard | None = None,
    body_hash: str | None = None,
    deadline: float | None = None,
) -> FetchedResource:
    """GET ``url`` under the config's limits; ``deadline`` (event loop time) ends the whole
    fetch, redirects and body included, with ``TimeoutError`` (aiohttp's total timeout, so no
    second timer per request)."""
    headers = {"Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    # A URL fetched with validators is a feed, fetched again every cycle: parsed once.
    try:
        current: str | URL = _parsed(url) if (etag or last_modified or body_hash) else url
    except ValueError as exc:  # "http://a:99999/": what aiohttp would call an invalid URL
        raise FetchError(url, f"invalid URL: {exc}") from None
    cookies: SimpleCookie | None = None
    loop = asyncio.get_running_loop()
    try:
        for _ in range(cfg.max_redirects + 1):
            if guard is not None:  # names are checked by the connector's resolver
                guard.check_literal(urlsplit(str(current)).hostname or "")
            timeout = _timeout(cfg, None if deadline is None else deadline - loop.time())
            async with session.get(
                current, headers=headers, allow_redirects=False, timeout=timeout, cookies=cookies
            ) as response:
                status = response.status
                if status == 304:
                    # aiohttp has the (empty) body read and the connection back in the pool:
                    # no body to drain through read_body.
                    return not_modified(
                        str(response.url), response.headers, etag, last_modified, body_hash
                    )
                location = response.headers.get("Location")
                if status in _REDIRECTS and location:
                    current = urljoin(str(response.url), location)
                    target = urlsplit(current)
                    scheme = target.scheme.lower()
                    if scheme not in ("http", "https"):
                        raise FetchError(url, f"redirected to an unsupported URL scheme {scheme!r}")
                    # A site that sets a cookie and sends us back (a consent or session
                    # check) sees it on its next hop; no other site ever does.
                    if target.hostname != response.url.host:
                        cookies = None
                    elif response.cookies:
                        cookies = cookies or SimpleCookie()
                        cookies.update(response.cookies)
                    continue
                raw = RawResponse(
                    str(response.url),
                    status,
                    response.reason,
                    response.headers,
                    response.content.iter_chunked(65_536),
                )
                return await read_body(raw, cfg.max_response_bytes, etag, last_modified, body_hash)
    except aiohttp.ClientError as exc:
        raise FetchError(url, _describe(exc, cfg)) from exc
    raise FetchError(url, f"more than {cfg.max_redirects} redirects")


@functools.lru_cache(maxsize=16_384)
def _parsed(url: str) -> URL:
    """``url`` parsed once: parsing cost a tenth of an unchanged poll, and yarl's own cache
    (128 addresses) holds none of a cycle's feeds. Bounded: about 0.7 KB an address, and a
    worker with more feeds than this parses the rest each time, as before."""
    return URL(url)


def _timeout(cfg: PipelineConfig, left: float | None) -> aiohttp.ClientTimeout:
    if left is not None and left <= 0:
        raise TimeoutError
    # The read timeout is a timer set again on every chunk received (two per unchanged poll,
    # 5-8% of its CPU): only set when it could end the fetch before the whole deadline does,
    # which at the worker's defaults (20 s each) it never can.
    sock_read = cfg.read_timeout if left is None or cfg.read_timeout < left else None
    # Below ceil_threshold aiohttp does not round the total up to a whole second.
    return aiohttp.ClientTimeout(
        total=left,
        sock_connect=cfg.connect_timeout,
        sock_read=sock_read,
        ceil_threshold=3600,
    )


def _describe(exc: aiohttp.ClientError, cfg: PipelineConfig) -> str:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return f"no connection within {cfg.connect_timeout:g}s"
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return f"no data for {cfg.read_timeout:g}s (read timeout)"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return "connection refused"
        return f"could not connect: {exc.os_error or exc}"
    if isinstance(exc, aiohttp.InvalidURL):
        return f"invalid URL: {exc}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
