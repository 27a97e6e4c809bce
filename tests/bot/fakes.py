"""Test doubles at the chat-platform boundary: an in-memory ChatSender and ChatAdapter, a
settable clock, and a feed/page server on httpx.MockTransport."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx

from bot.ports import OutgoingMessage, SendResult, Sent
from digests.models import Card


class FakeClock:
    """A wall clock the test moves by hand; aware UTC."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Delivered:
    chat_id: str
    message: OutgoingMessage
    cards: tuple[Card, ...]


class FakeSender:
    """An in-memory :class:`bot.ports.ChatSender`.

    ``render`` puts ``cards_per_message`` cards in each message. ``script(chat_id, *results)``
    makes the next sends to that chat return those results (an exception instance is raised);
    after the script runs out every send succeeds. ``delivered`` records successful sends.
    """

    def __init__(
        self, platform: str = "fake", cards_per_message: int = 10, interval: float = 0.0
    ) -> None:
        self.platform = platform
        self.cards_per_message = cards_per_message
        self.interval = interval
        self.delivered: list[Delivered] = []
        self.delivered_event = asyncio.Event()  # set at every successful send
        self.attempts: list[tuple[str, OutgoingMessage]] = []
        self.render_calls: list[int] = []
        self._scripts: dict[str, deque[SendResult | BaseException]] = defaultdict(deque)
        self._cards: dict[int, tuple[Card, ...]] = {}

    def script(self, chat_id: str, *results: SendResult | BaseException) -> None:
        self._scripts[chat_id].extend(results)

    def render(self, cards: Sequence[Card]) -> list[OutgoingMessage]:
        self.render_calls.append(len(cards))
        messages = []
        for start in range(0, len(cards), self.cards_per_message):
            indexes = tuple(range(start, min(len(cards), start + self.cards_per_message)))
            text = "\n".join(cards[i].title for i in indexes)
            message = OutgoingMessage({"text": text}, text, indexes)
            self._cards[id(message)] = tuple(cards[i] for i in indexes)
            messages.append(message)
        return messages

    async def send(self, chat_id: str, message: OutgoingMessage) -> SendResult:
        self.attempts.append((chat_id, message))
        script = self._scripts.get(chat_id)
        migrated_to = None
        if script:
            result = script.popleft()
            if isinstance(result, BaseException):
                raise result
            if not isinstance(result, Sent):
                return result
            # A scripted Sent(migrated_to=...) acts like Telegram's sender: the group became a
            # supergroup and the message went to the new id.
            migrated_to = result.migrated_to
        target = migrated_to or chat_id
        self.delivered.append(Delivered(target, message, self._cards[id(message)]))
        self.delivered_event.set()
        return Sent(str(len(self.delivered)), migrated_to=migrated_to)

    def min_interval(self, chat_id: str) -> float:
        return self.interval

    def titles_for(self, chat_id: str) -> list[str]:
        return [c.title for d in self.delivered if d.chat_id == chat_id for c in d.cards]


class FakeAdapter:
    """A :class:`bot.ports.ChatAdapter` that only records its lifecycle."""

    def __init__(self, sender: FakeSender) -> None:
        self.platform = sender.platform
        self.sender = sender
        self.started = 0
        self.stopped = 0

    async def start(self) -> None:
        self.started += 1

    async def stop(self) -> None:
        self.stopped += 1


# --- feeds and pages ---------------------------------------------------------------------


@dataclass
class Item:
    guid: str
    title: str
    body: str  # the page's paragraphs, blank-line separated
    published: datetime = field(default_factory=lambda: datetime(2026, 3, 1, 8, tzinfo=UTC))
    category: str | None = None


def rss(items: Sequence[Item], *, base: str, ttl: int | None = None, title: str = "Feed") -> str:
    ttl_xml = f"<ttl>{ttl}</ttl>" if ttl else ""
    parts = []
    for item in items:
        category = f"<category>{item.category}</category>" if item.category else ""
        parts.append(
            f"<item><title>{item.title}</title><link>{base}/pages/{item.guid}.html</link>"
            f'<guid isPermaLink="false">{item.guid}</guid>'
            f"<pubDate>{format_datetime(item.published)}</pubDate>{category}"
            f"<description>{item.body.split(chr(10))[0]}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>{base}/</link><description>test</description>{ttl_xml}"
        + "".join(parts)
        + "</channel></rss>"
    )


def page(item: Item) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in item.body.split("\n\n") if p.strip())
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{item.title}</title>"
        f"<meta property='og:site_name' content='Test Times'></head><body><article>"
        f"<h1>{item.title}</h1>{paragraphs}</article></body></html>"
    )


def streamed(status: int, text: str = "", headers: dict[str, str] | None = None) -> httpx.Response:
    """A response whose body arrives as a stream, as from a real server (the fetcher reads
    raw chunks; ``text=`` would hand it an already-consumed body)."""

    async def chunks() -> AsyncIterator[bytes]:
        yield text.encode("utf-8")

    return httpx.Response(status, content=chunks(), headers=headers)


class FeedSite:
    """Feeds and their pages behind ``httpx.MockTransport``: ``https://<host>/feed.xml``.

    ``broken`` hosts answer 500 to the feed; ``garbage`` hosts serve a non-feed document.
    """

    def __init__(self) -> None:
        self.feeds: dict[str, list[Item]] = {}
        self.ttl: dict[str, int] = {}
        self.broken: set[str] = set()
        self.garbage: set[str] = set()
        self.requests: list[str] = []
        self.transport = httpx.MockTransport(self._handle)

    def url(self, host: str) -> str:
        return f"https://{host}/feed.xml"

    def add(self, host: str, *items: Item) -> str:
        self.feeds.setdefault(host, []).extend(items)
        return self.url(host)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        host = request.url.host
        items = self.feeds.get(host)
        if request.url.path == "/feed.xml":
            if host in self.broken:
                return streamed(500, "boom")
            if host in self.garbage:
                return streamed(
                    200, "<html><body>not a feed</body></html>", {"content-type": "text/html"}
                )
            if items is None:
                return streamed(404)
            body = rss(items, base=f"https://{host}", ttl=self.ttl.get(host), title=host)
            return streamed(200, body, {"content-type": "application/rss+xml"})
        for item in items or ():
            if request.url.path == f"/pages/{item.guid}.html":
                return streamed(200, page(item), {"content-type": "text/html"})
        return streamed(404)


TRADE_BODY = (
    "Two-way trade between the neighbours rose again last year as exporters found new "
    "markets for machinery and food.\n\nTariff cuts agreed in the free trade agreement took "
    "effect in January, and customs officials say shipping volumes at the main port are at a "
    "record.\n\nCritics argue that the trade surplus hides weak domestic demand, and that "
    "export growth cannot carry the economy alone.\n\nThe ministers will meet again in the "
    "spring to review market access for services and investment."
)
CLIMATE_BODY = (
    "The heatwave that hit the region in July was the longest on record, and climate "
    "scientists say such events will become routine.\n\nEmissions from power plants fell for a "
    "third year as solar and wind capacity grew, but transport emissions keep rising.\n\nCities "
    "are planting trees and opening cooling centres, yet adaptation budgets remain small next "
    "to the damage that floods and drought already cause.\n\nA carbon price, the author "
    "argues, would do more than any single subsidy."
)
SPORT_BODY = (
    "The national team won the cup final on penalties after a goalless draw that few will "
    "remember for its football.\n\nThe coach praised the defence, which conceded only twice "
    "in the whole tournament.\n\nAttendance at league matches rose by a tenth this season, and "
    "clubs are spending more on youth academies.\n\nThe next test is the qualifying round in "
    "autumn, against a side that beat them twice last year."
)
