"""Digest cards for the Telegram tests."""

from __future__ import annotations

from datetime import UTC, datetime

from digests.models import Card


def make_card(n: int = 1, *, topics: tuple[str, ...] = ("economy",), title: str = "") -> Card:
    return Card(
        title=title or f"Piece number {n}: tariffs & <trade> talks",
        url=f"https://news.example.org/opinion/{n}",
        source="Example Opinion",
        published=datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
        summary=(f"Summary sentence one of piece {n}.", "A second sentence with 5 < 7 & more."),
        key_facts=("Exports rose 4% in October.",),
        editors_note="The author is a columnist; views are their own.",
        topics=topics,
        reading_minutes=4,
        entry_id=f"entry-{n}",
        feed_url="https://news.example.org/feed.xml",
    )
