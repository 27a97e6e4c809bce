"""Plain-text cards for the console and ``preview --format text``."""

from __future__ import annotations

from datetime import UTC, datetime

from digests.models import Card
from digests.render.text import WIDTH, render_card

CARD = Card(
    title="Elevating the China-ROK Strategic Cooperative Partnership",
    url="https://news.cgtn.com/news/2025-11-01/elevating/index.html",
    source="CGTN",
    published=datetime(2025, 11, 1, tzinfo=UTC),
    summary=("Both pledged to strengthen ties <and> more & more.",),
    key_facts=("Two-way trade reached 328.08 billion U.S. dollars. " * 3,),
    editors_note="CGTN's First Voice provides instant commentary on breaking stories.",
    topics=("economy", "foreign policy"),
    reading_minutes=4,
    author="Jane Doe",
)


def test_golden() -> None:
    assert render_card(CARD) == (
        "Elevating the China-ROK Strategic Cooperative Partnership\n"
        "CGTN · Jane Doe · 1 Nov 2025 · 4 min read\n"
        "https://news.cgtn.com/news/2025-11-01/elevating/index.html\n\n"
        "Both pledged to strengthen ties <and> more & more.\n\n"
        "Key facts\n"
        "  • Two-way trade reached 328.08 billion U.S. dollars. Two-way trade reached 328.08\n"
        "    billion U.S. dollars. Two-way trade reached 328.08 billion U.S. dollars.\n\n"
        "> Editor's note: CGTN's First Voice provides instant commentary on breaking stories.\n\n"
        "Topics: #economy #foreign_policy"
    )


def test_lines_wrap_and_empty_parts_are_left_out() -> None:
    bare = Card(
        title="T",
        url="u",
        source=None,
        published=None,
        summary=("word " * 100,),
        key_facts=(),
        editors_note=None,
        topics=(),
        reading_minutes=1,
    )
    out = render_card(bare)
    assert out.startswith("T\n1 min read\nu\n\n")
    assert all(len(line) <= WIDTH for line in out.splitlines())
    assert "Key facts" not in out and "Editor's note" not in out and "Topics" not in out
