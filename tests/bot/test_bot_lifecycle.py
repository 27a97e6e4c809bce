"""Closing the App closes every adapter once, started or not, and ``run --once`` exits
non-zero when every feed failed (so that cron notices)."""

from __future__ import annotations

from pathlib import Path

from bot.app import App
from bot.worker_cli import run_worker
from tests.bot.conftest import make_settings
from tests.bot.fakes import FakeAdapter, FakeSender


async def test_aclose_stops_adapters_that_were_never_started(db_url: str, tmp_path: Path) -> None:
    # run --once delivers through senders without starting the adapters; their connections
    # must still be closed when the App closes.
    adapter = FakeAdapter(FakeSender())
    async with App(make_settings(db_url, tmp_path), adapters=[adapter]) as app:
        await app.run_once()
    assert (adapter.started, adapter.stopped) == (0, 1)


def test_run_once_exits_1_when_every_feed_fails(db_url: str, tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.toml"
    feeds.write_text('[[feeds]]\nurl = "missing-feed.xml"\n')
    settings = make_settings(db_url, tmp_path, feeds_file=feeds)
    assert run_worker(settings, once=True) == 1


def test_run_once_exits_0_when_a_feed_works(db_url: str, tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[2] / "config" / "samples" / "sample-feed.xml"
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feeds]]\nurl = "{sample.as_uri()}"\n[[feeds]]\nurl = "missing.xml"\n')
    settings = make_settings(db_url, tmp_path, feeds_file=feeds)
    assert run_worker(settings, once=True) == 0
