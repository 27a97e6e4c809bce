"""The guard on issue 8's golden opinion pages (zh, ja, ko, de, fr, es, ru, ar): a card's own
summary and key facts (the author's sentences) always pass; a key fact with one figure changed
to a value the article never states never does, whatever the script and notation."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from digests.lang import detect_language
from digests.llm import budget_units
from digests.llm_guard import GuardInput, Verdict, check_summary, figure_pool, figures
from digests.summary_units import text_length

PAGES = Path(__file__).parent / "data" / "pages"
CARDS = sorted(PAGES.glob("opinion-*.card.json"))


def _check(summary: str, card: dict[str, Any]) -> Verdict:
    _, cjk = budget_units(card["text"], card["language"], 75)
    return check_summary(
        summary,
        GuardInput(
            text=card["text"],
            title=card["title"],
            author=card["author"],
            language=card["language"],
            budget=10**6,  # the budget is not what this checks
        ),
        length=lambda text: text_length(text, cjk),
        detect_language=detect_language,
    )


def _changed(fact: str, card: dict[str, Any]) -> str | None:
    """``fact`` with the last digit of its first figure changed so that the figure is no
    longer any figure of the article; None when every choice is in the article."""
    pool = figure_pool([card["text"], card["title"], card["author"] or ""], card["language"])
    match = re.search(r"\d+", fact)
    if match is None:
        return None
    last = fact[match.end() - 1]
    zero = ord(last) - unicodedata.decimal(last)
    for step in range(1, 10):
        digit = chr(zero + (unicodedata.decimal(last) + step) % 10)
        changed = fact[: match.end() - 1] + digit + fact[match.end() :]
        read = figures(changed[match.start() : match.end() + 12], card["language"])
        if read and not (read[0].values | read[0].scaled) & pool:
            return changed
    return None


def test_there_are_golden_pages() -> None:
    assert {p.name.split(".")[0][-2:] for p in CARDS} >= {"zh", "ja", "ko", "de", "ru", "ar"}


@pytest.mark.parametrize("path", CARDS, ids=lambda p: p.name.split(".")[0])
def test_the_authors_own_sentences_pass(path: Path) -> None:
    card = json.loads(path.read_text(encoding="utf-8"))
    for part in ("summary", "key_facts"):
        verdict = _check(" ".join(card[part]), card)
        assert verdict.accepted, (part, verdict)


@pytest.mark.parametrize("path", CARDS, ids=lambda p: p.name.split(".")[0])
def test_a_changed_figure_is_caught_in_every_script(path: Path) -> None:
    card = json.loads(path.read_text(encoding="utf-8"))
    changed = [c for c in (_changed(f, card) for f in card["key_facts"]) if c is not None]
    assert changed, "no key fact with a figure to change"
    for fact in changed:
        verdict = _check(fact, card)
        assert (verdict.accepted, verdict.reason) == (False, "invented_figure"), fact
