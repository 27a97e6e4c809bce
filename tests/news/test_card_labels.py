"""A card's own words ("Key facts", "Editor's note:", the reading time, the date, Slack's
button) are in the card's language in every renderer; the bot's replies are not (they follow
the reader)."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digests.models import Card
from digests.render import slack, telegram, text
from digests.render.labels import ENGLISH, LABELS, card_labels

PAGES = Path(__file__).parent / "data" / "pages"
LOCALE = Path(__file__).resolve().parents[2] / "bot" / "locale"


def _golden(language: str) -> Card:
    data = json.loads((PAGES / f"opinion-{language}.card.json").read_text(encoding="utf-8"))
    return Card.from_dict(data)


def _slack_text(card: Card) -> str:
    return json.dumps(slack.render_card(card).blocks, ensure_ascii=False)


def _renders(card: Card) -> list[str]:
    return [
        telegram.render_card(card),
        telegram.render_plain(card),
        _slack_text(card),
        text.render_card(card),
    ]


def test_every_language_of_the_bot_has_card_labels() -> None:
    bot_languages = {p.name for p in LOCALE.iterdir() if p.is_dir()} | {"en"}
    assert bot_languages <= set(LABELS)


@pytest.mark.parametrize("language", sorted(LABELS))
def test_labels_are_complete(language: str) -> None:
    labels = LABELS[language]
    for field in fields(labels):
        assert getattr(labels, field.name).strip(), field.name
    assert "{n}" in labels.minutes_read
    assert "7" in labels.reading_time(7)
    date = labels.format_date(datetime(2026, 3, 5, tzinfo=UTC))
    assert "2026" in date
    assert "5" in date
    if language != "en":
        assert labels != ENGLISH


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "5 Mar 2026"),
        ("de", "05.03.2026"),
        ("fr", "05/03/2026"),
        ("zh", "2026年3月5日"),
        ("ja", "2026年3月5日"),
        ("ko", "2026년 3월 5일"),
        ("ru", "05.03.2026"),
    ],
)
def test_dates_as_the_language_writes_them(language: str, expected: str) -> None:
    assert LABELS[language].format_date(datetime(2026, 3, 5, tzinfo=UTC)) == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [(None, "en"), ("", "en"), ("xx", "en"), ("pt-BR", "pt"), ("ZH", "zh"), ("de", "de")],
)
def test_labels_for_a_language_tag(tag: str | None, expected: str) -> None:
    assert card_labels(tag) is LABELS[expected]


@pytest.mark.parametrize("language", ["zh", "de", "fr", "es", "ru", "ar", "ja", "ko"])
def test_a_golden_card_reads_in_its_own_language(language: str) -> None:
    card = _golden(language)
    labels = LABELS[language]
    assert card.key_facts
    assert card.editors_note
    for rendered in _renders(card):
        assert "Key facts" not in rendered
        assert "Editor's note" not in rendered
        assert "min read" not in rendered
        assert labels.key_facts in rendered
        assert labels.editors_note.rstrip(":：\u00a0") in rendered
    assert labels.read_button in _slack_text(card)


def test_an_english_card_keeps_its_english_labels() -> None:
    card = replace(
        _golden("de"),
        language="en",
        reading_minutes=3,
        published=datetime(2026, 11, 28, 9, tzinfo=UTC),
    )
    for rendered in _renders(card):
        assert "Key facts" in rendered
        assert "Editor's note:" in rendered
        assert "3 min read" in rendered
        assert "28 Nov 2026" in rendered
    assert "Read the piece" in _slack_text(card)


def test_a_card_of_an_unknown_language_falls_back_to_english() -> None:
    card = replace(_golden("zh"), language=None)
    assert "Key facts" in text.render_card(card)


@pytest.mark.parametrize("language", ["zh", "ja"])
def test_no_space_after_a_full_width_colon(language: str) -> None:
    card = _golden(language)
    label = LABELS[language].editors_note
    assert label.endswith("：")
    for rendered in (telegram.render_plain(card), text.render_card(card)):
        assert label + card.editors_note[:5] in rendered
    assert f"{label}</b>{card.editors_note[:5]}" in telegram.render_card(card)
