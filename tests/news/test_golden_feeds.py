"""Golden feeds: each feed in ``data/golden/`` next to the cards it must produce from the feed's
own content (what the worker falls back to when a page cannot be fetched).

The ``*.cards.json`` files were written by this test with ``DIGESTBOT_UPDATE_GOLDEN=1`` and read
by a person before they were committed; any change to a card shows up as a diff here. The
assertions above the comparison state what matters in each golden card, so that a careless
update of the golden files cannot hide a regression in those points.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from digests.cards import build_card
from digests.config import PipelineConfig
from digests.errors import DigestError
from digests.extract import article_from_entry
from digests.feeds import parse_feed
from digests.topics import Taxonomy

GOLDEN = Path(__file__).parent / "data" / "golden"
CONFIG = PipelineConfig()


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load(CONFIG.topics_path)


def cards_for(feed_file: Path, taxonomy: Taxonomy) -> dict[str, Any]:
    parsed = parse_feed(feed_file.read_bytes(), f"https://feeds.example.org/{feed_file.name}")
    out: list[dict[str, Any]] = []
    for entry in parsed.entries:
        try:
            article = article_from_entry(entry)
            card = build_card(article, taxonomy=taxonomy, config=CONFIG, entry=entry)
        except DigestError as exc:
            out.append({"entry_id": entry.entry_id, "error": str(exc)})
        else:
            out.append(card.to_dict())
    return {"feed_title": parsed.title, "bozo": parsed.warning is not None, "cards": out}


def golden(feed_file: Path, taxonomy: Taxonomy) -> dict[str, Any]:
    produced = cards_for(feed_file, taxonomy)
    expected_file = feed_file.with_suffix(".cards.json")
    if os.environ.get("DIGESTBOT_UPDATE_GOLDEN") == "1":
        expected_file.write_text(json.dumps(produced, indent=2, ensure_ascii=False) + "\n")
    expected = json.loads(expected_file.read_text())
    assert produced == expected
    return produced


def test_rss2_feed_with_full_content(taxonomy: Taxonomy) -> None:
    result = golden(GOLDEN / "ledger-rss2.xml", taxonomy)
    ports, school = result["cards"]
    assert ports["editors_note"].startswith("Maren Holt is a transport economist")
    assert "newsletter" not in ports["text"].lower()
    assert "contribute" not in ports["text"].lower()
    assert any("4.2 billion" in fact for fact in ports["key_facts"])
    # Topics shown are taxonomy topics; the feed's own category stays a category.
    assert ports["topics"] == ["trade"] and "Transport" in ports["categories"]
    assert school["editors_note"] is None
    assert ports["author"] == "Maren Holt" and ports["published"] == "2025-10-30T07:00:00+00:00"


def test_atom_feed_with_captions_and_footer(taxonomy: Taxonomy) -> None:
    [card] = golden(GOLDEN / "cgtn-atom.xml", taxonomy)["cards"]
    assert card["editors_note"].startswith("CGTN's First Voice provides instant commentary")
    assert "/ CFP" not in card["text"] and "opinions@cgtn.com" not in card["text"]
    facts = " ".join(card["key_facts"])
    assert "328.08 billion U.S. dollars" in facts and "21 years in a row" in facts
    assert {"economy", "trade"} <= set(card["topics"])
    # the entry was updated a day later; the card keeps the publication date
    assert card["published"] == "2025-11-01T13:34:00+00:00"


def test_broken_feed_still_yields_its_usable_entry(taxonomy: Taxonomy) -> None:
    result = golden(GOLDEN / "broken-rss.xml", taxonomy)
    assert result["bozo"] is True
    tariffs, empty = result["cards"]
    assert tariffs["title"] == "Tariffs & trade: the 12% question"
    assert tariffs["editors_note"] == (
        "This piece was updated on 3 November 2025 to correct the tariff rate."
    )
    # three sentences: the summary says it all, and facts that repeat it are left out
    assert "12 percent" in tariffs["summary"][0] and tariffs["key_facts"] == []
    assert "error" in empty and "no content" in empty["error"]
