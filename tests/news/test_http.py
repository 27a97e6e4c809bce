"""The fetcher against httpx.MockTransport and a real local aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import socket
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from digests.config import PipelineConfig
from digests.errors import FetchError
from digests.http import Fetcher, _origin, _web_origin
from digests.models import FetchedResource

CFG = PipelineConfig(connect_timeout=2.0, read_timeout=2.0, total_timeout=5.0)


def _mock(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


def _stream(data: bytes) -> AsyncIterator[bytes]:
    """A body as a real network stream: ``content=bytes`` would make httpx decode it eagerly
    inside ``httpx.Response()`` itself, which is the very thing the fetcher must not do."""

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 4096):
            yield data[start : start + 4096]

    return chunks()


async def _get(
    handler: Callable[[httpx.Request], httpx.Response],
    url: str = "https://example.test/feed",
    config: PipelineConfig = CFG,
    **kwargs: str,
) -> FetchedResource:
    async with Fetcher(config, transport=_mock(handler)) as fetcher:
        return await fetcher.get(url, **kwargs)


async def test_plain_get_returns_body_headers_and_user_agent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            content=_stream(b"<rss/>"),
            headers={"Content-Type": "application/rss+xml", "ETag": '"v1"', "Last-Modified": "x"},
        )

    async with Fetcher(CFG, transport=_mock(handler)) as fetcher:
        res = await fetcher.get("https://example.test/feed")
    assert res.status == 200
    assert res.content == b"<rss/>"
    assert res.content_type == "application/rss+xml"
    assert (res.etag, res.last_modified) == ('"v1"', "x")
    assert seen[0].headers["User-Agent"] == CFG.user_agent
    assert "If-None-Match" not in seen[0].headers


async def test_conditional_get_sends_validators_and_maps_304() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("If-None-Match") == '"v1"' and request.headers.get(
            "If-Modified-Since"
        ) == ("Sat, 28 Nov 2026 10:00:00 GMT"):
            return httpx.Response(304)
        return httpx.Response(200, content=_stream(b"full"))

    async with Fetcher(CFG, transport=_mock(handler)) as fetcher:
        res = await fetcher.get(
            "https://example.test/feed",
            etag='"v1"',
            last_modified="Sat, 28 Nov 2026 10:00:00 GMT",
        )
    assert res.status == 304
    assert res.not_modified
    assert res.content is None
    assert res.etag == '"v1"'  # kept for the next conditional request


@pytest.mark.parametrize("status", [404, 410, 500, 503])
async def test_http_errors_raise_fetch_error(status: int) -> None:
    with pytest.raises(FetchError) as info:
        await _get(lambda _req: httpx.Response(status))
    assert info.value.reason.startswith(f"HTTP {status}")
    assert info.value.url == "https://example.test/feed"


async def test_size_cap_on_declared_and_streamed_length() -> None:
    cfg = replace(CFG, max_response_bytes=1000)
    with pytest.raises(FetchError, match="larger than the 1000 byte limit"):
        await _get(lambda _req: httpx.Response(200, content=_stream(b"x" * 1001)), config=cfg)
    res = await _get(lambda _req: httpx.Response(200, content=_stream(b"x" * 1000)), config=cfg)
    assert isinstance(res.content, bytes) and len(res.content) == 1000

    with pytest.raises(FetchError, match="byte limit"):  # refused before reading the body
        await _get(
            lambda _req: httpx.Response(
                200, content=_stream(b"tiny"), headers={"Content-Length": "5000"}
            ),
            config=cfg,
        )

    async def endless() -> AsyncIterator[bytes]:
        while True:  # no Content-Length: only the streamed count can stop it
            yield b"y" * 300

    with pytest.raises(FetchError, match="byte limit"):
        await _get(lambda _req: httpx.Response(200, content=endless()), config=cfg)


async def test_gzip_body_is_decoded() -> None:
    body = b"<p>hello</p>" * 100
    res = await _get(
        lambda _req: httpx.Response(
            200, content=_stream(gzip.compress(body)), headers={"Content-Encoding": "gzip"}
        )
    )
    assert res.content == body


async def test_raw_deflate_and_concatenated_gzip_members() -> None:
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    deflated = raw.compress(b"abc" * 10) + raw.flush()
    res = await _get(
        lambda _req: httpx.Response(
            200, content=_stream(deflated), headers={"Content-Encoding": "deflate"}
        )
    )
    assert res.content == b"abc" * 10
    two = gzip.compress(b"one ") + gzip.compress(b"two")
    res = await _get(
        lambda _req: httpx.Response(200, content=_stream(two), headers={"Content-Encoding": "gzip"})
    )
    assert res.content == b"one two"


async def test_double_gzip_bomb_fails_fast_in_bounded_memory() -> None:
    # 200 MB of zeros, gzipped twice: ~200 KB, then a few hundred bytes on the wire.
    inner = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    parts = [inner.compress(block) for _ in range(200)]
    parts.append(inner.flush())
    bomb = gzip.compress(b"".join(parts))
    del parts
    assert len(bomb) < 10_000
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match="decompressed body larger"):
            await _get(
                lambda _req: httpx.Response(
                    200, content=_stream(bomb), headers={"Content-Encoding": "gzip, gzip"}
                )
            )
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Bounded by the 10 MB cap (plus slack), nowhere near the 200 MB the bomb expands to.
    assert peak < 40 * 1024 * 1024


async def test_corrupt_gzip_and_unknown_encoding() -> None:
    with pytest.raises(FetchError, match="could not decompress"):
        await _get(
            lambda _req: httpx.Response(
                200, content=_stream(b"not gzip at all"), headers={"Content-Encoding": "gzip"}
            )
        )
    with pytest.raises(FetchError, match="unsupported Content-Encoding 'br'"):
        await _get(
            lambda _req: httpx.Response(
                200, content=_stream(b"??"), headers={"Content-Encoding": "br"}
            )
        )


def _redirecting(hops: int) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params.get("n", "0"))
        if n < hops:
            return httpx.Response(302, headers={"Location": f"/hop?n={n + 1}"})
        return httpx.Response(200, content=_stream(b"landed"))

    return handler


async def test_redirects_followed_and_final_url_reported() -> None:
    res = await _get(_redirecting(3), url="https://example.test/start")
    assert res.content == b"landed"
    assert res.url == "https://example.test/hop?n=3"


async def test_too_many_redirects() -> None:
    cfg = replace(CFG, max_redirects=2)
    assert (await _get(_redirecting(2), config=cfg)).status == 200
    with pytest.raises(FetchError, match="more than 2 redirects"):
        await _get(_redirecting(3), config=cfg)


async def test_redirect_to_file_scheme_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not leak")
    with pytest.raises(FetchError, match="unsupported URL scheme"):
        await _get(lambda _req: httpx.Response(302, headers={"Location": secret.as_uri()}))


@pytest.mark.parametrize("url", ["ftp://example.test/feed", "gopher://example.test/"])
async def test_unsupported_scheme(url: str) -> None:
    with pytest.raises(FetchError, match="unsupported URL scheme"):
        await _get(lambda _req: httpx.Response(200), url=url)


async def test_shared_client_is_not_closed() -> None:
    client = httpx.AsyncClient(
        transport=_mock(lambda _req: httpx.Response(200, content=_stream(b"ok")))
    )
    async with Fetcher.from_client(client, CFG) as fetcher:
        assert (await fetcher.get("https://example.test/")).content == b"ok"
    assert not client.is_closed
    await client.aclose()


# --- local files -------------------------------------------------------------------------


async def test_file_url_and_plain_path(tmp_path: Path) -> None:
    page = tmp_path / "page one.html"
    page.write_bytes(b"<html>hi</html>")
    async with Fetcher(CFG) as fetcher:
        by_url = await fetcher.get(page.as_uri())
        by_path = await fetcher.get(str(page))
        again = await fetcher.get(str(page), last_modified=by_path.last_modified)
    assert by_url.content == by_path.content == b"<html>hi</html>"
    assert by_url.content_type == "text/html"
    assert again.not_modified


async def test_file_errors(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    big.write_bytes(b"x" * 2000)
    async with Fetcher(replace(CFG, max_response_bytes=1000)) as fetcher:
        with pytest.raises(FetchError, match="byte limit"):
            await fetcher.get(str(big))
        with pytest.raises(FetchError, match="no such file"):
            await fetcher.get(str(tmp_path / "missing.xml"))
        with pytest.raises(FetchError, match="start it with https://"):
            await fetcher.get("example.invalid/feed.xml")
    async with Fetcher(CFG, local_files=False) as fetcher:
        with pytest.raises(FetchError, match="local files is disabled"):
            await fetcher.get(big.as_uri())


# --- a real server on 127.0.0.1 ------------------------------------------------------------


async def _trickle(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    await response.prepare(request)
    for _ in range(1000):  # one byte every 50 ms: never idle long enough for the read timeout
        await response.write(b"x")
        await asyncio.sleep(0.05)
    return response


async def _hello(_request: web.Request) -> web.Response:
    return web.Response(body=gzip.compress(b"hello"), headers={"Content-Encoding": "gzip"})


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/trickle", _trickle)
    app.router.add_get("/hello", _hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def _serving(
    routes: Mapping[str, Callable[[web.Request], Awaitable[web.StreamResponse]]],
    hosts: tuple[str, ...] = ("127.0.0.1",),
) -> AsyncIterator[list[str]]:
    """A local aiohttp app answering GET ``routes``, listening on each of ``hosts``: their
    base URLs, in that order."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    for host in hosts:
        await web.TCPSite(runner, host, 0).start()
    try:
        yield [f"http://{h}:{a[1]}" for h, a in zip(hosts, runner.addresses, strict=True)]
    finally:
        await runner.cleanup()


async def test_real_server_gzip(server: str) -> None:
    async with Fetcher(CFG) as fetcher:
        res = await fetcher.get(f"{server}/hello")
    assert res.content == b"hello"


async def test_trickling_server_hits_overall_deadline(server: str) -> None:
    # The server never pauses longer than the read timeout and would take 50 s in all: only
    # the overall deadline can stop it, and the reason says that is what did.
    cfg = replace(CFG, read_timeout=5.0, total_timeout=1.0)
    async with Fetcher(cfg) as fetcher:
        with pytest.raises(FetchError, match="took longer than the 1s overall deadline"):
            await fetcher.get(f"{server}/trickle")


async def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # nothing listens on that port any more
    async with Fetcher(CFG) as fetcher:
        with pytest.raises(FetchError, match="connection refused"):
            await fetcher.get(f"http://127.0.0.1:{port}/feed")


async def test_get_outside_context_manager_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError, match="async with"):
        await Fetcher(CFG).get("https://example.test/")


# --- private addresses (the worker's setting) ---------------------------------------------

PUBLIC_ONLY = replace(CFG, allow_private_addresses=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/admin",
        "http://localhost:8080/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/intranet",
        "http://[::1]/",
        "http://[::127.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
    ],
)
async def test_private_addresses_refused_when_not_allowed(url: str) -> None:
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return httpx.Response(200, content=_stream(b"secret"))

    with pytest.raises(FetchError, match="private address"):
        await _get(handler, url=url, config=PUBLIC_ONLY)
    assert requested == []  # refused before any request went out


async def test_redirect_to_a_private_address_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if (
            request.url.host == "93.184.216.34"
        ):  # a global literal: no DNS lookup, MockTransport answers
            return httpx.Response(302, headers={"Location": "http://127.0.0.1/admin"})
        return httpx.Response(200, content=_stream(b"secret"))

    with pytest.raises(FetchError, match=r"127\.0\.0\.1 is a private address"):
        await _get(handler, url="http://93.184.216.34/a", config=PUBLIC_ONLY)


async def test_private_addresses_allowed_by_default() -> None:
    # The library default (preview, tests) reads what the user points it at.
    ok = await _get(lambda _r: httpx.Response(200, content=_stream(b"x")), url="http://127.0.0.1/")
    assert ok.content == b"x"


async def test_unchanged_polls_reuse_one_connection() -> None:
    peers: set[object] = set()

    async def feed(request: web.Request) -> web.Response:
        peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return web.Response(text="<rss/>", headers={"ETag": '"v1"'})

    async with _serving({"/feed": feed}) as (base,), Fetcher(CFG) as fetcher:
        first = await fetcher.get(f"{base}/feed")
        for _ in range(5):
            assert (await fetcher.get(f"{base}/feed", etag=first.etag)).not_modified
    assert len(peers) == 1  # a 304 no longer costs a new TCP connection


@pytest.mark.parametrize(
    "url",
    ["http://exa\x00mple.com/", "http://[::1/feed", "http://xn--/", "http://a/" + "b" * 70_000],
)
async def test_a_url_httpx_cannot_parse_is_a_fetch_error(url: str) -> None:
    with pytest.raises(FetchError, match="invalid URL"):
        await _get(lambda _r: httpx.Response(200), url=url)


async def test_same_etag_on_a_200_is_not_read_again() -> None:
    version = {"etag": '"v1"'}

    async def feed(request: web.Request) -> web.Response:
        # A server that ignores If-None-Match and always sends the document.
        return web.Response(text="<rss>...</rss>", headers={"ETag": version["etag"]})

    async with _serving({"/feed": feed}) as (base,), Fetcher(CFG) as fetcher:
        first = await fetcher.get(f"{base}/feed")
        again = await fetcher.get(f"{base}/feed", etag=first.etag)
        version["etag"] = '"v2"'
        changed = await fetcher.get(f"{base}/feed", etag=first.etag)
    assert first.content == b"<rss>...</rss>"
    assert again.not_modified and again.content is None and again.etag == '"v1"'
    assert changed.content == b"<rss>...</rss>" and changed.etag == '"v2"'


async def test_the_same_body_again_comes_back_as_not_modified() -> None:
    """A digest of the decoded body: the same document (here gzipped differently) is a 304
    without content; another document is read as usual, with its own digest."""
    bodies = [gzip.compress(b"<rss>one</rss>", mtime=1), gzip.compress(b"<rss>one</rss>", mtime=2)]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=_stream(bodies.pop(0)), headers={"Content-Encoding": "gzip"}
        )

    first = await _get(handler)
    assert first.status == 200 and first.content == b"<rss>one</rss>" and first.body_hash
    again = await _get(handler, body_hash=first.body_hash)
    assert again.not_modified and again.content is None and again.body_hash == first.body_hash
    other = await _get(
        lambda request: httpx.Response(200, content=_stream(b"<rss>two</rss>")),
        body_hash=first.body_hash,
    )
    assert other.status == 200 and other.content == b"<rss>two</rss>"
    assert other.body_hash not in (None, first.body_hash)


@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "hTTps"]),
    rest=st.text(alphabet="ab.9:@[]/?#%\t-_Ü", max_size=30),
)
@settings(max_examples=500)
def test_a_urls_origin_is_read_from_its_authority_alone(scheme: str, rest: str) -> None:
    # _web_origin caches by scheme and authority, not by the whole URL: the same answer as
    # reading the whole URL with urlsplit, errors included.
    url = f"{scheme}://{rest}"

    def answer(read: Callable[[str], str | None]) -> object:
        try:
            return read(url)
        except ValueError as exc:
            return type(exc)

    assert answer(_web_origin) == answer(_origin)


def test_the_origin_cache_holds_sites_not_addresses() -> None:
    # Page addresses are fetched once each: caching by address filled the cache with them.
    from digests.http import _authority_origin

    _authority_origin.cache_clear()
    for n in range(500):
        assert _web_origin(f"https://News.example.org/2026/{n}.html?ref=rss#top") == (
            "https://news.example.org:443"
        )
    assert _authority_origin.cache_info().currsize == 1


# --- the per-site gates --------------------------------------------------------------------


async def test_gates_hand_a_freed_slot_to_the_first_waiter_whose_site_has_room() -> None:
    from digests.http import _Gates

    gates = _Gates(total=2, per_origin=1)
    assert gates.try_enter("a") and gates.try_enter("b")
    order: list[str] = []

    async def wait(origin: str) -> None:
        await gates.enter(origin)
        order.append(origin)

    # "a" waits for its site; "c" waits for any slot; "a" again queues behind the first.
    tasks = [asyncio.create_task(wait(o)) for o in ("a", "c", "a")]
    await asyncio.sleep(0)
    assert order == []
    gates.leave("b")  # a free slot, but site "a" is still full: "c" takes it
    await asyncio.sleep(0)
    assert order == ["c"]
    assert not gates.try_enter("d")  # nothing free: no queue jumping
    gates.leave("a")
    await asyncio.sleep(0)
    assert order == ["c", "a"]
    gates.leave("c")  # "a" is busy again: the second "a" waits on, the slot stays free
    await asyncio.sleep(0)
    assert order == ["c", "a"]
    assert gates.try_enter("d")  # the free slot is not held for the waiter on a busy site
    gates.leave("d")
    gates.leave("a")
    await asyncio.gather(*tasks)
    assert order == ["c", "a", "a"]
    gates.leave("a")
    assert gates._free == 2 and gates._busy == {} and gates._waiters == []


async def test_a_waiter_that_gives_up_leaves_no_slot_taken() -> None:
    from digests.http import _Gates

    gates = _Gates(total=1, per_origin=1)
    assert gates.try_enter("a")
    loop = asyncio.get_running_loop()
    with pytest.raises(TimeoutError):
        await gates.enter("b", loop.time() + 0.01)
    # Handed the slot in the same turn as it is cancelled: the slot goes on to the next.
    late = asyncio.create_task(gates.enter("b"))
    after = asyncio.create_task(gates.enter("c"))
    await asyncio.sleep(0)
    gates.leave("a")
    late.cancel()
    with pytest.raises(asyncio.CancelledError):
        await late
    await after
    assert gates._busy == {"c": 1} and gates._waiters == []
    gates.leave("c")
    assert gates._free == 1 and gates._busy == {}


# --- cookies and parsed addresses ----------------------------------------------------------


async def test_a_cookie_set_by_a_redirect_reaches_its_next_hop_and_no_other_site() -> None:
    seen: dict[str, str | None] = {}
    asked = [0]

    async def consent(request: web.Request) -> web.Response:
        if request.cookies.get("consent") != "yes":
            asked[0] += 1
            response = web.Response(status=302, headers={"Location": "/consent"})
            response.set_cookie("consent", "yes")
            return response
        seen[request.path] = request.cookies.get("consent")
        return web.Response(text="<rss/>")

    async def away(request: web.Request) -> web.Response:
        response = web.Response(status=302, headers={"Location": f"{other}/landing"})
        response.set_cookie("session", "secret")
        return response

    async def landing(request: web.Request) -> web.Response:
        seen["landing"] = request.cookies.get("session")
        return web.Response(text="ok")

    routes = {"/consent": consent, "/away": away, "/landing": landing}
    hosts = ("127.0.0.1", "localhost")
    async with _serving(routes, hosts) as (here, other), Fetcher(CFG) as fetcher:
        assert (await fetcher.get(f"{here}/consent")).content == b"<rss/>"
        assert seen["/consent"] == "yes"
        # Kept for that fetch only: the next one starts without it.
        seen.clear()
        assert (await fetcher.get(f"{here}/consent")).content == b"<rss/>"
        assert seen["/consent"] == "yes" and asked == [2]
        await fetcher.get(f"{here}/away")
        assert seen["landing"] is None  # another host never sees the first one's cookie


async def test_a_feed_address_is_parsed_and_routed_once_for_all_its_polls() -> None:
    from digests.http import _feed_route
    from digests.http_aiohttp import _parsed

    async def feed(request: web.Request) -> web.Response:
        return web.Response(status=304, headers={"ETag": '"v1"'})

    _parsed.cache_clear()
    _feed_route.cache_clear()
    async with _serving({"/feed": feed}) as (base,), Fetcher(CFG) as fetcher:
        for _ in range(3):
            res = await fetcher.get(f"{base}/feed", etag='"v1"', last_modified="Mon, 30 Nov 2026")
            assert res.not_modified and res.etag == '"v1"'
            assert res.last_modified == "Mon, 30 Nov 2026"  # kept when a 304 omits it
        await fetcher.get(f"{base}/feed")  # no validators: a page, fetched once, not kept
    assert _parsed.cache_info().misses == 1 and _parsed.cache_info().hits == 2
    assert _parsed.cache_info().currsize == 1
    # Its origin (the per-site gate's key) is worked out once too.
    assert _feed_route.cache_info().misses == 1 and _feed_route.cache_info().currsize == 1


async def test_a_server_gone_quiet_hits_the_read_timeout_when_it_is_the_shorter() -> None:
    done = asyncio.Event()

    async def stall(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        await response.write(b"<html>")
        await done.wait()
        return response

    async with _serving({"/stall": stall}) as (base,):
        try:
            async with Fetcher(replace(CFG, read_timeout=0.3, total_timeout=5.0)) as fetcher:
                with pytest.raises(FetchError, match=r"no data for 0\.3s \(read timeout\)"):
                    await fetcher.get(f"{base}/stall")
            # As long as the whole deadline: the read timer is not set, the deadline says it.
            async with Fetcher(replace(CFG, read_timeout=0.5, total_timeout=0.5)) as fetcher:
                with pytest.raises(FetchError, match=r"longer than the 0\.5s overall deadline"):
                    await fetcher.get(f"{base}/stall")
        finally:
            done.set()  # the handler ends, and the server's cleanup does not wait for it


@pytest.mark.parametrize(
    "url", ["http://a:99999/feed", "http://a:abc/feed", "http://a:-1/feed", "http://user@:80/f"]
)
@pytest.mark.parametrize("validators", [{}, {"etag": '"v1"'}, {"last_modified": "Mon, 30 Nov"}])
async def test_an_address_aiohttp_cannot_parse_is_a_fetch_error(
    url: str, validators: dict[str, str]
) -> None:
    # Fetched as a page or polled as a feed (its address then parsed once and kept): the
    # same one-line reason, never an unexpected error with a traceback on every poll.
    async with Fetcher(CFG) as fetcher:
        with pytest.raises(FetchError, match="invalid URL"):
            await fetcher.get(url, **validators)
