"""Feeds a chat adds itself: the pure decisions (why a fetch failed, which feed a
``/removefeed`` word names, what an OPML import may add) as tables, and the command core's
feed commands over a real store with a scripted :class:`FeedProbe` (the real probe and the
real fetcher are driven end to end in ``tests/telegram/test_telegram_user_feeds.py``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot import messages as msg
from bot.command_feeds import UserFeeds
from bot.commands import CommandCore
from bot.filters import TaxonomyCatalog
from bot.models import ChatRef, FeedRecord
from bot.ports import Attachment, CommandRequest, FeedFound, FeedProblem
from bot.store import SqlStore
from bot.user_feeds import classify_failure, pick_feed, plan_import
from tests.bot.fakes import FakeClock

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("HTTP 404 Not Found", FeedProblem("http", "404 Not Found")),
        ("HTTP 503", FeedProblem("http", "503")),
        (
            "refused: intranet.example is a private address (10.0.0.5: private); set "
            "DIGESTBOT_ALLOW_PRIVATE_ADDRESSES=1 to allow pages on private networks",
            FeedProblem("private", "10.0.0.5"),
        ),
        ("body larger than the 10485760 byte limit", FeedProblem("too_large", "10.4858")),
        ("decompressed body larger than the 5000000 byte limit", FeedProblem("too_large", "5")),
        ("took longer than the 20s overall deadline", FeedProblem("timeout", "20")),
        ("no data for 20s (read timeout)", FeedProblem("timeout", "20")),
        ("no connection within 10s", FeedProblem("timeout", "10")),
        ("invalid URL: bad port", FeedProblem("invalid")),
        ("redirected to an unsupported URL scheme 'file'", FeedProblem("invalid")),
        ("connection refused", FeedProblem("unreachable", "connection refused")),
        ("more than 5 redirects", FeedProblem("unreachable", "more than 5 redirects")),
    ],
)
def test_classify_failure(reason: str, expected: FeedProblem) -> None:
    assert classify_failure(reason) == expected


def test_a_parse_failure_is_not_a_feed() -> None:
    assert classify_failure("no entries: syntax error", feed_error=True) == FeedProblem("not_feed")


def _feed(feed_id: int, url: str) -> FeedRecord:
    return FeedRecord(feed_id, url, None, (), None, None, None, 0, None, None, None, NOW, True)


FEEDS = [_feed(7, "https://a.example/feed"), _feed(9, "https://b.example/rss.xml")]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("1", 7),
        ("2", 9),
        ("0", None),
        ("3", None),
        ("https://b.example/rss.xml", 9),
        ("HTTPS://B.EXAMPLE:443/rss.xml#top", 9),  # any spelling the store would normalise
        ("https://c.example/feed", None),
        ("feed", None),
    ],
)
def test_pick_feed(word: str, expected: int | None) -> None:
    found = pick_feed(word, FEEDS)
    assert (found.id if found else None) == expected


def test_plan_import() -> None:
    plan = plan_import(
        [
            "https://a.example/feed",  # the chat has it
            "https://new.example/1",
            "HTTPS://NEW.EXAMPLE/1",  # the same again
            "file:///etc/passwd",
            "https://new.example/2",
            "https://new.example/3",  # over the room of 2
        ],
        {"https://a.example/feed"},
        room=2,
    )
    assert plan.to_check == ("https://new.example/1", "https://new.example/2")
    assert (plan.already, plan.over_limit, plan.invalid) == (1, 1, ("file:///etc/passwd",))


class ScriptedProbe:
    """A :class:`bot.ports.FeedProbe` answering from a table, counting what it was asked."""

    def __init__(self, answers: dict[str, FeedFound | FeedProblem]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def probe(self, url: str) -> FeedFound | FeedProblem:
        self.asked.append(url)
        return self.answers.get(url, FeedProblem("unreachable", "no such host"))


def _core(
    store: SqlStore, catalog: TaxonomyCatalog, probe: ScriptedProbe, **kw: object
) -> CommandCore:
    feeds = UserFeeds(enabled=True, max_per_chat=int(kw.pop("limit", 50)), probe=probe)  # type: ignore[call-overload]
    return CommandCore(store, catalog, clock=FakeClock(), user_feeds=feeds, **kw)  # type: ignore[arg-type]


def _found(n: int) -> FeedFound:
    return FeedFound(f"https://n{n}.example/feed", f"Feed {n}", n)


async def test_limit_is_checked_before_fetching(store: SqlStore, catalog: TaxonomyCatalog) -> None:
    probe = ScriptedProbe({f.url: f for f in map(_found, range(3))})
    core = _core(store, catalog, probe, limit=2)
    chat = ChatRef("telegram", "5")
    for n in range(2):
        reply = await core.handle(CommandRequest(chat, "addfeed", (f"https://n{n}.example/feed",)))
        assert reply.text.startswith(f"Added 'Feed {n}'")
    reply = await core.handle(CommandRequest(chat, "addfeed", ("https://n2.example/feed",)))
    assert reply.text == msg.feeds.feed_limit(msg.TELEGRAM, 2)
    assert len(probe.asked) == 2


async def test_operator_admin_chats_keep_their_feeds_report(
    store: SqlStore, catalog: TaxonomyCatalog
) -> None:
    class Desk:
        def is_admin_chat(self, chat: ChatRef) -> bool:
            return True

        async def status_text(self) -> str:
            return "status report"

        async def feeds_text(self) -> str:
            return "feeds report"

    core = _core(store, catalog, ScriptedProbe({}), admin=Desk())
    chat = ChatRef("telegram", "-100")
    assert (await core.handle(CommandRequest(chat, "feeds"))).text == "feeds report"
    mine = await core.handle(CommandRequest(chat, "feeds", ("mine",)))
    assert mine.text.startswith("This chat has added no feeds")


async def test_slack_export_is_text(store: SqlStore, catalog: TaxonomyCatalog) -> None:
    probe = ScriptedProbe({"https://n1.example/feed": _found(1)})
    core = _core(store, catalog, probe)
    chat = ChatRef("slack", "C1")
    await core.handle(CommandRequest(chat, "addfeed", ("https://n1.example/feed",)))
    exported = await core.handle(CommandRequest(chat, "export"))
    assert exported.document is None and 'xmlUrl="https://n1.example/feed"' in exported.text
    imported = await core.handle(CommandRequest(chat, "import"))
    assert "works on Telegram only" in imported.text and "/digest addfeed" in imported.text


async def test_import_within_its_deadline_lists_what_was_not_checked(
    store: SqlStore, catalog: TaxonomyCatalog
) -> None:
    """One address never answers: the import still replies at its deadline, with that address
    "not checked", the others added; a progress line comes first."""

    class HangingProbe(ScriptedProbe):
        async def probe(self, url: str) -> FeedFound | FeedProblem:
            if "slow" in url:
                await asyncio.Event().wait()  # never answers: cancelled at the deadline
            return await super().probe(url)

    probe = HangingProbe({f.url: f for f in map(_found, range(2))})
    feeds = UserFeeds(enabled=True, probe=probe, import_seconds=0.2)
    core = CommandCore(store, catalog, clock=FakeClock(), user_feeds=feeds)
    urls = ["https://n0.example/feed", "https://slow.example/feed", "https://n1.example/feed"]
    opml = "".join(f'<outline type="rss" xmlUrl="{u}"/>' for u in urls)
    data = f'<opml version="2.0"><body>{opml}</body></opml>'.encode()

    async def read(limit: int) -> bytes:
        return data[:limit]

    said: list[str] = []

    async def progress(text: str) -> None:
        said.append(text)

    request = CommandRequest(
        ChatRef("telegram", "5"), "import", files=True,
        attachment=Attachment("a.opml", len(data), read), progress=progress,
    )  # fmt: skip
    reply = await core.handle(request)
    assert said == ["Checking 3 feeds, at most 0.2 seconds..."]
    assert reply.text == (
        "Imported 2 feeds.\n+ Feed 0\n+ Feed 1\n"
        "Not checked within 0.2 seconds; send the file again to try them (what was added "
        "stays):\n- https://slow.example/feed"
    )


async def test_import_of_a_page_leading_to_a_feed_the_chat_has_counts_it(
    store: SqlStore, catalog: TaxonomyCatalog
) -> None:
    page = "https://n0.example/post.html"
    probe = ScriptedProbe(
        {
            "https://n0.example/feed": _found(0),
            page: FeedFound("https://n0.example/feed", "Feed 0", 0, page, True),
        }
    )
    core = _core(store, catalog, probe)
    chat = ChatRef("telegram", "5")
    await core.handle(CommandRequest(chat, "addfeed", ("https://n0.example/feed",)))
    data = f'<opml version="2.0"><body><outline xmlUrl="{page}"/></body></opml>'.encode()

    async def read(limit: int) -> bytes:
        return data[:limit]

    attachment = Attachment("a.opml", len(data), read)
    reply = await core.handle(CommandRequest(chat, "import", files=True, attachment=attachment))
    assert reply.text == "Imported 0 feeds.\nAlready here: 1."
