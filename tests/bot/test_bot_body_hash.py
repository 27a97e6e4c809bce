"""A feed whose server sends no validators (no ETag, no Last-Modified) is not parsed again when
its body is the same: the poller keeps a digest of the last body per feed. Through a real
server on 127.0.0.1 and the worker's own HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import App
from tests.bot.conftest import make_settings
from tests.bot.fakes import TRADE_BODY, FakeAdapter, FakeClock, FakeSender, Item, rss


class BareSite:
    """One feed served with neither ETag nor Last-Modified; ``items`` is what it lists."""

    def __init__(self) -> None:
        self.items = [Item("a", "Trade deal", TRADE_BODY)]
        self.requests = 0
        self.base = ""

    async def feed(self, request: web.Request) -> web.Response:
        self.requests += 1
        assert "If-None-Match" not in request.headers  # nothing to repeat
        body = rss(self.items, base=self.base)
        return web.Response(text=body, content_type="application/rss+xml")

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(status=404)


@pytest.fixture
async def site() -> AsyncIterator[BareSite]:
    bare = BareSite()
    app = web.Application()
    app.router.add_get("/feed.xml", bare.feed)
    app.router.add_get("/pages/{name}", bare.page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = runner.addresses[0][1]
    bare.base = f"http://127.0.0.1:{port}"
    try:
        yield bare
    finally:
        await runner.cleanup()


async def test_same_body_without_validators_is_not_parsed_again(
    tmp_path: Path, site: BareSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGESTBOT_ALLOW_PRIVATE_ADDRESSES", "1")
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}", tmp_path)
    sender = FakeSender()
    async with App(
        settings, adapters=[FakeAdapter(sender)], clock=FakeClock(), pacing=False
    ) as app:
        await app.store.add_feed(f"{site.base}/feed.xml")
        app.poller.interval = 0  # due again at once

        [first] = await app.poll()
        assert first.first_poll and first.new_entries == 1
        feed = (await app.store.list_feeds())[0]
        assert feed.etag is None and feed.last_modified is None
        assert feed.body_hash is not None and len(feed.body_hash) == 32

        [same] = await app.poll()  # the same bytes: unchanged, nothing parsed
        assert same.not_modified and same.error is None
        assert (await app.store.list_feeds())[0].body_hash == feed.body_hash

        site.items.insert(0, Item("b", "Second trade deal", TRADE_BODY))
        [changed] = await app.poll()  # a new body is parsed and its entry is new
        assert not changed.not_modified and changed.new_entries == 1
        assert (await app.store.list_feeds())[0].body_hash != feed.body_hash
        assert site.requests == 3
