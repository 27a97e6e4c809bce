"""Renderers join a Chinese or Japanese summary without spaces between its sentences."""

from __future__ import annotations

import pytest

from digests.models import Card
from digests.render import slack, summary_text, telegram, text


def card(language: str | None, summary: tuple[str, ...]) -> Card:
    return Card(
        title="T",
        url="https://x.example/",
        source=None,
        published=None,
        summary=summary,
        key_facts=(),
        editors_note=None,
        topics=(),
        reading_minutes=1,
        language=language,
    )


@pytest.mark.parametrize(
    ("language", "summary", "joined"),
    [
        ("zh", ("第一句。", "第二句。"), "第一句。第二句。"),
        ("ja", ("最初の文。", "次の文。"), "最初の文。次の文。"),
        ("ko", ("첫 문장이다.", "둘째 문장이다."), "첫 문장이다. 둘째 문장이다."),
        ("de", ("Erster Satz.", "Zweiter Satz."), "Erster Satz. Zweiter Satz."),
        (None, ("First.", "Second."), "First. Second."),
    ],
)
def test_summary_text(language: str | None, summary: tuple[str, ...], joined: str) -> None:
    assert summary_text(card(language, summary)) == joined


def test_every_renderer_uses_it() -> None:
    zh = card("zh", ("第一句。", "第二句。"))
    assert "第一句。第二句。" in text.render_card(zh)
    assert "第一句。第二句。" in telegram.render_card(zh)
    assert "第一句。第二句。" in str(slack.render_card(zh))
