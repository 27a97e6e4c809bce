"""Reading an HTTP response's body under a size cap, whichever client fetched it (httpx for
tests' transports, aiohttp for the worker): status handling, a 304, an unchanged ETag or the
same body again (its digest), and decompression that never produces more than the cap at any
layer (a gzip bomb fails fast)."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from digests.errors import FetchError
from digests.models import FetchedResource

__all__ = [
    "ACCEPT",
    "ACCEPT_ENCODING",
    "RawResponse",
    "body_digest",
    "not_modified",
    "read_body",
    "too_large",
]

# Only encodings we can decompress under a bound; servers must not send anything else.
ACCEPT_ENCODING = "gzip, deflate"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
    "text/html;q=0.9, application/xhtml+xml;q=0.9, */*;q=0.8"
)


class _TooLarge(Exception):
    pass


@dataclass(frozen=True, slots=True)
class RawResponse:
    """What :func:`read_body` needs of a response, whichever HTTP client got it."""

    url: str
    status_code: int
    reason_phrase: str | None
    headers: Mapping[str, str]
    chunks: AsyncIterator[bytes]  # the body as sent (still compressed)


def body_digest(body: bytes) -> str:
    """A short digest of a decoded body: equal digests, same document (BLAKE2b, 128 bits)."""
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def not_modified(
    url: str,
    headers: Mapping[str, str],
    etag: str | None,
    last_modified: str | None,
    body_hash: str | None,
) -> FetchedResource:
    """The answer for a document unchanged since the validators sent: no content, and the
    validators the server sent, else ours (a 304 need not repeat them)."""
    return FetchedResource(
        url=url,
        status=304,
        content=None,
        content_type=headers.get("Content-Type"),
        etag=headers.get("ETag") or etag,
        last_modified=headers.get("Last-Modified") or last_modified,
        body_hash=body_hash,
    )


async def read_body(
    response: RawResponse,
    limit: int,
    etag: str | None,
    last_modified: str | None,
    body_hash: str | None = None,
) -> FetchedResource:
    """The fetched resource, the body read under the size cap and decompressed under it.

    A body whose digest is ``body_hash`` (the last one read) comes back as a 304 without
    content: a server that sends no validators, or a new ETag for the same document, is not
    parsed again.
    """
    final_url = response.url
    unchanged = response.status_code == 200 and bool(etag) and response.headers.get("ETag") == etag
    if response.status_code == 304 or unchanged:
        # A server that ignores If-None-Match but sends the same ETag sent the same document:
        # it is not read, let alone parsed, again.
        if not unchanged:
            # Reading the (empty) body lets the connection go back to the pool; closing a
            # response before its body is read discards the connection.
            async for _ in response.chunks:
                pass
        return not_modified(final_url, response.headers, etag, last_modified, body_hash)
    if response.status_code >= 400:
        phrase = f" {response.reason_phrase}" if response.reason_phrase else ""
        raise FetchError(final_url, f"HTTP {response.status_code}{phrase}")
    if response.status_code >= 300:
        raise FetchError(final_url, f"HTTP {response.status_code} without a usable Location")

    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FetchError(final_url, too_large(limit))
    raw = bytearray()
    async for chunk in response.chunks:
        raw += chunk
        if len(raw) > limit:
            raise FetchError(final_url, too_large(limit))
    encodings = _content_encodings(response.headers.get("Content-Encoding", ""))
    try:
        body = _decode_body(bytes(raw), encodings, limit)
    except _TooLarge:
        raise FetchError(final_url, too_large(limit, decompressed=True)) from None
    except (zlib.error, ValueError) as exc:
        raise FetchError(final_url, f"could not decompress the body: {exc}") from None
    digest = body_digest(body)
    same = digest == body_hash
    return FetchedResource(
        url=final_url,
        status=304 if same else response.status_code,
        content=None if same else body,
        content_type=response.headers.get("Content-Type"),
        etag=response.headers.get("ETag") or etag,
        last_modified=response.headers.get("Last-Modified") or last_modified,
        body_hash=digest,
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


def too_large(limit: int, *, decompressed: bool = False) -> str:
    what = "decompressed body" if decompressed else "body"
    return f"{what} larger than the {limit} byte limit"
