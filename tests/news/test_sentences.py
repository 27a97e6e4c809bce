"""Sentence splitting: a table of tricky abbreviations, numbers, quotes and paragraphs."""

from __future__ import annotations

import pytest

from digests.sentences import split_sentences

CASES = [
    pytest.param(
        "In 2024, trade reached 328.08 billion U.S. dollars, up by 5.6 percent. China leads.",
        ["In 2024, trade reached 328.08 billion U.S. dollars, up by 5.6 percent.", "China leads."],
        id="decimals-and-us-dollars",
    ),
    pytest.param(
        "Mr. Smith met Dr. Jones at 10 a.m. on Jan. 5. They talked.",
        ["Mr. Smith met Dr. Jones at 10 a.m. on Jan. 5.", "They talked."],
        id="titles-times-months",
    ),
    pytest.param(
        "He moved to the U.S. The weather was better.",
        ["He moved to the U.S.", "The weather was better."],
        id="acronym-ends-sentence-before-opener",
    ),
    pytest.param(
        "The U.S. President spoke. U.S. Treasury yields rose.",
        ["The U.S. President spoke.", "U.S. Treasury yields rose."],
        id="acronym-inside-sentence",
    ),
    pytest.param(
        "J. K. Rowling wrote it. George W. Bush read it.",
        ["J. K. Rowling wrote it.", "George W. Bush read it."],
        id="initials",
    ),
    pytest.param(
        "Some fruits, e.g. apples, are red. Others, i.e. Limes, are not.",
        ["Some fruits, e.g. apples, are red.", "Others, i.e. Limes, are not."],
        id="eg-ie",
    ),
    pytest.param(
        '"Stop!" he shouted. "Why?" She left.',
        ['"Stop!" he shouted.', '"Why?"', "She left."],
        id="exclamation-question-in-quotes",
    ),
    pytest.param(
        "She said “I am done.” Then she left.",
        ["She said “I am done.”", "Then she left."],
        id="curly-closing-quote",
    ),
    pytest.param(
        "Apple Inc. said profits rose. Shares of Acme Inc. The firm fell.",
        ["Apple Inc. said profits rose.", "Shares of Acme Inc.", "The firm fell."],
        id="ambiguous-company-suffix",
    ),
    pytest.param(
        "The No. 1 seed won. It was 3.5 times faster... Really? Yes!",
        ["The No. 1 seed won.", "It was 3.5 times faster...", "Really?", "Yes!"],
        id="number-abbreviation-ellipsis",
    ),
    pytest.param(
        "A heading without a period\n\nFirst paragraph. Second one.\nNext paragraph",
        ["A heading without a period", "First paragraph.", "Second one.", "Next paragraph"],
        id="paragraph-breaks-are-hard",
    ),
    pytest.param(
        "A sentence broken by a stray\nnewline goes on.",
        ["A sentence broken by a stray newline goes on."],
        id="lowercase-continuation-line",
    ),
    pytest.param(
        "lower case. after a period stays together.",
        ["lower case. after a period stays together."],
        id="lowercase-next",
    ),
    pytest.param("  \n\n  ", [], id="blank"),
    pytest.param(
        "The answer was no. He left. See Vol. 2 and Fig. 3 for more.",
        ["The answer was no.", "He left.", "See Vol. 2 and Fig. 3 for more."],
        id="number-abbreviations-only-before-numbers",
    ),
    pytest.param(
        "'We bought bread, milk, etc.' He paid. Apples, pears, etc. They ate them.",
        ["'We bought bread, milk, etc.'", "He paid.", "Apples, pears, etc.", "They ate them."],
        id="etc-with-quote-or-opener",
    ),
    pytest.param(
        "It rose 5%. In 2015, it fell.",
        ["It rose 5%.", "In 2015, it fell."],
        id="number-before-period",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_whitespace_inside_sentences_is_collapsed() -> None:
    assert split_sentences("Talks  with \t ROK President Lee.") == ["Talks with ROK President Lee."]
