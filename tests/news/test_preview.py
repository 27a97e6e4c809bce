"""``digestbot preview``: pages, saved files and feeds in, cards out, failures per input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from digests.config import CONFIG_DIR, PipelineConfig
from digests.preview import looks_like_feed, main_preview
from tests.news import test_pipeline
from tests.news.test_pipeline import Site, article_page, rss, rss_item

site = test_pipeline.site  # the local HTTP server fixture, shared with the pipeline tests

SAMPLE = CONFIG_DIR / "samples" / "cgtn-first-voice-china-rok.html"
REPO = CONFIG_DIR.parent
CONFIG = PipelineConfig(connect_timeout=2, read_timeout=2, total_timeout=5)
JSON_KEYS = {
    "title",
    "url",
    "source",
    "published",
    "text",
    "summary",
    "key_facts",
    "editors_note",
    "topics",
    "reading_minutes",
}


def run(
    capsys: pytest.CaptureFixture[str], inputs: list[str], fmt: str = "json", limit: int = 3
) -> tuple[int, str, str]:
    code = main_preview(inputs, fmt=fmt, limit=limit, config=CONFIG)
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.mark.skipif(not SAMPLE.exists(), reason="sample page not in the repo yet")
def test_cgtn_sample_page(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, [str(SAMPLE)])
    assert code == 0, err
    (card,) = json_lines(out)
    assert card.keys() >= JSON_KEYS
    assert card["title"] == "Elevating the China-ROK Strategic Cooperative Partnership"
    assert card["editors_note"].startswith(
        "CGTN's First Voice provides instant commentary on breaking stories. "
    )
    assert card["editors_note"] == (
        "CGTN's First Voice provides instant commentary on breaking stories. The column "
        "clarifies emerging issues and better defines the news agenda, offering a Chinese "
        "perspective on the latest global events."
    )
    assert 2 <= len(card["summary"]) <= 3
    summary = " ".join(card["summary"]).lower()
    for noise in ("cookie", "privacy", "/ cfp", "national flags", "i agree", "editor's note"):
        assert noise not in summary
    facts = " ".join(card["key_facts"])
    assert "328.08 billion" in facts
    assert "21 years" in facts
    assert {"economy", "trade"} <= set(card["topics"])
    assert card["published"] is None or card["published"].endswith("+00:00")
    assert card["reading_minutes"] >= 2
    assert "Search Trends" not in card["text"] and "opinions@cgtn.com" not in card["text"]


def test_feed_input_previews_newest_entries(capsys: pytest.CaptureFixture[str], site: Site) -> None:
    items = []
    for day, name in [(25, "oldest"), (27, "newest"), (26, "middle")]:
        link = site.add(f"/{name}", article_page(f"Council story {name}"))
        items.append(rss_item(f"Council story {name}", link, date=f"{day} Nov 2026 08:00:00 GMT"))
    feed_url = site.add("/feed", rss(items), content_type="text/xml")  # sniffed, not by type
    code, out, err = run(capsys, [feed_url], limit=2)
    assert code == 0, err
    cards = json_lines(out)
    assert [c["title"] for c in cards] == ["Council story newest", "Council story middle"]
    assert all(c["published"].startswith("2026-11-2") for c in cards)
    assert "/oldest" not in site.hits


def test_bad_input_among_good_ones(
    capsys: pytest.CaptureFixture[str], site: Site, tmp_path: Path
) -> None:
    saved = tmp_path / "saved.html"
    saved.write_bytes(article_page("Saved page story"))
    page = site.add("/page", article_page("Served page story"))
    missing = str(tmp_path / "missing.html")
    broken = site.base + "/broken"  # 404
    code, out, err = run(capsys, [str(saved), missing, page, broken])
    assert code == 1
    assert [c["title"] for c in json_lines(out)] == ["Saved page story", "Served page story"]
    lines = err.strip().splitlines()
    assert f"digestbot: {missing}: no such file: {missing}" in lines
    assert any(line.startswith(f"digestbot: {broken}: ") and "404" in line for line in lines)


def test_feed_entry_that_fails_is_reported_and_others_print(
    capsys: pytest.CaptureFixture[str], site: Site
) -> None:
    good = site.add("/good", article_page("Good story"))
    items = [
        rss_item("Good story", good, date="27 Nov 2026 08:00:00 GMT"),
        rss_item("", site.base + "/gone", date="26 Nov 2026 08:00:00 GMT"),
    ]
    feed_url = site.add("/feed.rss", rss(items), content_type="application/rss+xml")
    code, out, err = run(capsys, [feed_url])
    assert code == 1
    assert [c["title"] for c in json_lines(out)] == ["Good story"]
    assert err.startswith(f"digestbot: {feed_url}: {site.base}/gone: ")


@pytest.mark.parametrize("fmt", ["text", "telegram", "slack"])
def test_other_formats(capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str) -> None:
    pages = []
    for name in ("first", "second"):
        path = tmp_path / f"{name}.html"
        path.write_bytes(article_page(f"Story {name} & <more>"))
        pages.append(str(path))
    code, out, err = run(capsys, pages, fmt=fmt)
    assert code == 0, err
    if fmt == "slack":
        messages = json_lines(out)
        assert len(messages) == 2
        assert messages[0]["blocks"][0]["text"]["text"] == "Story first & <more>"
        assert isinstance(messages[1]["text"], str)
    elif fmt == "telegram":
        assert "<b>Story first &amp; &lt;more&gt;</b>" in out
        assert out.index("Story first") < out.index("Story second")
    else:
        assert out.startswith("Story first & <more>\n")
        assert "Story second & <more>" in out


def _preview_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``digestbot preview ARGS`` in a fresh process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "preview", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


def test_cli_end_to_end(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(article_page("CLI story"))
    done = _preview_cli("--format", "json", str(page), "nope.html", DIGESTBOT_SUMMARY_WORDS="25")
    assert done.returncode == 1
    (card,) = json_lines(done.stdout)
    assert card["title"] == "CLI story"
    assert len(" ".join(card["summary"]).split()) <= 25  # settings reach the pipeline
    assert done.stderr.strip().splitlines()[-1].startswith("digestbot: nope.html: ")


def test_a_file_that_is_not_html_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data.json"
    data.write_text('{"not": "a page"}')
    done = _preview_cli(str(data))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"digestbot: {data}: the page is empty or not HTML"]


def test_limit_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, ["feed.xml"], limit=0) == (
        2,
        "",
        "digestbot: --limit must be at least 1 (got 0)\n",
    )


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        (b"<?xml version='1.0'?><rss version='2.0'><channel/></rss>", None, True),
        (b"\xef\xbb\xbf\n<feed xmlns='http://www.w3.org/2005/Atom'>", "text/xml", True),
        (b"<rdf:RDF xmlns:rdf='x'>", "application/xml", True),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', None, True),
        (b"<!DOCTYPE html><html><body>An RSS <feed> page</body></html>", None, False),
        (b"<html><head><link type='application/rss+xml'></head>", "text/html", False),
        (b'{"not": "a feed"}', "application/json", False),
        (b"anything", "application/atom+xml; charset=utf-8", True),
        (b"<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'>", None, False),
    ],
)
def test_looks_like_feed(content: bytes, content_type: str | None, expected: bool) -> None:
    assert looks_like_feed(content, content_type) is expected


def test_an_item_listed_twice_previews_once(capsys: pytest.CaptureFixture[str], site: Site) -> None:
    link = site.add("/twice", article_page("Council story twice"))
    item = rss_item("Council story twice", link, date="27 Nov 2026 08:00:00 GMT")
    feed_url = site.add("/twice.rss", rss([item, item]), content_type="application/rss+xml")
    code, out, err = run(capsys, [feed_url])
    assert code == 0, err
    assert [c["title"] for c in json_lines(out)] == ["Council story twice"]
