"""The command core as conversations: each line typed, what the reply must say, the state after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.commands import CommandCore, parse_command_line
from bot.filters import MAX_FILTERS, TaxonomyCatalog, parse_filters
from bot.ports import ChatRef, CommandRequest
from bot.store import SqlStore, Subscription
from digests.models import Card

CHAT = ChatRef("telegram", "42")

Step = tuple[str, list[str]]

CONVERSATIONS: dict[str, tuple[list[Step], dict[str, object] | None]] = {
    "start then subscribe to everything": (
        [
            ("/start", ["Hello", "/subscribe"]),
            ("/subscribe", ["Subscribed to everything", "Pick a topic"]),
            ("/start", ["already subscribed"]),
        ],
        {"filters": (), "active": True, "mode": "instant"},
    ),
    "narrow everything to topics and a keyword": (
        [
            ("/subscribe", ["everything"]),
            (
                "/subscribe Economy #trade semiconductors",
                [
                    "Narrowed",
                    "topics: economy, trade",
                    "keywords: semiconductors",
                    "matched as keywords",
                ],
            ),
            ("/subscribe trade,climate", ["topics: economy, trade, climate"]),
        ],
        {"filters": ("economy", "trade", "semiconductors", "climate"), "active": True},
    ),
    "unsubscribe one then the last": (
        [
            ("/subscribe economy trade", ["Subscribed"]),
            (
                "/unsubscribe trade sport",
                ["Removed: trade", "not following: sport", "topics: economy"],
            ),
            ("/unsubscribe economy", ["That was all you followed", "unsubscribed"]),
            ("/list", ["not subscribed"]),
        ],
        {"active": False},
    ),
    "unsubscribe all and come back": (
        [
            ("/subscribe climate", ["Subscribed"]),
            ("/unsubscribe all", ["Unsubscribed", "/subscribe to come back"]),
            ("/unsubscribe", ["not subscribed"]),
            ("/subscribe", ["Subscribed to everything"]),
        ],
        {"active": True, "filters": ()},
    ),
    "stop is unsubscribe": (
        [("/subscribe", ["everything"]), ("/stop", ["Unsubscribed"])],
        {"active": False, "deactivated_reason": "unsubscribed by the user"},
    ),
    "unsubscribe a topic while getting everything": (
        [
            ("/subscribe", ["everything"]),
            ("/unsubscribe trade", ["You get everything", "/unsubscribe all"]),
        ],
        {"active": True, "filters": ()},
    ),
    "unsubscribe before subscribing": (
        [("/unsubscribe trade", ["not subscribed", "/subscribe"])],
        None,
    ),
    "malformed filters": (
        [
            ("/subscribe <script>", ["could not use", "Only letters"]),
            ("/subscribe " + "x" * 60, ["Too long"]),
            ("/subscribe a", ["Too short"]),
            ("/subscribe trade <b>", ["Subscribed", "Skipped some words", "<b>"]),
        ],
        {"filters": ("trade",)},
    ),
    "list and topics": (
        [
            ("/list", ["not subscribed"]),
            ("/subscribe trade", ["Subscribed"]),
            ("/list", ["You follow topics: trade", "as soon as they are published", "UTC"]),
            ("/topics", ["Topics: economy", "You follow: trade"]),
        ],
        {"filters": ("trade",)},
    ),
    "settings": (
        [
            ("/settings", ["as soon as they are published", "/settings daily"]),
            ("/settings hourly", ["once an hour", "not subscribed yet"]),
            ("/subscribe", ["once an hour"]),
            ("/settings daily 7:30 europe/berlin", ["07:30 (Europe/Berlin)"]),
            ("/settings", ["Next digest: 2026-03-03 07:30"]),
            ("/settings timezone Asia/Tokyo", ["07:30 (Asia/Tokyo)"]),
            ("/settings daily", ["07:30"]),
            ("/settings daily 25:00", ["not a time of day", "HH:MM"]),
            ("/settings daily 7:00 Mars/Base", ["don't know the timezone", "Europe/Berlin"]),
            ("/settings timezone", ["Which timezone"]),
            ("/settings weekly", ["don't know the setting", "/settings hourly"]),
            ("/settings instant now", ["Too many words"]),
            ("/settings instant", ["as soon as they are published"]),
        ],
        {"mode": "instant", "daily_time": "07:30", "timezone": "Asia/Tokyo"},
    ),
    "help and unknown": (
        [
            ("/help", ["/subscribe", "/unsubscribe", "/digest", "/settings"]),
            ("/frobnicate", ["don't know /frobnicate", "/help"]),
        ],
        None,
    ),
}


@pytest.mark.parametrize("name", list(CONVERSATIONS))
async def test_conversation(core: CommandCore, store: SqlStore, name: str) -> None:
    steps, expected = CONVERSATIONS[name]
    for line, fragments in steps:
        request = parse_command_line(line, CHAT)
        assert request is not None
        reply = await core.handle(request)
        for fragment in fragments:
            assert fragment in reply.text, f"{line!r} -> {reply.text!r} lacks {fragment!r}"
    sub = await store.get_subscription(CHAT)
    if expected is None:
        assert sub is None or not sub.active
        return
    assert sub is not None
    for field_name, value in expected.items():
        assert getattr(sub, field_name) == value, field_name


async def test_subscribe_without_words_offers_topic_choices(core: CommandCore) -> None:
    reply = await core.handle(CommandRequest(CHAT, "subscribe"))
    commands = [c.command for c in reply.choices]
    assert "subscribe economy" in commands and "subscribe trade" in commands
    # A choice is itself a command line the core understands.
    follow = parse_command_line(commands[0], CHAT)
    assert follow is not None and follow.name == "subscribe"
    assert "Subscribed" in (await core.handle(follow)).text


async def test_filter_count_is_capped(core: CommandCore) -> None:
    words = tuple(f"word{i}" for i in range(MAX_FILTERS))
    assert "Subscribed" in (await core.handle(CommandRequest(CHAT, "subscribe", words))).text
    reply = await core.handle(CommandRequest(CHAT, "subscribe", ("oneMore",)))
    assert f"up to {MAX_FILTERS}" in reply.text and "/unsubscribe" in reply.text


def _card(title: str, topics: tuple[str, ...], hours_ago: int) -> Card:
    return Card(
        title=title,
        url=f"https://example.org/{title}",
        source="Example",
        published=datetime(2026, 3, 2, 9, tzinfo=UTC) - timedelta(hours=hours_ago),
        summary=(f"{title} summary.",),
        key_facts=(),
        editors_note=None,
        topics=topics,
        reading_minutes=1,
    )


async def test_digest_shows_latest_matching_cards(core: CommandCore, store: SqlStore) -> None:
    empty = await core.handle(CommandRequest(CHAT, "digest"))
    assert "No cards yet" in empty.text and not empty.cards
    feed, _ = await store.add_feed("https://example.org/feed")
    cards = [_card(f"trade {i}", ("trade",), i) for i in range(7)]
    cards.append(_card("climate news", ("climate",), 0))
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    await store.record_entries(feed.id, [(c.title, c) for c in cards], now)

    everything = await core.handle(CommandRequest(CHAT, "now"))
    assert len(everything.cards) == 5
    assert {everything.cards[0].title, everything.cards[1].title} == {"trade 0", "climate news"}

    await core.handle(CommandRequest(CHAT, "subscribe", ("climate",)))
    mine = await core.handle(CommandRequest(CHAT, "digest"))
    assert [c.title for c in mine.cards] == ["climate news"]
    assert "climate" in mine.text

    adhoc = await core.handle(CommandRequest(CHAT, "digest", ("trade",)))
    assert [c.title for c in adhoc.cards] == [f"trade {i}" for i in range(5)]
    none = await core.handle(CommandRequest(CHAT, "digest", ("volcanoes",)))
    assert "No recent cards match" in none.text and not none.cards
    bad = await core.handle(CommandRequest(CHAT, "digest", ("<x>",)))
    assert "could not use" in bad.text


async def test_changing_delivery_mode_reschedules_pending_items(
    core: CommandCore, store: SqlStore
) -> None:
    sub = await store.save_subscription(Subscription(chat=CHAT, mode="daily", daily_time="08:00"))
    feed, _ = await store.add_feed("https://example.org/feed")
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    (stored,) = await store.record_entries(feed.id, [("e", _card("x", ("trade",), 0))], now)
    assert sub.id is not None
    await store.enqueue([(sub.id, stored.id, now + timedelta(hours=23))], now)
    assert await store.claim_due(now, lease_seconds=5, limit=5, platforms=["telegram"]) == []
    await core.handle(CommandRequest(CHAT, "settings", ("instant",)))
    assert len(await store.claim_due(now, lease_seconds=5, limit=5, platforms=["telegram"])) == 1


async def test_group_title_is_remembered(core: CommandCore, store: SqlStore) -> None:
    await core.handle(CommandRequest(CHAT, "subscribe", (), is_group=True, chat_title="Team"))
    sub = await store.get_subscription(CHAT)
    assert sub is not None and sub.title == "Team"


@pytest.mark.parametrize(
    ("line", "name", "args"),
    [
        ("/subscribe economy trade", "subscribe", ("economy", "trade")),
        ("subscribe economy", "subscribe", ("economy",)),
        ("/Sub@DigestBot economy", "subscribe", ("economy",)),
        ("  /now  ", "digest", ()),
        ("/settings daily 07:30 Europe/Berlin", "settings", ("daily", "07:30", "Europe/Berlin")),
        ("/unknownthing x", "unknownthing", ("x",)),
    ],
)
def test_parse_command_line(line: str, name: str, args: tuple[str, ...]) -> None:
    request = parse_command_line(line, CHAT)
    assert request == CommandRequest(CHAT, name, args)


@pytest.mark.parametrize("line", ["", "   ", "hello, bot!", "/", "/ subscribe", "123"])
def test_parse_command_line_rejects_non_commands(line: str) -> None:
    assert parse_command_line(line, CHAT) is None


@pytest.mark.parametrize(
    ("args", "topics", "keywords", "problems"),
    [
        (("Economy", "TRADE"), ("economy", "trade"), (), False),
        (("economy,trade", "economy"), ("economy", "trade"), (), False),
        (("#Climate_Change",), (), ("climate change",), False),
        (("e-commerce", "5g", "at&t"), (), ("e-commerce", "5g", "at&t"), False),
        (("能源",), (), ("能源",), False),
        (("<b>",), (), (), True),
        (("x",), (), (), True),
        (("y" * 41,), (), (), True),
    ],
)
def test_parse_filters(
    catalog: TaxonomyCatalog,
    args: tuple[str, ...],
    topics: tuple[str, ...],
    keywords: tuple[str, ...],
    problems: bool,
) -> None:
    parse = parse_filters(args, catalog)
    assert (parse.topics, parse.keywords, parse.problems) == (topics, keywords, problems)
