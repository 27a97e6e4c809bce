"""Property-based tests (Hypothesis) for the parts that take untrusted text: the renderers, the
entry-identity rule, the command parser and the feed URL normalization. Example counts stay
modest so that the suite stays fast."""

from __future__ import annotations

import json
import re
import string
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands import parse_command_line
from bot.errors import FeedUrlError
from bot.feed_urls import normalize_feed_url
from bot.filters import MAX_FILTER_LENGTH, TaxonomyCatalog, parse_filters
from bot.ports import ChatRef
from bot.schedule import parse_daily_time, parse_timezone
from digests.config import CONFIG_DIR
from digests.feeds import entry_identity, parse_feed
from digests.models import Card
from digests.render import slack, telegram
from digests.textclean import clean_block, clean_line
from digests.topics import Taxonomy
from tests.slack.fake_slack_api import block_kit_problem
from tests.telegram.fake_bot_api import check_telegram_html

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# What no chat message may carry (digests.textclean removes it).
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b\ud800-\udfff]"
)

# Text as feeds send it: any code point (surrogates and controls included), markup characters
# and entities over-represented, sometimes very long.
_HOSTILE_CHARS = st.sampled_from(
    ["<", ">", "&", '"', "'", "&amp;", "<b>", "</a>", "\x00", "\x1b", "\u202e", "\u200b", "🙂"]
)
text = st.lists(st.one_of(st.characters(), _HOSTILE_CHARS), max_size=60).map("".join)
long_text = st.one_of(text, st.integers(3000, 9000).map(lambda n: "word " * (n // 5)))
urls = st.one_of(
    st.just("https://example.org/a"),
    st.builds(lambda p: "https://example.org/" + p, text),
    text,
    st.integers(100, 5000).map(lambda n: "https://example.org/" + "x" * n),
)

cards = st.builds(
    Card,
    title=long_text,
    url=urls,
    source=st.none() | text,
    published=st.none() | st.just(datetime(2026, 11, 27, 8, tzinfo=UTC)),
    summary=st.lists(long_text, max_size=4).map(tuple),
    key_facts=st.lists(text, max_size=8).map(tuple),
    editors_note=st.none() | long_text,
    topics=st.lists(text, max_size=12).map(tuple),
    reading_minutes=st.integers(0, 120),
    author=st.none() | text,
)


@FAST
@given(st.lists(cards, min_size=1, max_size=4))
def test_any_card_renders_to_telegram_html_the_bot_api_accepts(batch: list[Card]) -> None:
    messages = telegram.render_digest(batch)
    assert sorted(i for m in messages for i in m.card_indexes) == list(range(len(batch)))
    for message in messages:
        for body in (message.text, message.plain):
            assert telegram.utf16_len(body) <= telegram.MESSAGE_LIMIT
            assert not _FORBIDDEN.search(body), body
        check_telegram_html(message.text)  # raises what Telegram would say
    for card in batch:
        assert telegram.utf16_len(telegram.render_card(card)) <= telegram.MESSAGE_LIMIT
        check_telegram_html(telegram.render_card(card))


@FAST
@given(st.lists(cards, min_size=1, max_size=6))
def test_any_card_renders_to_slack_blocks_within_limits(batch: list[Card]) -> None:
    messages = slack.render_digest(batch)
    assert sorted(i for m in messages for i in m.card_indexes) == list(range(len(batch)))
    for message in messages:
        payload = message.to_dict()
        assert block_kit_problem({"text": payload["text"], "blocks": payload["blocks"]}) is None
        json.dumps(payload)  # serialisable as sent


@FAST
@given(text, st.none() | text, st.none() | text, st.none() | text)
def test_entry_identity_is_stable_and_never_empty(
    guid: str, link: str | None, title: str | None, content: str | None
) -> None:
    first = entry_identity(guid, link, title, content)
    assert first and first == entry_identity(guid, link, title, content)
    if not guid.strip() and not (link or "").strip():
        assert first.startswith("sha256:")


_SAFE = st.text(alphabet=string.ascii_letters + string.digits + " .,-", min_size=1, max_size=30)


@FAST
@given(st.lists(st.tuples(_SAFE, _SAFE), min_size=1, max_size=6), st.integers(1, 3))
def test_a_feed_repeating_items_yields_each_identity_once(
    items: list[tuple[str, str]], repeat: int
) -> None:
    xml = "".join(
        f"<item><title>{title}</title><guid>g-{guid.strip() or 'x'}</guid></item>"
        for title, guid in items
    )
    doc = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{xml * repeat}'
    feed = parse_feed((doc + "</channel></rss>").encode(), "https://example.org/feed")
    ids = [e.entry_id for e in feed.entries]
    assert len(ids) == len(set(ids)) == len({f"g-{g.strip() or 'x'}" for _, g in items})


CHAT = ChatRef("telegram", "1")


@FAST
@given(text)
def test_the_command_parser_never_raises(line: str) -> None:
    request = parse_command_line(line, CHAT)
    if request is not None:
        assert request.name and request.name.isascii() and len(request.name) <= 32
        assert " ".join(request.args) == " ".join(line.split()[1:])


@pytest.fixture(scope="module")
def catalog() -> TaxonomyCatalog:
    return TaxonomyCatalog(Taxonomy.load(CONFIG_DIR / "topics.toml"))


@FAST
@given(st.lists(text, max_size=8))
def test_filter_parsing_keeps_only_safe_words(catalog: TaxonomyCatalog, args: list[str]) -> None:
    parse = parse_filters(args, catalog)
    for word in parse.filters:
        assert 2 <= len(word) <= MAX_FILTER_LENGTH
        assert not set(word) & set("<>\x00\x1b\u202e\u200b")  # "&" is in "at&t"


@FAST
@given(text)
def test_time_and_zone_parsers_never_raise(value: str) -> None:
    parse_timezone(value)
    hhmm = parse_daily_time(value)
    assert hhmm is None or (len(hhmm) == 5 and hhmm[2] == ":")


@FAST
@given(text)
def test_text_cleaning_is_idempotent(value: str) -> None:
    line, block = clean_line(value), clean_block(value)
    assert clean_line(line) == line and clean_block(block) == block
    assert "\n" not in line


_URLISH = st.one_of(
    text,
    st.builds(
        lambda scheme, host, port, path: f"{scheme}://{host}{port}/{path}",
        st.sampled_from(["http", "HTTPS", "https", "ftp", "file", ""]),
        st.one_of(
            st.from_regex(r"[A-Za-z0-9-]{1,12}(\.[A-Za-z]{2,5}){1,2}", fullmatch=True),
            st.just("[::1]"),
            text,
        ),
        st.sampled_from(["", ":80", ":443", ":8080", ":99999", ":x"]),
        text,
    ),
)


@FAST
@given(_URLISH)
def test_feed_url_normalization(url: str) -> None:
    try:
        normalized = normalize_feed_url(url)
    except FeedUrlError:
        return
    assert normalized.startswith(("http://", "https://"))
    assert normalize_feed_url(normalized) == normalized  # one spelling per feed
    httpx.URL(normalized)  # a URL the fetcher can request
