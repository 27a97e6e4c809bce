"""``digestbot feeds ...`` (OPML in and out), the feeds file, and the console chat."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli import _build_parser
from bot.commands import CommandCore
from bot.console import CONSOLE_CHAT, ConsoleAdapter, ConsoleSender, chat_repl, format_reply
from bot.feeds_cli import (
    FeedsFileError,
    load_feeds_file,
    main_feeds,
    parse_opml,
    resolve_feed_url,
)
from bot.ports import Choice, OutgoingMessage, Reply
from bot.store import SqlStore
from digests.config import CONFIG_DIR
from tests.bot.conftest import make_settings

OPML = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>mine</title></head><body>
  <outline text="News">
    <outline type="rss" text="Opinions" title="Opinions" xmlUrl="https://a.example/rss"
             category="/world/Diplomacy,trade"/>
    <outline type="rss" text="Dup" xmlUrl="https://a.example/rss"/>
  </outline>
  <outline type="rss" text="Other" xmlUrl="https://b.example/atom"/>
  <outline text="a folder without a feed"/>
</body></opml>"""


def test_parse_opml_flattens_and_dedupes() -> None:
    feeds = parse_opml(OPML)
    assert [(f.url, f.name, f.topics) for f in feeds] == [
        ("https://a.example/rss", "Opinions", ("diplomacy", "trade")),
        ("https://b.example/atom", "Other", ()),
    ]


@pytest.mark.parametrize(
    "data",
    [b"<rss/>", b"not xml at all", b'<!DOCTYPE x [<!ENTITY a "b">]><opml>&a;</opml>'],
)
def test_parse_opml_refuses_what_is_not_opml(data: bytes) -> None:
    with pytest.raises(FeedsFileError):
        parse_opml(data)


def test_bundled_feeds_file_points_at_the_offline_sample(tmp_path: Path) -> None:
    (feed,) = load_feeds_file(CONFIG_DIR / "feeds.toml")
    assert feed.url == (CONFIG_DIR / "samples" / "sample-feed.xml").resolve().as_uri()
    assert feed.topics == ("opinion",)
    bad = tmp_path / "feeds.toml"
    bad.write_text("[[feeds]]\nname = 'no url'\n")
    with pytest.raises(FeedsFileError, match="no url"):
        load_feeds_file(bad)


@pytest.mark.parametrize(
    ("url", "resolved"),
    [
        ("https://x.example/rss", "https://x.example/rss"),
        ("file:///tmp/f.xml", "file:///tmp/f.xml"),
        ("feeds/f.xml", "file:///base/feeds/f.xml"),
        ("/abs/f.xml", "file:///abs/f.xml"),
    ],
)
def test_resolve_feed_url(url: str, resolved: str) -> None:
    assert resolve_feed_url(url, Path("/base")) == resolved


def _feeds(tmp_path: Path, *argv: str) -> int:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}", tmp_path)
    return main_feeds(settings, _build_parser().parse_args(["feeds", *argv]))


def test_feeds_cli_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    opml = tmp_path / "in.opml"
    opml.write_bytes(OPML)
    assert (
        _feeds(
            tmp_path,
            "add",
            "--no-check",
            "https://c.example/rss",
            "--name",
            "C",
            "--topics",
            "sport",
        )
        == 0
    )
    assert _feeds(tmp_path, "import", str(opml)) == 0
    assert "imported 2 feed(s)" in capsys.readouterr().out
    assert _feeds(tmp_path, "list") == 0
    listing = capsys.readouterr().out
    assert "https://c.example/rss  C [sport]" in listing and "not polled yet" in listing
    assert _feeds(tmp_path, "remove", "https://b.example/atom") == 0
    assert _feeds(tmp_path, "remove", "https://b.example/atom") == 1
    out = tmp_path / "out.opml"
    assert _feeds(tmp_path, "export", str(out)) == 0
    exported = parse_opml(out.read_bytes())
    assert {(f.url, f.name) for f in exported} == {
        ("https://c.example/rss", "C"),
        ("https://a.example/rss", "Opinions"),
    }
    assert _feeds(tmp_path, "import", str(tmp_path / "missing.opml")) == 1
    assert "digestbot feeds:" in capsys.readouterr().err


async def _lines(*lines: str) -> AsyncIterator[str]:
    for line in lines:
        yield line + "\n"


async def test_console_chat_answers_the_same_commands(core: CommandCore, store: SqlStore) -> None:
    out = io.StringIO()
    await chat_repl(
        core, _lines("/subscribe economy", "", "hello?", "list", "quit", "/help"), out=out
    )
    text = out.getvalue()
    assert "Subscribed. You now follow topics: economy." in text
    assert "Commands start with a word" in text
    assert "You follow topics: economy." in text
    assert "Here is what I understand" not in text  # after quit
    sub = await store.get_subscription(CONSOLE_CHAT)
    assert sub is not None and sub.filters == ("economy",)


def test_format_reply_and_console_sender() -> None:
    reply = Reply("Hi", choices=(Choice("Trade", "subscribe trade"),))
    assert format_reply(reply) == "Hi\nTry: Trade (subscribe trade)\n"
    both = Reply("Hi", choices=(Choice("Help", "help"), Choice("Latest", "digest")))
    assert format_reply(both) == "Hi\nTry: help | Latest (digest)\n"
    sender = ConsoleSender(io.StringIO())
    assert sender.render([]) == [] and sender.min_interval("x") == 0.0


async def test_console_adapter_writes_to_the_stream_it_was_given() -> None:
    out = io.StringIO()
    adapter = ConsoleAdapter(None, out=out)
    assert adapter.sender.out is out
    await adapter.sender.send("terminal", OutgoingMessage({"text": "card"}, "card"))
    await adapter.stop()
    assert out.getvalue().endswith("card\n")
