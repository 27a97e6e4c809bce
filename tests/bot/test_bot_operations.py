"""Operations: metrics scraped over HTTP after a poll and a delivery, health and readiness,
alerts to the admin chats, a status that tells the truth, run --once exit codes, feed URLs."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App, CycleReport
from bot.cli import main
from bot.clock import utcnow
from bot.delivery import DeliveryReport
from bot.errors import FeedUrlError
from bot.feed_urls import normalize_feed_url
from bot.logs import json_formatter
from bot.ops_http import OpsServer, ReadinessSource
from bot.poller import FeedReport
from bot.ports import ChatGone, ChatRef, RetryLater
from bot.store import SqlStore, Subscription
from bot.store.ops import head_revision
from bot.worker_cli import once_exit_code
from tests.bot.conftest import make_settings
from tests.bot.fakes import TRADE_BODY, FakeAdapter, FakeClock, FakeSender, FeedSite, Item


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.site = FeedSite()
        self.clock = FakeClock()
        self.db_url = f"sqlite+aiosqlite:///{tmp_path / 'ops.sqlite3'}"

    @asynccontextmanager
    async def app(self, *senders: FakeSender, **values: object) -> AsyncIterator[App]:
        settings = make_settings(self.db_url, self.tmp_path, **values)
        async with App(
            settings,
            fetch_transport=self.site.transport,
            adapters=[FakeAdapter(s) for s in senders],
            clock=self.clock,
            pacing=False,
        ) as app:
            yield app


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def _get(port: int, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.text()


async def test_metrics_after_a_poll_and_a_delivery_round(tmp_path: Path) -> None:
    w = World(tmp_path)
    sender = FakeSender()
    async with w.app(sender) as app:
        await app.store.save_subscription(Subscription(chat=ChatRef("fake", "1")))
        await app.store.add_feed(w.site.add("a.example"))
        await app.run_once()  # first poll: nothing to read yet
        w.site.add(
            "a.example", Item("g1", "Trade one", TRADE_BODY), Item("g2", "Trade two", TRADE_BODY)
        )
        w.site.broken.add("b.example")
        await app.store.add_feed(w.site.url("b.example"))
        w.clock.advance(minutes=11)
        await app.run_once()
        port = _free_port()
        server = OpsServer(
            ReadinessSource(app.store, head_revision(), lambda: ["fake"], w.clock, app.metrics),
            host="127.0.0.1",
            port=port,
        )
        await server.start()
        try:
            status, text = await _get(port, "/metrics")
        finally:
            await server.stop()
    assert status == 200
    got = _samples(text)
    assert got[("digestbot_feed_polls_total", (("outcome", "ok"),))] == 2
    assert got[("digestbot_feed_polls_total", (("outcome", "failed"),))] == 1
    assert got[("digestbot_articles_read_total", ())] == 2
    assert got[("digestbot_cards_queued_total", ())] == 2
    assert got[("digestbot_messages_sent_total", (("platform", "fake"),))] == 1
    assert got[("digestbot_cards_sent_total", (("platform", "fake"),))] == 2
    assert got[("digestbot_outbox_pending", (("platform", "fake"),))] == 0
    assert got[("digestbot_feed_fetch_seconds_count", ())] == 3


async def test_readyz_names_the_failing_check_and_healthz_sees_a_stuck_loop(
    tmp_path: Path,
) -> None:
    store = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'ready.sqlite3'}")
    await store.upgrade()
    port = _free_port()
    started: list[str] = ["telegram"]
    source = ReadinessSource(store, head_revision(), lambda: list(started), FakeClock())
    server = OpsServer(source, host="127.0.0.1", port=port, stuck_after=5)
    await server.start()
    try:
        assert (await _get(port, "/healthz"))[0] == 200
        status, body = await _get(port, "/readyz")
        assert status == 200 and json.loads(body)["checks"]["database"] == "ok"
        # The database goes away: a store on a file that cannot be opened.
        source.store = SqlStore.from_url("sqlite+aiosqlite:////nonexistent-dir/x.sqlite3")
        started.clear()
        status, body = await _get(port, "/readyz")
        checks = json.loads(body)["checks"]
        assert status == 503
        assert checks["database"].startswith("error:") and checks["platforms"].startswith("error")
        server.watch.last_beat -= 60  # as if the loop had not run for a minute
        assert (await _get(port, "/healthz"))[0] == 503
    finally:
        await server.stop()
        await store.close()


async def test_a_feed_failing_past_the_threshold_alerts_once_and_once_on_recovery(
    tmp_path: Path,
) -> None:
    w = World(tmp_path)
    admin = FakeSender(platform="telegram")
    async with w.app(admin, admin_chats="telegram:999") as app:
        w.site.broken.add("a.example")
        await app.store.add_feed(w.site.url("a.example"))
        await app.run_once()  # failing, but for less than 6 h: nothing said
        assert admin.delivered == []
        for _ in range(4):  # 7 h, then every hour: told once
            w.clock.advance(hours=7 if not admin.delivered else 1)
            await app.run_once()
        assert admin.titles_for("999") == ["digestbot: A feed keeps failing"]
        w.site.broken.discard("a.example")
        w.site.add("a.example")
        w.clock.advance(hours=7)
        await app.run_once()
        w.clock.advance(hours=7)
        await app.run_once()
    assert admin.titles_for("999") == [
        "digestbot: A feed keeps failing",
        "digestbot: A feed works again",
    ]


async def test_a_rejected_token_pauses_its_platform_and_alerts_the_other_once(
    tmp_path: Path,
) -> None:
    w = World(tmp_path)
    telegram, slack = FakeSender(platform="telegram"), FakeSender(platform="slack")
    rejected = RetryLater(
        600, "telegram: token rejected", counts_as_attempt=False, kind="token_rejected"
    )
    telegram.script("1", rejected)
    async with w.app(telegram, slack, admin_chats="slack:CADMIN") as app:
        await app.store.save_subscription(Subscription(chat=ChatRef("telegram", "1")))
        await app.store.save_subscription(Subscription(chat=ChatRef("telegram", "2")))
        await app.store.add_feed(w.site.add("a.example"))
        await app.run_once()
        w.site.add("a.example", Item("g1", "Trade one", TRADE_BODY))
        w.clock.advance(minutes=11)
        first = await app.run_once()
        # Paused after the first refusal: chat 2 was not tried, nothing failed.
        assert first.delivery.failed == 0 and len(telegram.attempts) == 1
        assert app.delivery.paused_platforms() == {"telegram": "telegram: token rejected"}
        for _ in range(3):
            w.clock.advance(minutes=2)
            await app.run_once()
        assert slack.titles_for("CADMIN") == ["digestbot: The bot token is rejected"]
        w.clock.advance(minutes=11)  # the pause ends; the token works again
        await app.run_once()
        assert sorted(telegram.titles_for("1") + telegram.titles_for("2")) == ["Trade one"] * 2
        w.clock.advance(hours=2)
        await app.run_once()
    assert slack.titles_for("CADMIN") == [
        "digestbot: The bot token is rejected",
        "digestbot: The bot token works again",
    ]


async def test_status_is_ok_after_a_blocked_chat_and_an_unsubscribe_and_shows_reasons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    w = World(tmp_path)
    w.clock = FakeClock(utcnow())  # `digestbot status` looks back from the real now
    sender = FakeSender()
    sender.script("blocked", ChatGone("Forbidden: bot was blocked by the user"))
    async with w.app(sender) as app:
        await app.store.save_subscription(Subscription(chat=ChatRef("fake", "blocked")))
        await app.store.save_subscription(Subscription(chat=ChatRef("fake", "daily"), mode="daily"))
        await app.store.add_feed(w.site.add("a.example"))
        await app.run_once()
        w.site.add("a.example", Item("g1", "Trade one", TRADE_BODY))
        w.clock.advance(minutes=11)
        await app.run_once()
        from bot.ports import CommandRequest

        reply = await app.commands.handle(
            CommandRequest(chat=ChatRef("fake", "daily"), name="unsubscribe", args=("all",))
        )
        assert "1 pending card" in reply.text
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", w.db_url)
    monkeypatch.setenv("DIGESTBOT_FEEDS_FILE", str(tmp_path / "none.toml"))
    assert await asyncio.to_thread(main, ["status"]) == 0
    out = capsys.readouterr().out
    assert "1 x Forbidden: bot was blocked by the user" in out
    assert "1 cancelled by unsubscribes" in out
    assert await asyncio.to_thread(main, ["status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["outbox"]["cancelled"] == 1


@pytest.mark.parametrize(
    ("errors", "delivery", "code"),
    [
        ([None, None], DeliveryReport(), 0),
        (["boom", None], DeliveryReport(), 0),  # one failing among working ones: a warning
        (["boom"], DeliveryReport(), 1),  # every feed polled failed
        ([], DeliveryReport(), 0),  # nothing was due
        ([None], DeliveryReport(failed=3, chats_gone=1), 0),  # a blocked chat is not a fault
        ([None], DeliveryReport(failed=1, errors=1), 1),  # the platform refused a card
    ],
)
def test_run_once_exit_codes(errors: list[str | None], delivery: DeliveryReport, code: int) -> None:
    report = CycleReport(
        [FeedReport(f"https://{i}.example/f", error=e) for i, e in enumerate(errors)], delivery
    )
    assert once_exit_code(report)[0] == code


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("HTTPS://Example.ORG/Feed", "https://example.org/Feed"),
        ("https://example.org:443/Feed#top", "https://example.org/Feed"),
        ("http://example.org:8080", "http://example.org:8080/"),
        ("  https://example.org/rss?x=1  ", "https://example.org/rss?x=1"),
    ],
)
def test_feed_urls_are_normalized(url: str, stored: str) -> None:
    assert normalize_feed_url(url) == stored


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x.org/feed",
        "not-a-url",
        "javascript:alert(1)",
        "/etc/passwd",
        "https://",
        "http://a b/",
    ],
)
def test_bad_feed_urls_are_refused(url: str) -> None:
    with pytest.raises(FeedUrlError):
        normalize_feed_url(url)


def test_feeds_cli_refuses_bad_urls_and_deduplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'f.sqlite3'}")
    monkeypatch.setenv("DIGESTBOT_FEEDS_FILE", str(tmp_path / "none.toml"))
    for bad in ("ftp://x.org/feed", "not-a-url"):
        assert main(["feeds", "add", bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "http or https" in err
    assert main(["feeds", "add", "--no-check", "HTTPS://Example.ORG/Feed"]) == 0
    assert main(["feeds", "add", "--no-check", "https://example.org/Feed"]) == 0
    assert "already there" in capsys.readouterr().out
    opml = tmp_path / "in.opml"
    opml.write_text(
        '<opml version="2.0"><body><outline xmlUrl="javascript:alert(1)"/>'
        '<outline xmlUrl="/etc/passwd"/><outline xmlUrl="https://ok.example/rss"/></body></opml>'
    )
    assert main(["feeds", "import", str(opml)]) == 1
    captured = capsys.readouterr()
    assert "imported 1 feed(s)" in captured.out and captured.err.count("skipped") == 2
    assert main(["feeds", "list"]) == 0
    listing = capsys.readouterr().out
    assert listing.count("https://") == 2 and "/etc/passwd" not in listing


async def test_the_feeds_file_manages_its_feeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds_file = tmp_path / "feeds.toml"
    feeds_file.write_text(
        '[[feeds]]\nurl = "https://a.example/feed.xml"\n\n[[feeds]]\nurl = "local.xml"\n'
    )
    w = World(tmp_path)
    async with w.app(FakeSender(), feeds_file=feeds_file) as app:
        urls = {f.url for f in await app.store.list_feeds()}
        assert urls == {"https://a.example/feed.xml", (tmp_path / "local.xml").as_uri()}
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", w.db_url)
    monkeypatch.setenv("DIGESTBOT_FEEDS_FILE", str(feeds_file))
    assert await asyncio.to_thread(main, ["feeds", "remove", "https://a.example/feed.xml"]) == 1
    assert "remove it there" in capsys.readouterr().err
    feeds_file.write_text('[[feeds]]\nurl = "local.xml"\n')
    async with w.app(FakeSender(), feeds_file=feeds_file) as app:
        assert [f.url for f in await app.store.list_feeds()] == [(tmp_path / "local.xml").as_uri()]


def test_bad_admin_chats_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGESTBOT_ADMIN_CHATS", "telegram-123")
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "DIGESTBOT_ADMIN_CHATS" in err and "Traceback" not in err


def test_json_log_lines_carry_context_fields() -> None:
    record = logging.LogRecord(
        "bot.poller", logging.WARNING, __file__, 1, "feed %s failed", ("x",), None
    )
    record.feed = "https://a.example/feed.xml"
    line = json.loads(json_formatter().format(record))
    assert line["level"] == "WARNING" and line["logger"] == "bot.poller"
    assert line["message"] == "feed x failed" and line["feed"] == "https://a.example/feed.xml"
    assert line["time"].endswith("+00:00")


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("digestbot ")


async def test_a_worker_that_did_not_stop_cleanly_is_reported_at_its_next_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.alerts")
    w = World(tmp_path)
    admin = FakeSender(platform="telegram")
    async with w.app(admin, admin_chats="telegram:999", worker_name="w1") as app:
        await app.ops.alerts.worker_started("w1", w.clock())  # ... and then it dies
    async with w.app(admin, admin_chats="telegram:999", worker_name="w1") as app:
        await app.ops.alerts.worker_started("w1", w.clock())
        await app.deliver()
        await app.ops.alerts.worker_stopped("w1")
    async with w.app(admin, admin_chats="telegram:999", worker_name="w1") as app:
        await app.ops.alerts.worker_started("w1", w.clock() + timedelta(hours=2))
        await app.deliver()
    assert admin.titles_for("999") == ["digestbot: A worker restarted after a crash"]
    # The log says it in the same words, not only by its key.
    [logged] = [r.getMessage() for r in caplog.records if r.name == "bot.alerts"]
    assert logged.startswith("digestbot: A worker restarted after a crash (worker:w1): w1.")
    assert "did not stop cleanly" in logged


async def test_the_admin_chat_asks_status_and_feeds_in_chat(tmp_path: Path) -> None:
    from bot.ports import CommandRequest

    w = World(tmp_path)
    async with w.app(FakeSender(platform="telegram"), admin_chats="telegram:999") as app:
        w.site.broken.add("a.example")
        await app.store.add_feed(w.site.url("a.example"))
        await app.run_once()
        admin = ChatRef("telegram", "999")
        status = await app.commands.handle(CommandRequest(chat=admin, name="status"))
        assert "FAILING x1: https://a.example/feed.xml: HTTP 500" in status.text
        feeds = await app.commands.handle(CommandRequest(chat=admin, name="feeds"))
        assert "FAILING x1" in feeds.text and "next poll" in feeds.text
        # Anywhere else, /status is the subscriber's own /list.
        other = await app.commands.handle(
            CommandRequest(chat=ChatRef("telegram", "5"), name="status")
        )
        assert "FAILING" not in other.text and "not subscribed" in other.text.lower()
        sent_at = w.clock() - timedelta(seconds=2)
        await app.commands.handle(CommandRequest(chat=admin, name="help", sent_at=sent_at))
    lag = _samples(app.metrics.exposition().decode())
    assert lag[("digestbot_update_lag_seconds_count", (("platform", "telegram"),))] == 1


async def test_outbox_age_counts_from_the_oldest_due_item(tmp_path: Path) -> None:
    from tests.news.test_topics import _card

    store = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'age.sqlite3'}")
    await store.upgrade()
    try:
        now = FakeClock()()
        feed, _ = await store.add_feed("https://a.example/feed.xml")
        [card] = await store.record_entries(feed.id, [("e1", _card())], now)
        sub = await store.save_subscription(Subscription(chat=ChatRef("fake", "1")))
        assert sub.id is not None
        await store.enqueue([(sub.id, card.id, now - timedelta(minutes=40))], now)
        assert await store.outbox_by_platform(now) == {"fake": (1, 2400.0)}
    finally:
        await store.close()
