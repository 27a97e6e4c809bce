"""Fetch feeds and pages over HTTP (or from disk) with hard limits on time and size.

Every limit here protects the worker from one hostile or broken server: a connect and a read
timeout, an overall deadline that a trickling server cannot stretch, a cap on the decompressed
body that a compression bomb cannot get round, and a bounded number of redirects. Failures come
out as :class:`~digests.errors.FetchError` with a one-line reason.

``file://`` URLs and plain filesystem paths are read from disk under the same size cap, so that
``digestbot preview page.html`` and the bundled sample feed work offline.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import httpx

from digests.config import PipelineConfig
from digests.errors import FetchError
from digests.http_body import ACCEPT, ACCEPT_ENCODING, RawResponse, read_body
from digests.local_files import local_path as _local_path
from digests.local_files import read_file as _read_file
from digests.models import FetchedResource
from digests.netguard import AddressRefused, Guard


class _Gates:
    """At most ``total`` requests in flight, and at most ``per_origin`` to one origin
    (scheme, host, port): many feeds polled at once must not hammer one site.

    A request waits only for a slot it could use: one queued behind a busy site holds no slot
    other sites could use, and a freed slot goes to the first waiter (in arrival order) whose
    site has room. Plain counters rather than two ``asyncio.Semaphore`` per request: a free
    slot (nearly every unchanged poll) is taken without a coroutine, a timer or a lookup of
    waiters, thousands of times per poll cycle.
    """

    def __init__(self, total: int, per_origin: int) -> None:
        self._free = max(1, total)
        self._per_origin = max(1, per_origin)
        self._busy: dict[str, int] = {}  # origin -> its requests in flight (idle ones dropped)
        self._waiters: list[tuple[str, asyncio.Future[None]]] = []

    def try_enter(self, origin: str) -> bool:
        """Take a slot for ``origin`` if one is free now. No waiter is passed over: every
        waiter's site is full, or there is no free slot (see :meth:`_wake`)."""
        if self._free > 0 and self._busy.get(origin, 0) < self._per_origin:
            self._take(origin)
            return True
        return False

    async def enter(self, origin: str, deadline: float | None = None) -> None:
        """Wait for a slot for ``origin``; ``TimeoutError`` at ``deadline`` (event loop
        time), the caller's bound."""
        if self.try_enter(origin):
            return
        waiter = (origin, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout_at(deadline):
                await waiter[1]
        except BaseException:
            if waiter[1].done() and not waiter[1].cancelled():
                self.leave(origin)  # handed a slot as it gave up: pass the slot on
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    def leave(self, origin: str) -> None:
        self._free += 1
        left = self._busy[origin] - 1
        if left:
            self._busy[origin] = left
        else:
            del self._busy[origin]
        if self._waiters:
            self._wake()

    def _take(self, origin: str) -> None:
        self._free -= 1
        self._busy[origin] = self._busy.get(origin, 0) + 1

    def _wake(self) -> None:
        waiting: list[tuple[str, asyncio.Future[None]]] = []
        for origin, future in self._waiters:
            if future.done():  # gave up waiting
                continue
            if self._free > 0 and self._busy.get(origin, 0) < self._per_origin:
                self._take(origin)
                future.set_result(None)
            else:
                waiting.append((origin, future))
        self._waiters = waiting


def _route(url: str) -> tuple[str | None, Path | None]:
    """``(origin, None)`` for an http(s) URL, ``(None, path)`` for a local file; raises
    :class:`FetchError` for anything else."""
    try:
        origin = _web_origin(url)
        if origin is not None:
            return origin, None
        local = _local_path(url)
        scheme = urlsplit(url).scheme.lower()
    except ValueError as exc:  # "http://[::1/feed"
        raise FetchError(url, f"invalid URL: {exc}") from None
    if local is not None:
        return None, local
    if scheme in ("http", "https"):
        return _origin(url), None
    raise FetchError(url, f"unsupported URL scheme {scheme!r} (use http or https)")


@functools.lru_cache(maxsize=16_384)
def _feed_route(url: str) -> tuple[str | None, Path | None]:
    """:func:`_route` of a feed's URL, kept: working out the origin was a twentieth of an
    unchanged poll. Bounded like the feeds' parsed URLs (digests.http_aiohttp); a URL that
    raises is not kept, and page addresses (fetched once each) never come here."""
    return _route(url)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return (
        f"{scheme}://{(parts.hostname or '').lower()}:{port or (443 if scheme == 'https' else 80)}"
    )


def _web_origin(url: str) -> str | None:
    """The origin of an ``http(s)://`` URL, else ``None`` (a path, ``file://``, another
    scheme: :meth:`Fetcher.get` looks closer)."""
    if not url[:8].lower().startswith(("http://", "https://")):
        return None
    # Only the scheme and the authority (up to the first "/", "?" or "#", as urlsplit reads
    # it) decide the origin, and there are far fewer of those than URLs: cached by the whole
    # URL, the cache filled with page addresses fetched once each (4.8 MB when full) and
    # pushed out the feeds polled again and again.
    end = len(url)
    for delimiter in "/?#":
        at = url.find(delimiter, url.index("//") + 2, end)
        if at != -1:
            end = at
    return _authority_origin(url[:end])


@functools.lru_cache(maxsize=4096)
def _authority_origin(scheme_and_authority: str) -> str:
    return _origin(scheme_and_authority)


class Fetcher:
    """Async HTTP fetcher; use as ``async with Fetcher(config) as fetcher:``.

    ``transport`` lets tests plug in ``httpx.MockTransport``. A fetcher made with
    :meth:`from_client` borrows that client and leaves closing it to its owner.
    """

    def __init__(
        self,
        config: PipelineConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        local_files: bool = True,
        guard: Guard | None = None,
    ) -> None:
        self._config = config
        self._transport = transport
        # Without private addresses allowed, every connection goes to an address the guard
        # checked (digests.netguard, the aiohttp connector's resolver); an httpx transport a
        # test supplies gets the check before each hop instead (it cannot be pinned).
        self._guard = guard or (None if config.allow_private_addresses else Guard())
        self._local_files = local_files
        self._client: httpx.AsyncClient | None = None
        self._owns_client = True
        self._gates = _Gates(config.max_in_flight, config.max_per_host)
        self._session: Any = None  # aiohttp.ClientSession when no httpx transport is given
        # digests.http_aiohttp.aiohttp_get, imported with aiohttp when the session opens.
        self._aiohttp_get: Callable[..., Awaitable[FetchedResource]] | None = None

    @classmethod
    def from_client(
        cls, client: httpx.AsyncClient, config: PipelineConfig, *, local_files: bool = True
    ) -> Fetcher:
        """A fetcher over a client someone else owns (and closes)."""
        fetcher = cls(config, local_files=local_files)
        fetcher._client = client
        fetcher._owns_client = False
        return fetcher

    async def __aenter__(self) -> Self:
        if self._client is None and self._transport is None:
            # aiohttp unless a test plugs in an httpx transport: at 50 requests in flight it
            # spent 0.15 ms of CPU per 304 against httpx's 1.7 ms (bench/ingest.py).
            from digests.http_aiohttp import aiohttp_get, open_session

            self._session = open_session(self._config, self._guard)
            self._aiohttp_get = aiohttp_get
            return self
        if self._client is None:
            # Keep-alive connections for every request in flight: unchanged feeds are polled
            # again and again, and a new connection per poll cost more than the poll itself.
            in_flight = max(1, self._config.max_in_flight)
            limits = httpx.Limits(
                max_connections=2 * in_flight, max_keepalive_connections=in_flight
            )
            self._client = httpx.AsyncClient(
                transport=self._transport,
                follow_redirects=False,
                headers={"User-Agent": self._config.user_agent},
                limits=limits,
            )
            self._owns_client = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
            self._aiohttp_get = None
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        body_hash: str | None = None,
        deadline: float | None = None,
    ) -> FetchedResource:
        """Fetch ``url``; a 304 answer comes back as ``FetchedResource(status=304, content=None)``,
        and so does a body whose digest is ``body_hash`` (:func:`digests.http_body.read_body`).

        ``deadline`` (event loop time) is the caller's own bound, waiting for a slot included:
        when it ends the fetch before the fetcher's overall deadline would, ``TimeoutError``
        is raised for the caller to report, not a :class:`FetchError`.

        Raises :class:`FetchError` for HTTP statuses >= 400, timeouts, bodies over the size cap,
        too many redirects, unreachable hosts and unsupported schemes.
        """
        # A URL fetched with validators is a feed, polled again and again: routed once.
        origin, local = _feed_route(url) if (etag or last_modified or body_hash) else _route(url)
        if local is not None:
            if not self._local_files:
                raise FetchError(url, "reading local files is disabled for this fetcher")
            return await asyncio.to_thread(
                _read_file, url, local, self._config.max_response_bytes, last_modified
            )
        assert origin is not None
        if self._client is None and self._session is None:
            raise RuntimeError("use the Fetcher inside 'async with Fetcher(config) as fetcher:'")
        gates = self._gates
        if not gates.try_enter(origin):  # no timer, no coroutine when a slot is free
            await gates.enter(origin, deadline)
        try:
            return await self._fetch(url, etag, last_modified, body_hash, deadline)
        finally:
            gates.leave(origin)

    async def _fetch(
        self,
        url: str,
        etag: str | None,
        last_modified: str | None,
        body_hash: str | None,
        deadline: float | None,
    ) -> FetchedResource:
        # Waiting for a slot is not the server's time: the deadline starts once we have one.
        ours = asyncio.get_running_loop().time() + self._config.total_timeout
        end = ours if deadline is None else min(ours, deadline)
        try:
            if self._session is not None:
                assert self._aiohttp_get is not None  # set with the session
                # aiohttp's own total timeout: one timer per request, not two.
                return await self._aiohttp_get(
                    self._session, url, self._config, etag, last_modified, self._guard,
                    body_hash, end,
                )  # fmt: skip
            assert self._client is not None
            async with asyncio.timeout_at(end):
                return await self._get(self._client, url, etag, last_modified, body_hash)
        except TimeoutError:
            if deadline is not None and deadline < ours:
                raise  # the caller's bound ended it: the caller says so
            raise FetchError(
                url, f"took longer than the {self._config.total_timeout:g}s overall deadline"
            ) from None
        except httpx.HTTPError as exc:
            raise FetchError(url, _describe(exc, self._config)) from exc
        except AddressRefused as exc:
            raise FetchError(
                url,
                f"refused: {exc}; set DIGESTBOT_ALLOW_PRIVATE_ADDRESSES=1 to allow pages on "
                "private networks",
            ) from None
        except (httpx.InvalidURL, UnicodeError) as exc:
            # Not an httpx.HTTPError: without this, a feed URL httpx cannot parse would be
            # an "unexpected error" with a traceback on every poll.
            raise FetchError(url, f"invalid URL: {exc}") from None

    async def _get(
        self,
        client: httpx.AsyncClient,
        url: str,
        etag: str | None,
        last_modified: str | None,
        body_hash: str | None = None,
    ) -> FetchedResource:
        cfg = self._config
        headers = {
            "User-Agent": cfg.user_agent,
            "Accept": ACCEPT,
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        timeout = httpx.Timeout(
            connect=cfg.connect_timeout,
            read=cfg.read_timeout,
            write=cfg.read_timeout,
            pool=cfg.connect_timeout,
        )
        request = client.build_request("GET", url, headers=headers, timeout=timeout)
        for _ in range(cfg.max_redirects + 1):
            if self._guard is not None:
                await _check_host(self._guard, request.url.host, request.url.port)
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                if response.next_request is not None:
                    request = response.next_request
                    if request.url.scheme not in ("http", "https"):
                        raise FetchError(
                            url,
                            f"redirected to an unsupported URL scheme {request.url.scheme!r}",
                        )
                    continue
                return await _read_response(
                    response, cfg.max_response_bytes, etag, last_modified, body_hash
                )
            finally:
                await response.aclose()
        raise FetchError(url, f"more than {cfg.max_redirects} redirects")


async def _check_host(guard: Guard, host: str, port: int | None) -> None:
    """Raise :class:`AddressRefused` when ``host`` names or resolves to a non-public address
    (for a transport that cannot be pinned; an unresolvable name fails in the request)."""
    try:
        await guard.addresses(host, port or 443)
    except OSError:
        return


async def _read_response(
    response: httpx.Response,
    limit: int,
    etag: str | None,
    last_modified: str | None,
    body_hash: str | None = None,
) -> FetchedResource:
    return await read_body(
        RawResponse(
            str(response.url),
            response.status_code,
            response.reason_phrase,
            response.headers,
            _httpx_chunks(response),
        ),
        limit,
        etag,
        last_modified,
        body_hash,
    )


async def _httpx_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    if response.status_code == 304:
        await response.aread()  # also when the body was read already (test responses)
        return
    async for chunk in response.aiter_raw():
        yield chunk


def _describe(exc: httpx.HTTPError, cfg: PipelineConfig) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no connection within {cfg.connect_timeout:g}s"
    if isinstance(exc, httpx.ReadTimeout):
        return f"no data for {cfg.read_timeout:g}s (read timeout)"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        if _caused_by(exc, ConnectionRefusedError):
            return "connection refused"
        return f"could not connect: {exc or 'connection failed'}"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"unsupported URL scheme: {exc}"
    if isinstance(exc, httpx.InvalidURL):
        return f"invalid URL: {exc}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
