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
import contextlib
import email.utils
import mimetypes
import zlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import httpx

from digests.config import PipelineConfig
from digests.errors import FetchError
from digests.models import FetchedResource
from digests.netguard import AddressRefused, Guard

# Only encodings we can decompress under a bound; servers must not send anything else.
_ACCEPT_ENCODING = "gzip, deflate"
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
    "text/html;q=0.9, application/xhtml+xml;q=0.9, */*;q=0.8"
)


class _TooLarge(Exception):
    pass


class _Gates:
    """At most ``total`` requests in flight, and at most ``per_origin`` to one origin
    (scheme, host, port): many feeds polled at once must not hammer one site.

    The origin's gate is taken first, so that requests queued behind a slow site do not hold
    slots other sites could use. Gates of idle origins are dropped (the dict stays as small as
    the number of origins in flight).
    """

    def __init__(self, total: int, per_origin: int) -> None:
        self._total = asyncio.Semaphore(max(1, total))
        self._per_origin = max(1, per_origin)
        self._origins: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def slot(self, origin: str) -> AsyncIterator[None]:
        gate, users = self._origins.setdefault(origin, (asyncio.Semaphore(self._per_origin), [0]))
        users[0] += 1
        try:
            async with gate, self._total:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._origins[origin]


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
        self._gates: _Gates | None = None
        self._session: Any = None  # aiohttp.ClientSession when no httpx transport is given

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
            from digests.http_aiohttp import open_session

            self._session = open_session(self._config, self._guard)
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
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    async def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchedResource:
        """Fetch ``url``; a 304 answer comes back as ``FetchedResource(status=304, content=None)``.

        Raises :class:`FetchError` for HTTP statuses >= 400, timeouts, bodies over the size cap,
        too many redirects, unreachable hosts and unsupported schemes.
        """
        try:
            local = _local_path(url)
            scheme = urlsplit(url).scheme.lower()
        except ValueError as exc:  # "http://[::1/feed"
            raise FetchError(url, f"invalid URL: {exc}") from None
        if local is not None:
            if not self._local_files:
                raise FetchError(url, "reading local files is disabled for this fetcher")
            return await asyncio.to_thread(
                _read_file, url, local, self._config.max_response_bytes, last_modified
            )
        if scheme not in ("http", "https"):
            raise FetchError(url, f"unsupported URL scheme {scheme!r} (use http or https)")
        if self._client is None and self._session is None:
            raise RuntimeError("use the Fetcher inside 'async with Fetcher(config) as fetcher:'")
        if self._gates is None:
            self._gates = _Gates(self._config.max_in_flight, self._config.max_per_host)
        try:
            # Waiting for a slot is not the server's time: the deadline starts once we ask.
            async with self._gates.slot(_origin(url)):
                async with asyncio.timeout(self._config.total_timeout):
                    if self._session is not None:
                        from digests.http_aiohttp import aiohttp_get

                        return await aiohttp_get(
                            self._session, url, self._config, etag, last_modified, self._guard
                        )
                    assert self._client is not None
                    return await self._get(self._client, url, etag, last_modified)
        except TimeoutError:
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
    ) -> FetchedResource:
        cfg = self._config
        headers = {
            "User-Agent": cfg.user_agent,
            "Accept": _ACCEPT,
            "Accept-Encoding": _ACCEPT_ENCODING,
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
                return await _read_response(response, cfg.max_response_bytes, etag, last_modified)
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
    response: httpx.Response, limit: int, etag: str | None, last_modified: str | None
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
    )


async def _httpx_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    if response.status_code == 304:
        await response.aread()  # also when the body was read already (test responses)
        return
    async for chunk in response.aiter_raw():
        yield chunk


@dataclass(frozen=True, slots=True)
class RawResponse:
    """What :func:`read_body` needs of a response, whichever HTTP client got it."""

    url: str
    status_code: int
    reason_phrase: str | None
    headers: Mapping[str, str]
    chunks: AsyncIterator[bytes]  # the body as sent (still compressed)


async def read_body(
    response: RawResponse, limit: int, etag: str | None, last_modified: str | None
) -> FetchedResource:
    """The fetched resource, the body read under the size cap and decompressed under it."""
    final_url = response.url
    new_etag = response.headers.get("ETag") or etag
    new_last_modified = response.headers.get("Last-Modified") or last_modified
    unchanged = response.status_code == 200 and bool(etag) and response.headers.get("ETag") == etag
    if response.status_code == 304 or unchanged:
        # A server that ignores If-None-Match but sends the same ETag sent the same document:
        # it is not read, let alone parsed, again.
        if not unchanged:
            # Reading the (empty) body lets the connection go back to the pool; closing a
            # response before its body is read discards the connection.
            async for _ in response.chunks:
                pass
        return FetchedResource(
            url=final_url,
            status=304,
            content=None,
            content_type=response.headers.get("Content-Type"),
            etag=new_etag,
            last_modified=new_last_modified,
        )
    if response.status_code >= 400:
        phrase = f" {response.reason_phrase}" if response.reason_phrase else ""
        raise FetchError(final_url, f"HTTP {response.status_code}{phrase}")
    if response.status_code >= 300:
        raise FetchError(final_url, f"HTTP {response.status_code} without a usable Location")

    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FetchError(final_url, _too_large(limit))
    raw = bytearray()
    async for chunk in response.chunks:
        raw += chunk
        if len(raw) > limit:
            raise FetchError(final_url, _too_large(limit))
    encodings = _content_encodings(response.headers.get("Content-Encoding", ""))
    try:
        body = _decode_body(bytes(raw), encodings, limit)
    except _TooLarge:
        raise FetchError(final_url, _too_large(limit, decompressed=True)) from None
    except (zlib.error, ValueError) as exc:
        raise FetchError(final_url, f"could not decompress the body: {exc}") from None
    return FetchedResource(
        url=final_url,
        status=response.status_code,
        content=body,
        content_type=response.headers.get("Content-Type"),
        etag=new_etag,
        last_modified=new_last_modified,
    )


def _content_encodings(header: str) -> list[str]:
    return [token.strip().lower() for token in header.split(",") if token.strip()]


def _decode_body(raw: bytes, encodings: list[str], limit: int) -> bytes:
    """Undo ``Content-Encoding`` layers (listed in the order they were applied), never
    producing more than ``limit`` bytes at any layer; raises ``_TooLarge`` past it."""
    body = raw
    for encoding in reversed(encodings):
        if encoding in ("identity", ""):
            continue
        if encoding in ("gzip", "x-gzip"):
            body = _inflate(body, 16 + zlib.MAX_WBITS, limit)
        elif encoding == "deflate":
            try:
                body = _inflate(body, zlib.MAX_WBITS, limit)
            except zlib.error:  # many servers send raw deflate without the zlib header
                body = _inflate(body, -zlib.MAX_WBITS, limit)
        else:
            raise ValueError(f"unsupported Content-Encoding {encoding!r}")
    return body


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    out = bytearray()
    first = True
    while data:
        decompressor = zlib.decompressobj(wbits)
        try:
            pending = data
            while True:
                chunk = decompressor.decompress(pending, limit + 1 - len(out))
                out += chunk
                if len(out) > limit:
                    raise _TooLarge
                pending = decompressor.unconsumed_tail
                if decompressor.eof or (not pending and not chunk):
                    break
        except zlib.error:
            if first:
                raise
            break  # trailing garbage after a complete gzip member: browsers ignore it too
        first = False
        # Concatenated gzip members are legal and decode to the concatenation.
        data = decompressor.unused_data if decompressor.eof else b""
    return bytes(out)


def _too_large(limit: int, *, decompressed: bool = False) -> str:
    what = "decompressed body" if decompressed else "body"
    return f"{what} larger than the {limit} byte limit"


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


def _local_path(url: str) -> Path | None:
    """The filesystem path a ``file://`` URL or a scheme-less string names, else ``None``."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        if parts.netloc not in ("", "localhost"):
            return None
        return Path(url2pathname(unquote(parts.path)))
    if "://" in url:
        return None
    if parts.scheme and len(parts.scheme) > 1 and not Path(url).exists():
        return None  # "mailto:x", "data:..." and the like: not a path
    return Path(url)


def _looks_like_host(path: Path) -> bool:
    # "example.com/feed.xml" was meant as a web address; "missing.html", "/srv/x.html" not.
    return not path.is_absolute() and len(path.parts) > 1 and "." in path.parts[0].strip(".")


def _read_file(url: str, path: Path, limit: int, last_modified: str | None) -> FetchedResource:
    try:
        stat = path.stat()
        mtime = email.utils.formatdate(stat.st_mtime, usegmt=True)
        if last_modified is not None and last_modified == mtime:
            return FetchedResource(url=url, status=304, content=None, last_modified=mtime)
        if stat.st_size > limit:
            raise FetchError(url, _too_large(limit))
        with path.open("rb") as handle:
            content = handle.read(limit + 1)
    except FileNotFoundError:
        hint = " (for a web address, start it with https://)" if _looks_like_host(path) else ""
        raise FetchError(url, f"no such file: {path}{hint}") from None
    except IsADirectoryError:
        raise FetchError(url, f"is a directory, not a file: {path}") from None
    except OSError as exc:
        raise FetchError(url, f"could not read {path}: {exc.strerror or exc}") from None
    if len(content) > limit:
        raise FetchError(url, _too_large(limit))
    content_type, _ = mimetypes.guess_type(path.name)
    return FetchedResource(
        url=url, status=200, content=content, content_type=content_type, last_modified=mtime
    )
