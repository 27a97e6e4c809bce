"""Key facts: golden checks on the sample piece and a table of specifics."""

from __future__ import annotations

from pathlib import Path

import pytest

from digests.facts import _SPECIFICS, key_facts, specifics
from digests.summarize import article_sentences, summarize

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def cgtn_body() -> str:
    return (DATA / "cgtn-body.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("with_summary", [True, False])
def test_sample_facts_carry_the_trade_figures(cgtn_body: str, with_summary: bool) -> None:
    exclude = summarize(cgtn_body) if with_summary else ()
    facts = key_facts(cgtn_body, exclude=exclude)
    assert 3 <= len(facts) <= 5
    assert any("328.08 billion U.S. dollars, up by 5.6 percent" in f for f in facts), facts
    assert any("largest trading partner for 21 years in a row" in f for f in facts), facts
    assert all(len(f.split()) <= 35 for f in facts)
    body = " ".join(cgtn_body.split())
    positions = [body.find(f.rstrip(".…")[:40]) for f in facts]
    assert -1 not in positions and positions == sorted(positions)


def test_sample_facts_add_to_the_summary(cgtn_body: str) -> None:
    summary = summarize(cgtn_body)
    facts = key_facts(cgtn_body, exclude=summary)
    assert not set(facts) & set(summary)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("Trade reached 328.08 billion U.S. dollars last year.", {"money"}),
        ("The deal is worth $5m to the club.", {"money"}),
        ("Investment rose to €3 bn.", {"money"}),
        ("Sales rose 12% and margins 5.6 percent.", {"percent"}),
        ("The law took effect on October 31, 2025.", {"date"}),
        ("It has led for 21 years in a row.", {"duration", "count"}),
        ("It is the second largest market.", {"ranking"}),
        ("The Free Trade Agreement entered into force.", {"named"}),
        ("Leaders met at the 32nd APEC Economic Leaders' Meeting.", {"named", "ranking"}),
        ("The 15th Five-Year Plan runs to 2030.", {"named", "ranking", "date", "duration"}),
        ("Police found 300 people at the site.", {"count"}),
        ("They talked about the weather and their plans.", set()),
    ],
)
def test_specifics(text: str, kinds: set[str]) -> None:
    assert set(specifics(text)) == kinds


def test_no_specifics_gives_no_facts() -> None:
    text = (
        "The writer argues that friendship matters. Neighbours should talk more often. "
        "Good relations take patience and goodwill from everyone involved."
    )
    assert key_facts(text) == []


def test_compound_sentence_is_split_into_standalone_clauses() -> None:
    text = (
        "China has been the ROK's largest trading partner for 21 years in a row, "
        "and the ROK is China's third largest export market since 2015."
    )
    facts = key_facts(text)
    assert facts[0] == "China has been the ROK's largest trading partner for 21 years in a row."
    assert facts[1].startswith("The ROK is China's third largest export market")


def test_clause_inside_a_quote_is_not_split() -> None:
    text = '"We grew 12% in 2024, and we expect the same next year," the CEO said on Monday.'
    assert key_facts(text) == [text]


def test_compound_subject_after_an_aside_is_not_split() -> None:
    # Splitting here left a fragment with no verb: "In recent years, Fu Bao, the first panda..."
    text = (
        "In recent years, Fu Bao, the first panda born in the ROK to parents gifted by China, "
        "and her family at the Everland Resort in the city of Yongin have become a symbol."
    )
    facts = key_facts(text)
    assert len(facts) == 1
    assert facts[0].startswith("In recent years, Fu Bao")
    assert "have become" in facts[0] or facts[0].endswith("…")


def test_facts_are_diverse_and_capped() -> None:
    text = " ".join(
        [
            "Exports rose 5% to $10 billion in 2024.",
            "Exports rose 5% to $10 billion in 2024, officials said.",
            "Imports fell 3% in March 2025 to the lowest level in 11 years.",
            "The firm hired 200 engineers in 2023.",
            "Revenue hit €4 bn, up 7 percent, in 2022.",
            "The company is the largest employer in the region since 1990.",
            "Profits doubled to $2m in the first quarter of 2021.",
        ]
    )
    facts = key_facts(text, max_facts=4)
    assert len(facts) == 4
    assert sum(f.startswith("Exports rose 5%") for f in facts) <= 1


def test_summary_sentences_rank_lower_but_are_not_banned() -> None:
    lead = "Exports rose 5% to $10 billion in 2024."
    other = "The firm hired 200 engineers in 2023."
    assert key_facts(f"{lead} {other}", exclude=[lead], max_facts=1) == [other]
    assert key_facts(lead, exclude=[lead]) == [lead]


def test_long_fact_is_shortened() -> None:
    text = (
        "In 2024 the ministry said exports rose 5.6 percent to 300 billion dollars, "
        + "driven by strong demand for machinery and electronics across many regional markets " * 3
    )
    (fact,) = key_facts(text)
    assert len(fact.split()) <= 35


def test_sentences_given_or_split_here_give_the_same_facts(cgtn_body: str) -> None:
    summary = summarize(cgtn_body)
    given = key_facts(cgtn_body, exclude=summary, sentences=article_sentences(cgtn_body))
    assert given == key_facts(cgtn_body, exclude=summary)


def _every_pattern(text: str) -> dict[str, int]:
    counts = {kind: len(pattern.findall(text)) for kind, (_, pattern) in _SPECIFICS.items()}
    return {kind: n for kind, n in counts.items() if n}


@pytest.mark.parametrize(
    "text",
    [
        "Prices rose in a ſtraight run, the ſecond such run.",  # "ſ" is "s" to re.I
        "Output fell 4٫5 percent to ٣٠٠ tonnes in ٢٠٢٤.",  # Arabic-Indic digits are \d
        "The Paris Agreement and the Belt and Road Initiative were signed.",
        "Nothing here has a number, a date or a name.",
        "The most votes since the 1990s went to the top three of 12 parties, a record.",
    ],
)
def test_specifics_skips_only_kinds_that_cannot_match(text: str) -> None:
    assert specifics(text) == _every_pattern(text)


def test_specifics_matches_every_pattern_on_the_sample(cgtn_body: str) -> None:
    sentences = article_sentences(cgtn_body)
    assert any(specifics(s) for s in sentences)
    for sentence in sentences:
        assert specifics(sentence) == _every_pattern(sentence), sentence
