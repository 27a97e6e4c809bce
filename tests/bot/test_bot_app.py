"""The worker end to end: feeds on httpx.MockTransport, a real SQLite store, fake senders.

Every test goes through ``App.run_once`` (or ``poll``/``deliver``), the path of
``digestbot run --once``.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.app import App
from bot.delivery import DeliveryPolicy
from bot.ports import ChatGone, ChatRef, Rejected, RetryLater
from bot.store import Subscription
from tests.bot.conftest import make_settings
from tests.bot.fakes import (
    CLIMATE_BODY,
    SPORT_BODY,
    TRADE_BODY,
    FakeAdapter,
    FakeClock,
    FakeSender,
    FeedSite,
    Item,
    streamed,
)


def _item(guid: str, title: str, body: str = TRADE_BODY, **kw: object) -> Item:
    return Item(guid=guid, title=title, body=body, **kw)  # type: ignore[arg-type]


class World:
    """One test's site, clock, sender and database, from which Apps are made (several Apps
    on the same database file are a restart)."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.site = FeedSite()
        self.clock = FakeClock()
        self.sender = FakeSender()
        self.db_url = f"sqlite+aiosqlite:///{tmp_path / 'worker.sqlite3'}"

    @asynccontextmanager
    async def app(
        self,
        sender: FakeSender | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        **kw: object,
    ) -> AsyncIterator[App]:
        settings = make_settings(self.db_url, self.tmp_path)
        adapter = FakeAdapter(sender or self.sender)
        async with App(
            settings,
            fetch_transport=transport or self.site.transport,
            adapters=[adapter],
            clock=self.clock,
            pacing=False,
            **kw,  # type: ignore[arg-type]
        ) as app:
            yield app

    async def subscribe(self, app: App, chat_id: str, *filters: str, **kw: object) -> None:
        await app.store.save_subscription(
            Subscription(chat=ChatRef("fake", chat_id), filters=filters, **kw)  # type: ignore[arg-type]
        )

    async def feed(self, app: App, host: str, *items: Item) -> str:
        url = self.site.add(host, *items)
        await app.store.add_feed(url)
        return url

    def next_poll(self) -> None:
        self.clock.advance(minutes=11)


async def test_first_add_is_recorded_not_broadcast_then_new_entries_go_out(
    tmp_path: Path,
) -> None:
    w = World(tmp_path)
    async with w.app() as app:
        await w.subscribe(app, "all")
        await w.feed(app, "a.example", _item("a1", "Old trade piece"))
        first = await app.run_once()
        assert first.feeds[0].first_poll and first.feeds[0].cards == 1
        assert first.delivery.sent == 0 and w.sender.delivered == []
        # ... but /digest can show the card already.
        assert [s.card.title for s in await app.store.latest_cards(5)] == ["Old trade piece"]

        w.site.add("a.example", _item("a2", "New trade piece"))
        w.next_poll()
        second = await app.run_once()
        assert (second.feeds[0].new_entries, second.feeds[0].queued) == (1, 1)
        assert w.sender.titles_for("all") == ["New trade piece"]

        w.next_poll()
        third = await app.run_once()
        assert third.feeds[0].new_entries == 0 and len(w.sender.delivered) == 1


async def test_a_new_entry_reaches_exactly_the_matching_subscribers_once(
    tmp_path: Path,
) -> None:
    w = World(tmp_path)
    async with w.app() as app:
        await w.subscribe(app, "everything")
        await w.subscribe(app, "trade", "trade")
        await w.subscribe(app, "climate", "climate")
        await w.subscribe(app, "keyword", "tariff")
        await w.subscribe(app, "gone", "trade", active=False)
        await w.feed(app, "a.example", _item("old", "Old"))
        await app.run_once()
        w.site.add("a.example", _item("t1", "Trade deal lifts exports"))
        w.next_poll()
        report = await app.run_once()
        w.next_poll()
        await app.run_once()
    assert report.feeds[0].queued == 3
    assert w.sender.titles_for("everything") == ["Trade deal lifts exports"]
    assert w.sender.titles_for("trade") == ["Trade deal lifts exports"]
    assert w.sender.titles_for("keyword") == ["Trade deal lifts exports"]
    assert w.sender.titles_for("climate") == [] and w.sender.titles_for("gone") == []
    assert len(w.sender.delivered) == 3


async def test_instant_mode_sends_one_digest_per_chat_per_cycle(tmp_path: Path) -> None:
    w = World(tmp_path)
    async with w.app() as app:
        await w.subscribe(app, "one")
        await w.feed(app, "a.example")
        await w.feed(app, "b.example")
        await app.run_once()
        w.site.add("a.example", _item("a1", "Trade one"), _item("a2", "Climate two", CLIMATE_BODY))
        w.site.add("b.example", _item("b1", "Sport three", SPORT_BODY))
        w.next_poll()
        report = await app.run_once()
    assert report.delivery.sent == 3 and report.delivery.messages == 1
    assert w.sender.render_calls == [3]
    assert sorted(w.sender.titles_for("one")) == ["Climate two", "Sport three", "Trade one"]


async def test_entries_whose_dates_change_are_not_sent_again(tmp_path: Path) -> None:
    w = World(tmp_path)
    async with w.app() as app:
        await w.subscribe(app, "c")
        await w.feed(app, "a.example")
        await app.run_once()
        item = _item("x1", "Trade piece")
        w.site.add("a.example", item)
        w.next_poll()
        await app.run_once()
        item.published += timedelta(days=1)  # the site "updates" the entry
        item.title = "Trade piece (updated)"
        w.next_poll()
        report = await app.run_once()
    assert report.feeds[0].new_entries == 0
    assert w.sender.titles_for("c") == ["Trade piece"]


async def test_a_broken_feed_does_not_stop_the_others(tmp_path: Path) -> None:
    w = World(tmp_path)
    async with w.app() as app:
        await w.subscribe(app, "c")
        broken = await w.feed(app, "broken.example", _item("b", "never"))
        garbage = await w.feed(app, "garbage.example", _item("g", "never"))
        good = await w.feed(app, "good.example")
        w.site.broken.add("broken.example")
        w.site.garbage.add("garbage.example")
        await app.run_once()
        w.site.add("good.example", _item("n1", "Good news on trade"))
        w.next_poll()
        report = await app.run_once()
        by_url = {f.url: f for f in report.feeds}
        assert by_url[good].error is None and by_url[good].queued == 1
        broken_error = by_url[broken].error
        assert broken_error is not None and "500" in broken_error
        assert by_url[garbage].error
        assert w.sender.titles_for("c") == ["Good news on trade"]
        record = await app.store.get_feed(broken)
        assert record is not None and record.error_count == 2
        # Backed off: 10 min after the first failure, 20 after the second.
        assert record.next_poll_at == w.clock.now + timedelta(minutes=20)
        w.next_poll()
        later = await app.run_once()
        assert broken not in {f.url for f in later.feeds}


async def test_feed_ttl_and_not_modified(tmp_path: Path) -> None:
    etags: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path != "/feed.xml":
            return streamed(404)
        etags.append(request.headers.get("if-none-match"))
        if request.headers.get("if-none-match") == '"v1"':
            return streamed(304, "", {"etag": '"v1"'})
        body = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>'
            "https://t.example/</link><description>d</description><ttl>90</ttl></channel></rss>"
        )
        return streamed(200, body, {"etag": '"v1"'})

    w = World(tmp_path)
    async with w.app(transport=httpx.MockTransport(handler)) as app:
        await app.store.add_feed("https://t.example/feed.xml")
        await app.run_once()
        feed = await app.store.get_feed("https://t.example/feed.xml")
        assert feed is not None and feed.ttl_minutes == 90
        assert feed.next_poll_at == w.clock.now + timedelta(minutes=90)
        w.clock.advance(minutes=60)
        assert (await app.run_once()).feeds == []  # the feed asked for 90 minutes
        w.clock.advance(minutes=31)
        report = await app.run_once()
    assert report.feeds[0].not_modified
    assert etags == [None, '"v1"']


async def test_retry_later_delivers_late_and_other_chats_go_on(tmp_path: Path) -> None:
    w = World(tmp_path)
    w.sender.script("slow", RetryLater(30, "429 Too Many Requests"))
    async with w.app() as app:
        await w.subscribe(app, "slow")
        await w.subscribe(app, "fast")
        await w.feed(app, "a.example")
        await app.run_once()
        w.site.add("a.example", _item("n", "Trade news"))
        w.next_poll()
        report = await app.run_once()
        assert (report.delivery.sent, report.delivery.retry) == (1, 1)
        assert w.sender.titles_for("fast") == ["Trade news"]
        assert w.sender.titles_for("slow") == []
        w.clock.advance(seconds=29)
        assert (await app.deliver()).sent == 0
        w.clock.advance(seconds=2)
        assert (await app.deliver()).sent == 1
        assert w.sender.titles_for("slow") == ["Trade news"]
        assert (await app.deliver()).sent == 0
        assert (await app.store.outbox_counts())["sent"] == 2


async def test_network_errors_back_off_then_give_up(tmp_path: Path) -> None:
    w = World(tmp_path)
    w.sender.script("c", *[httpx.ConnectError("connection refused")] * 3)
    policy = DeliveryPolicy(max_attempts=3, backoff_base=10)
    async with w.app(delivery_policy=policy) as app:
        await w.subscribe(app, "c")
        await w.feed(app, "a.example")
        await app.run_once()
        w.site.add("a.example", _item("n", "Trade news"))
        w.next_poll()
        assert (await app.run_once()).delivery.retry == 1
        w.clock.advance(seconds=10)
        assert (await app.deliver()).retry == 1  # 2nd attempt failed; next wait is 20 s
        w.clock.advance(seconds=19)
        assert (await app.deliver()).failed == 0
        w.clock.advance(seconds=1)
        assert (await app.deliver()).failed == 1  # 3rd attempt: given up
        assert (await app.store.outbox_counts())["failed"] == 1
    assert w.sender.delivered == []


async def test_rate_limits_never_use_up_attempts(tmp_path: Path) -> None:
    # A chat rate-limited more often than max_attempts still gets its card: a wait the
    # platform asked for (429, a paused token) is not a failed attempt.
    w = World(tmp_path)
    waits = [RetryLater(5, "429 Too Many Requests", counts_as_attempt=False)] * 5
    w.sender.script("busy", *waits)
    async with w.app(delivery_policy=DeliveryPolicy(max_attempts=2)) as app:
        await w.subscribe(app, "busy")
        await w.feed(app, "a.example")
        await app.run_once()
        w.site.add("a.example", _item("n", "Trade news"))
        w.next_poll()
        assert (await app.run_once()).delivery.retry == 1
        for _ in range(4):
            w.clock.advance(seconds=5)
            report = await app.deliver()
            assert (report.retry, report.failed) == (1, 0)
        w.clock.advance(seconds=5)
        assert (await app.deliver()).sent == 1
    assert w.sender.titles_for("busy") == ["Trade news"]


async def test_chat_gone_deactivates_and_drops_its_items(tmp_path: Path) -> None:
    w = World(tmp_path)
    w.sender.cards_per_message = 1
    w.sender.script("blocked", ChatGone("Forbidden: bot was blocked by the user"))
    async with w.app() as app:
        await w.subscribe(app, "blocked")
        await w.subscribe(app, "fine")
        await w.feed(app, "a.example")
        await app.run_once()
        w.site.add("a.example", _item("n1", "Trade one"), _item("n2", "Trade two"))
        w.next_poll()
        report = await app.run_once()
        assert report.delivery.chats_gone == 1 and report.delivery.sent == 2
        sub = await app.store.get_subscription(ChatRef("fake", "blocked"))
        assert sub is not None and not sub.active
        assert sub.deactivated_reason == "Forbidden: bot was blocked by the user"
        w.site.add("a.example", _item("n3", "Trade three"))
        w.next_poll()
        later = await app.run_once()
        assert later.feeds[0].queued == 1  # only "fine"
    assert w.sender.titles_for("blocked") == []
    assert len(w.sender.titles_for("fine")) == 3


async def test_rejected_message_fails_only_its_cards(tmp_path: Path) -> None:
    w = World(tmp_path)
    w.sender.cards_per_message = 1
    w.sender.script("c", Rejected("Bad Request: message is too long"))
    async with w.app() as app:
        await w.subscribe(app, "c")
        await w.feed(app, "a.example")
        await app.run_once()
        w.site.add("a.example", _item("n1", "Trade one"), _item("n2", "Trade two"))
        w.next_poll()
        report = await app.run_once()
        assert (report.delivery.failed, report.delivery.sent) == (1, 1)
        assert await app.store.outbox_counts() == {"pending": 0, "sent": 1, "failed": 1}


async def test_restart_between_queueing_and_sending_loses_and_repeats_nothing(
    tmp_path: Path,
) -> None:
    w = World(tmp_path)
    async with w.app() as app:
        await w.subscribe(app, "c")
        await w.feed(app, "a.example")
        await app.run_once()
        w.site.add("a.example", _item("n1", "Trade one"), _item("n2", "Climate two", CLIMATE_BODY))
        w.next_poll()
        polled = await app.poll()  # queued ... and the process dies before delivery
        assert polled[0].queued == 2
    assert w.sender.delivered == []
    async with w.app() as app:  # a new process on the same database
        report = await app.run_once()
        assert report.delivery.sent == 2
        assert (await app.run_once()).delivery.sent == 0
    assert sorted(w.sender.titles_for("c")) == ["Climate two", "Trade one"]


async def test_a_dead_workers_claims_are_taken_again_after_the_lease(tmp_path: Path) -> None:
    w = World(tmp_path)
    async with w.app() as app:
        await w.subscribe(app, "c")
        await w.feed(app, "a.example")
        await app.run_once()
        w.site.add("a.example", _item("n1", "Trade one"))
        w.next_poll()
        await app.poll()
        # Worker 1 leases the item and dies mid-send.
        claimed = await app.store.claim_due(
            w.clock.now, lease_seconds=300, limit=10, platforms=["fake"]
        )
        assert len(claimed) == 1
    async with w.app() as app:
        assert (await app.deliver()).sent == 0  # still leased to the dead worker
        w.clock.advance(seconds=301)
        assert (await app.deliver()).sent == 1
    assert w.sender.titles_for("c") == ["Trade one"]


async def test_hourly_subscribers_get_one_batch_at_the_full_hour(tmp_path: Path) -> None:
    w = World(tmp_path)
    async with w.app() as app:
        await w.subscribe(app, "hourly", mode="hourly")
        await w.subscribe(app, "instant")
        await w.feed(app, "a.example")
        await app.run_once()  # 09:00
        w.site.add("a.example", _item("n1", "Trade one"))
        w.next_poll()  # 09:11
        await app.run_once()
        w.site.add("a.example", _item("n2", "Climate two", CLIMATE_BODY))
        w.next_poll()  # 09:22
        await app.run_once()
        assert w.sender.titles_for("hourly") == []
        assert len(w.sender.titles_for("instant")) == 2
        w.clock.advance(minutes=38)  # 10:00
        report = await app.deliver()
        assert (report.sent, report.messages) == (2, 1)
    assert sorted(w.sender.titles_for("hourly")) == ["Climate two", "Trade one"]


async def test_no_sender_for_a_platform_leaves_its_items_queued(tmp_path: Path) -> None:
    w = World(tmp_path)
    async with w.app() as app:
        await app.store.save_subscription(Subscription(chat=ChatRef("telegram", "1")))
        await w.feed(app, "a.example")
        await app.run_once()
        w.site.add("a.example", _item("n1", "Trade one"))
        w.next_poll()
        report = await app.run_once()
        assert report.feeds[0].queued == 1 and report.delivery.sent == 0
        assert (await app.store.outbox_counts())["pending"] == 1


async def test_console_default_prints_the_sample_feed_offline(tmp_path: Path) -> None:
    """`digestbot run --once` on a fresh machine: no token, the bundled feeds file."""
    from digests.config import CONFIG_DIR

    out = io.StringIO()
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}",
        tmp_path,
        feeds_file=CONFIG_DIR / "feeds.toml",
        telegram_bot_token=None,
        slack_bot_token=None,
    )
    async with App(settings, console_out=out, pacing=False) as app:
        assert list(app.senders) == ["console"]
        report = await app.run_once()
        assert report.feeds[0].error is None, report.feeds[0].error
        assert report.delivery.sent == 3
        again = await app.run_once()
        assert again.delivery.sent == 0
    printed = out.getvalue()
    assert printed.count("-" * 72) == 3
    assert "Small ports, big stakes" in printed
    assert "four-day school week" in printed


async def test_a_feed_falling_due_within_the_jitter_is_polled_now(tmp_path: Path) -> None:
    w = World(tmp_path)
    async with w.app() as app:
        await w.feed(app, "a.example")
        await app.run_once()
        w.clock.advance(minutes=7)
        assert (await app.run_once()).feeds == []
        w.clock.advance(minutes=1, seconds=30)  # due in 30 s: the scheduler woke a bit early
        assert len((await app.run_once()).feeds) == 1


async def test_card_processes_default_to_the_usable_cores_unless_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from digests.card_work import default_processes, usable_cores

    monkeypatch.delenv("DIGESTBOT_CARD_PROCESSES")  # the suite's threads (tests/conftest.py)
    db = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    async with App(make_settings(db, tmp_path), adapters=[]) as app:
        assert app.pipeline._work.processes == default_processes(usable_cores())
    monkeypatch.setenv("DIGESTBOT_CARD_PROCESSES", "3")
    async with App(make_settings(db, tmp_path), adapters=[]) as app:
        assert app.pipeline._work.processes == 3


async def test_cards_per_process_reach_the_card_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGESTBOT_CARDS_PER_PROCESS", "7")
    db = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    async with App(make_settings(db, tmp_path), adapters=[]) as app:
        assert app.pipeline._work.cards_per_process == 7
