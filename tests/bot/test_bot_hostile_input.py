"""Hostile chat input: every parse of what a user types answers with what was wrong, never
with an exception, and states the cap it hit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.commands import CommandCore, parse_command_line
from bot.errors import FeedsFileError
from bot.feeds_cli import resolve_feed_url
from bot.filters import MAX_FILTERS, TaxonomyCatalog, parse_filters
from bot.ports import ChatRef, CommandRequest
from bot.schedule import parse_daily_time, parse_timezone
from bot.store import SqlStore
from digests.textclean import is_clean

CHAT = ChatRef("telegram", "42")
LONG = "x" * 10_000

# Values an attacker or an unlucky user types where a word is expected.
HOSTILE = [
    "Europe",
    "America",
    "Etc",
    "America/Argentina",
    "Europe/",
    "/etc/passwd",
    "../../../etc/passwd",
    "Europe/../../etc/passwd",
    "posixrules",
    "y" * 256,
    LONG,
    "Europe/Berlin\x00",
    "a\x00b",
    "\x1b[31mred",
    "\u202eUTC",
    "\u200fEurope/Berlin",
    "\u200b",
    "🙂",
    "👨‍👩‍👧",
    "<b>bold</b>",
    "&amp;",
    "'; DROP TABLE subscriptions; --",
    "%s%s%n",
    "{0}{name}",
    "٠٧:٣٠",
    "\ud800",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_parse_timezone_never_raises(value: str) -> None:
    assert parse_timezone(value) is None


@pytest.mark.parametrize("value", [*HOSTILE, "25:00", "7:60", "-1:00", "1e3", "07:30:00"])
def test_parse_daily_time_never_raises(value: str) -> None:
    parsed = parse_daily_time(value)
    assert parsed is None or parsed == "07:30"  # Arabic-Indic digits are digits


@pytest.mark.parametrize("value", HOSTILE)
def test_parse_filters_never_raises(catalog: TaxonomyCatalog, value: str) -> None:
    parse = parse_filters((value,), catalog)
    for word in parse.filters:
        assert 2 <= len(word) <= 40 and "\x00" not in word and "<" not in word


def _command_lines(value: str) -> list[str]:
    return [
        f"/settings timezone {value}",
        f"/settings daily {value}",
        f"/settings daily 07:00 {value}",
        f"/settings {value}",
        f"/subscribe {value}",
        f"/unsubscribe {value}",
        f"/digest {value}",
        f"/{value}",
    ]


@pytest.mark.parametrize("value", HOSTILE)
async def test_every_command_answers_hostile_words(
    core: CommandCore, store: SqlStore, value: str
) -> None:
    await core.handle(CommandRequest(CHAT, "subscribe", ("trade",)))
    for line in _command_lines(value):
        request = parse_command_line(line, CHAT) or CommandRequest(CHAT, "settings", (value,))
        reply = await core.handle(request)
        assert reply.text and "went wrong" not in reply.text
        # The reply fits one Telegram message and quotes back nothing that spoofs text.
        assert len(reply.text) < 1500, line[:40]
        assert "\x00" not in reply.text and "\x1b" not in reply.text and "\u202e" not in reply.text
        assert is_clean(reply.text, block=True) or "\n" in reply.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Europe", "Europe is a region, not a timezone"),
        ("america", "America is a region, not a timezone"),
        ("Etc", "Etc is a region"),
        ("y" * 300, "I don't know the timezone 'yyyy"),
        ("Mars/Base", "I don't know the timezone 'Mars/Base'"),
        ("Europe/Berlin\x00", "I don't know the timezone 'Europe/Berlin'"),
    ],
)
async def test_bad_timezone_says_what_is_wrong(
    core: CommandCore, value: str, expected: str
) -> None:
    reply = await core.handle(CommandRequest(CHAT, "settings", ("timezone", value)))
    assert expected in reply.text
    assert "/settings timezone " in reply.text  # says what to send instead


async def test_too_many_keywords_states_the_cap_and_changes_nothing(
    core: CommandCore, store: SqlStore
) -> None:
    words = " ".join(f"kw{i}" for i in range(400))
    request = parse_command_line(f"/subscribe {words}", CHAT)
    assert request is not None and len(request.args) == 400  # not cut silently
    reply = await core.handle(request)
    assert f"at most {MAX_FILTERS} topics and keywords; you sent 400" in reply.text
    assert await store.get_subscription(CHAT) is None
    # A quoted phrase is one keyword.
    phrases = " ".join(f'"supply chain{i}"' for i in range(MAX_FILTERS))
    ok = await core.handle(parse_command_line(f"/subscribe {phrases}", CHAT))  # type: ignore[arg-type]
    assert "Subscribed" in ok.text


async def test_too_many_words_for_settings(core: CommandCore) -> None:
    reply = await core.handle(CommandRequest(CHAT, "settings", tuple(["daily"] * 100)))
    assert "at most 40 words; you sent 100" in reply.text


async def test_a_long_word_is_quoted_back_cut(core: CommandCore) -> None:
    reply = await core.handle(CommandRequest(CHAT, "settings", (LONG,)))
    assert "I don't know the setting 'xxx" in reply.text and "…'" in reply.text
    assert len(reply.text) < 600


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("http://[::1", "not a usable URL"),
        ("http://example.com:port/rss", "not a usable URL"),
        ("https://", "no host name"),
        ("http:///rss", "no host name"),
        ("https://example.com/" + "a" * 3000, "at most 2048"),
        ("https://exa\x00mple.com/rss", "control characters"),
        ("https://example.com/\u202erss", "control characters"),
        ("https://example.com/a feed", "spaces"),
        ("ftp://example.com/rss", "unsupported URL scheme 'ftp'"),
        ("javascript://alert(1)", "unsupported URL scheme"),
    ],
)
def test_feed_urls_that_cannot_work_say_why(url: str, problem: str) -> None:
    with pytest.raises(FeedsFileError, match=re.escape(problem)):
        resolve_feed_url(url, Path("/base"))


@pytest.mark.parametrize("url", ["https://例え.jp/rss", "https://example.com/rss?q=🙂", "f.xml"])
def test_unusual_but_workable_feed_urls_pass(url: str) -> None:
    assert resolve_feed_url(url, Path("/base"))
