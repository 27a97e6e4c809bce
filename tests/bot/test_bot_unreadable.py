"""A new entry whose page cannot be read and whose feed gives no text still reaches its
subscribers, as headline and link: an unreachable page loses nothing."""

from __future__ import annotations

from pathlib import Path

import httpx

from bot.ports import ChatRef
from bot.store import Subscription
from tests.bot.conftest import open_app
from tests.bot.fakes import FakeClock, FakeSender, streamed


class Site:
    def __init__(self) -> None:
        self.items: list[tuple[str, str, str]] = []  # (guid, title, description)

    def feed(self) -> str:
        items = "".join(
            f"<item><title>{title}</title><link>https://site.example/{guid}.html</link>"
            f'<guid isPermaLink="false">{guid}</guid><category>Trade</category>'
            + (f"<description>{blurb}</description>" if blurb else "")
            + "</item>"
            for guid, title, blurb in self.items
        )
        return (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Site</title>'
            f"<link>https://site.example/</link><description>d</description>{items}"
            "</channel></rss>"
        )

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/feed.xml":
            return streamed(200, self.feed(), {"content-type": "application/rss+xml"})
        return streamed(503, "down for maintenance")


async def test_unreadable_piece_goes_out_as_headline_and_link(tmp_path: Path) -> None:
    site = Site()
    sender = FakeSender()
    clock = FakeClock()
    async with open_app(tmp_path, sender, clock, httpx.MockTransport(site.handle)) as app:
        await app.store.save_subscription(
            Subscription(chat=ChatRef("fake", "c"), filters=("trade",))
        )
        await app.store.add_feed("https://site.example/feed.xml")
        site.items.append(("old", "Old piece", ""))
        await app.run_once()  # first poll: recorded, not broadcast

        site.items.append(("bare", "Tariffs bite harder than expected", ""))
        site.items.append(("blurb", "Ports need a freight plan", "Small ports carry more trade."))
        clock.advance(minutes=11)
        report = await app.run_once()

    assert report.feeds[0].cards == 2 and report.delivery.sent == 2
    cards = {card.title: card for d in sender.delivered for card in d.cards}
    bare = cards["Tariffs bite harder than expected"]
    assert bare.url == "https://site.example/bare.html"
    assert bare.summary == () and bare.key_facts == () and bare.reading_minutes == 0
    assert "trade" in bare.topics  # from the feed's category, so filters still work
    # With a blurb in the feed, the feed's own text stands in for the page.
    assert cards["Ports need a freight plan"].summary == ("Small ports carry more trade.",)
