"""``App.serve``: adapters started and stopped, the scheduled poll, a stop that lets the
message being sent finish. The feed comes from a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import App
from bot.ports import ChatRef, OutgoingMessage, SendResult
from bot.store import Subscription
from tests.bot.conftest import make_settings
from tests.bot.fakes import TRADE_BODY, FakeAdapter, FakeSender, Item, page, rss


class LocalSite:
    def __init__(self) -> None:
        self.items: list[Item] = []
        self.base = ""

    async def feed(self, request: web.Request) -> web.Response:
        return web.Response(
            text=rss(self.items, base=self.base), content_type="application/rss+xml"
        )

    async def page(self, request: web.Request) -> web.Response:
        for item in self.items:
            if request.match_info["name"] == f"{item.guid}.html":
                return web.Response(text=page(item), content_type="text/html")
        raise web.HTTPNotFound()


@pytest.fixture
async def site() -> AsyncIterator[LocalSite]:
    local = LocalSite()
    app = web.Application()
    app.router.add_get("/feed.xml", local.feed)
    app.router.add_get("/pages/{name}", local.page)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    local.base = str(server.make_url("")).rstrip("/")
    yield local
    await server.close()


class BlockingSender(FakeSender):
    """Holds each send until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def send(self, chat_id: str, message: OutgoingMessage) -> SendResult:
        self.entered.set()
        await self.release.wait()
        return await super().send(chat_id, message)


async def _prepared_app(
    tmp_path: Path, site: LocalSite, sender: FakeSender
) -> tuple[App, FakeAdapter]:
    adapter = FakeAdapter(sender)
    app = App(
        make_settings(f"sqlite+aiosqlite:///{tmp_path / 'serve.sqlite3'}", tmp_path),
        adapters=[adapter],
        pacing=False,
    )
    return app, adapter


async def test_serve_polls_delivers_and_stops_cleanly(tmp_path: Path, site: LocalSite) -> None:
    sender = FakeSender()
    app, adapter = await _prepared_app(tmp_path, site, sender)
    async with app:
        await app.store.save_subscription(Subscription(chat=ChatRef("fake", "c")))
        await app.store.add_feed(f"{site.base}/feed.xml")
        await app.run_once()  # first add: recorded, not sent
        site.items.append(Item("n1", "Trade over HTTP", TRADE_BODY))
        feed = await app.store.get_feed(f"{site.base}/feed.xml")
        assert feed is not None
        await app.store.record_poll_success(  # make the feed due again right away
            feed.id,
            etag=None,
            last_modified=None,
            ttl_minutes=None,
            now=app.clock(),
            next_poll_at=app.clock(),
        )
        serving = asyncio.create_task(app.serve())
        await asyncio.wait_for(sender.delivered_event.wait(), 10)
        assert adapter.started == 1
        app.request_stop()
        await asyncio.wait_for(serving, 10)
    assert adapter.stopped == 1
    assert sender.titles_for("c") == ["Trade over HTTP"]


async def test_stop_lets_the_message_in_flight_finish(tmp_path: Path, site: LocalSite) -> None:
    sender = BlockingSender()
    app, adapter = await _prepared_app(tmp_path, site, sender)
    async with app:
        await app.store.save_subscription(Subscription(chat=ChatRef("fake", "c")))
        await app.store.add_feed(f"{site.base}/feed.xml")
        await app.run_once()
        site.items.append(Item("n1", "Trade in flight", TRADE_BODY))
        feed = await app.store.get_feed(f"{site.base}/feed.xml")
        assert feed is not None
        await app.store.record_poll_success(
            feed.id,
            etag=None,
            last_modified=None,
            ttl_minutes=None,
            now=app.clock(),
            next_poll_at=app.clock(),
        )
        serving = asyncio.create_task(app.serve())
        await asyncio.wait_for(sender.entered.wait(), 10)
        app.request_stop()  # SIGTERM while the message is on its way
        await asyncio.sleep(0.05)
        assert not serving.done()  # waiting for the send, not cancelling it
        sender.release.set()
        await asyncio.wait_for(serving, 10)
        counts = await app.store.outbox_counts()
    assert sender.titles_for("c") == ["Trade in flight"]
    assert counts == {"pending": 0, "sent": 1, "failed": 0}
    assert adapter.stopped == 1
