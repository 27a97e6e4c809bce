"""What hiding other chats' feeds costs ``/digest``: ``latest_cards(20)`` over 10,000 stored
cards with the chat-feed filter (``viewer=``), against the same index walk without it, the
two interleaved in one process (medians of 200 each), with no chat feeds and with 100 of
another chat.

    python bench/chat_feeds.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.models import ChatRef, Subscription
from bot.store import SqlStore, cards_t, entry_key
from digests.models import Card

CARDS, REPEAT = 10_000, 200


async def run(chat_feeds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp}/d.sqlite3")
        await store.upgrade()
        now = datetime.now(UTC)
        feed, _ = await store.add_feed("https://news.example/feed.xml")
        card = Card(
            title="t", url="https://x.example/1", source=None, published=now, summary=("s",),
            key_facts=(), editors_note=None, topics=("trade",), reading_minutes=1,
        ).to_dict()  # fmt: skip
        async with store.engine.begin() as conn:
            await conn.execute(
                sa.insert(cards_t),
                [{"feed_id": feed.id, "entry_key": entry_key(str(n)), "data": card,
                  "published_at": now, "created_at": now} for n in range(CARDS)],
            )  # fmt: skip
        mine = await store.save_subscription(Subscription(chat=ChatRef("telegram", "1")))
        other = await store.save_subscription(Subscription(chat=ChatRef("telegram", "2")))
        assert other.id is not None
        for n in range(chat_feeds):
            url = f"https://c{n}.example/feed"
            await store.add_chat_feed(other.id, url, name=None, limit=10**6, now=now)

        async def bare(limit: int) -> None:
            query = (
                sa.select(cards_t.c.id, cards_t.c.feed_id, cards_t.c.data, cards_t.c.created_at)
                .where(cards_t.c.feed_id.is_not(None), cards_t.c.published_at.is_not(None))
                .order_by(cards_t.c.published_at.desc(), cards_t.c.id.desc())
                .limit(limit)
            )
            async with store.engine.connect() as conn:
                rows = (await conn.execute(query)).all()
            [Card.from_dict(row[2]) for row in rows]

        async def filtered(limit: int) -> None:
            await store.latest_cards(limit, viewer=mine.id)

        ours: list[float] = []
        base: list[float] = []
        for _ in range(REPEAT):
            for call, times in ((filtered, ours), (bare, base)):
                started = time.perf_counter()
                await call(20)
                times.append((time.perf_counter() - started) * 1000)
        o, b = statistics.median(ours), statistics.median(base)
        print(
            f"latest_cards(20) over {CARDS:,} cards, {chat_feeds} chat feeds of another chat: "
            f"{o:.2f} ms median; the same walk without the filter: {b:.2f} ms ({o / b:.2f}x)"
        )
        await store.close()


if __name__ == "__main__":
    for count in (0, 100):
        asyncio.run(run(count))
