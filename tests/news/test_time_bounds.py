"""Bounded time whatever the servers do: a trickling feed fails at the fetch deadline, and a
feed whose pages trickle previews within its feed bound, the late pages built from the feed's
own text (pages fetched concurrently, not one after another)."""

from __future__ import annotations

import time

import pytest

from digests.config import PipelineConfig
from digests.preview import main_preview
from tests.news.hostile_server import HostileSite, Route, hostile
from tests.news.test_pipeline import PARAGRAPHS, article_page, rss, rss_item
from tests.news.test_preview import json_lines

__all__ = ["hostile"]

FAST = PipelineConfig(connect_timeout=2, read_timeout=2, total_timeout=1.0, feed_timeout=2.0)


def test_fetch_and_feed_defaults() -> None:
    config = PipelineConfig()
    assert config.total_timeout == 20.0  # Miniflux's default client timeout
    assert config.total_timeout < config.feed_timeout < 60.0


def _run(capsys: pytest.CaptureFixture[str], inputs: list[str], config: PipelineConfig) -> tuple:
    started = time.monotonic()
    code = main_preview(inputs, fmt="json", limit=3, config=config)
    out, err = capsys.readouterr()
    return code, json_lines(out), err, time.monotonic() - started


def test_a_trickling_feed_fails_at_the_fetch_deadline(
    capsys: pytest.CaptureFixture[str], hostile: HostileSite
) -> None:
    # One byte every 0.3 s never trips the 2 s read timeout: only the overall deadline ends it.
    body = b"<rss>" + b" " * 200
    url = hostile.add("/feed", Route(body, content_type="application/rss+xml", trickle=0.3))
    code, cards, err, took = _run(capsys, [url], FAST)
    assert code == 1 and cards == []
    assert "overall deadline" in err
    assert took < 1.0 + 1.5


def test_pages_past_the_feed_bound_fall_back_to_the_feed_text(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, hostile: HostileSite
) -> None:
    config = PipelineConfig(connect_timeout=5, read_timeout=5, total_timeout=10, feed_timeout=1.5)
    items = []
    for n in range(3):
        link = hostile.add(f"/page{n}", Route(article_page(f"Story {n}"), trickle=0.2))
        items.append(
            rss_item(
                f"Story {n}",
                link,
                date=f"2{n} Nov 2026 08:00:00 GMT",
                content="".join(f"<p>{p}</p>" for p in PARAGRAPHS),
            )
        )
    feed = hostile.add("/feed", Route(rss(items), content_type="application/rss+xml"))
    code, cards, err, took = _run(capsys, [feed], config)
    assert code == 0, err
    assert sorted(c["title"] for c in cards) == ["Story 0", "Story 1", "Story 2"]
    assert all("4.2 billion dollars" in c["text"] for c in cards)  # the feed's own text
    assert caplog.text.count("not read within the feed's time bound") == 3
    # Concurrent: pages of 10 s each (two at a time to one site), all given up together at
    # the 1.5 s bound rather than one after another.
    assert took < 1.5 + 2.0
    assert hostile.paths[0] == "/feed" and len(hostile.paths) >= 3
