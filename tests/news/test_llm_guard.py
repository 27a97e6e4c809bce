"""The guard over model-written summaries: table tests over plain text."""

from __future__ import annotations

import pytest

from digests.llm_guard import (
    GuardInput,
    check_summary,
    invented_figures,
    invented_names,
)

ARTICLE = (
    "NASA chief scientist Ellen Stofan said on Tuesday that the agency expects strong "
    "indications of life beyond Earth within a decade. The budget rose by 3.5 percent to "
    "$2.5 million, and 3,000 researchers in 12 countries took part. It was the third "
    "such panel since 2015."
)


@pytest.mark.parametrize(
    ("summary", "invented"),
    [
        ("Stofan expects signs of life within a decade.", []),
        ("The budget rose 3.5% to $2.5m.", []),
        ("The budget rose to 2,500,000 dollars.", []),  # 2.5 million, written out
        ("About 3000 researchers took part.", []),
        ("About 3 000 researchers took part.", []),
        ("Researchers in twelve countries took part.", []),  # a number word
        ("It was the 3rd such panel.", []),  # an ordinal word in the article
        ("The budget rose by 4.5 percent.", ["4.5"]),
        ("The budget rose to $2.5 billion.", ["2.5 billion"]),
        ("3,500 researchers took part.", ["3,500"]),
        ("Researchers in thirteen countries took part.", ["thirteen"]),
        ("It was the fourth such panel since 2016.", ["2016", "fourth"]),
    ],
)
def test_figures_must_come_from_the_article(summary: str, invented: list[str]) -> None:
    assert sorted(invented_figures(summary, [ARTICLE], language="en")) == sorted(invented)


@pytest.mark.parametrize(
    ("summary", "article", "invented"),
    [
        ("Der Umsatz stieg um 5,6 %.", "Der Umsatz stieg um 5,6 Prozent.", []),
        ("Der Umsatz stieg um 6,5 %.", "Der Umsatz stieg um 5,6 Prozent.", ["6,5"]),
        ("Es kostet 2,5 Mrd. Euro.", "Es kostet 2,5 Milliarden Euro.", []),
        ("Es kostet 2,5 Mio. Euro.", "Es kostet 2,5 Milliarden Euro.", ["2,5 Mio"]),
        ("Выручка — 3 млрд рублей.", "Выручка составила 3 млрд рублей.", []),
        ("GDP grew to 2.6 trillion yuan.", "国内生产总值达到2.6万亿元。", []),
        ("营收达5亿元。", "营收达到5亿元，增长3%。", []),
        ("营收达6亿元。", "营收达到5亿元，增长3%。", ["6亿"]),
        ("بلغ العدد ٣٬٠٠٠ شخص", "بلغ العدد 3000 شخص", []),
        ("بلغ العدد ٤٬٠٠٠ شخص", "بلغ العدد 3000 شخص", ["٤٬٠٠٠"]),
        ("매출은 5억 원이다.", "매출은 5억 원을 기록했다.", []),
    ],
)
def test_figures_in_other_scripts_and_notations(
    summary: str, article: str, invented: list[str]
) -> None:
    assert invented_figures(summary, [article]) == invented


@pytest.mark.parametrize(
    ("summary", "language", "invented"),
    [
        ("The author argues that NASA and Stofan are right.", "en", []),
        ("Stofan's team expects results. Scientists agree.", "en", []),
        ("The author argues that John Kerry is right.", "en", ["John", "Kerry"]),
        ("Obama says the agency is right.", "en", ["Obama"]),  # at a sentence start too
        ("Der Autor meint, die Regierung habe recht.", "de", []),  # German nouns are no names
        ("Der Autor meint, Angela Merkel habe recht.", "de", ["Angela", "Merkel"]),
        ("Laut NASA hat Ellen Stofan recht.", "de", []),
    ],
)
def test_names_must_come_from_the_article(summary: str, language: str, invented: list[str]) -> None:
    assert invented_names(summary, [ARTICLE], language=language) == invented


def test_inflected_names_match_their_stem() -> None:
    article = "Владимир Путин встретился с делегацией в России."
    assert invented_names("Путина поддержали в России.", [article], language="ru") == []
    assert invented_names("Пушкина поддержали.", [article], language="ru") == ["Пушкина"]


def _check(summary: str, *, language: str = "en", said: str = "en", budget: int = 40) -> str:
    verdict = check_summary(
        summary,
        GuardInput(
            text=ARTICLE,
            title="Life beyond Earth",
            author="Jane Roe",
            language=language,
            budget=budget,
            instructions="Write at most 40 words. Copy every number exactly as the article.",
        ),
        length=lambda text: len(text.split()),
        detect_language=lambda text: "en" if text == ARTICLE else said,
    )
    return "ok" if verdict.accepted else str(verdict.reason)


@pytest.mark.parametrize(
    ("summary", "changes", "expected"),
    [
        ("Stofan expects signs of life beyond Earth within a decade.", {}, "ok"),
        ("Jane Roe argues Stofan expects life beyond Earth.", {}, "ok"),  # the author
        ("   ", {}, "empty"),
        ("I'm sorry, but I cannot summarise this.", {}, "refusal"),
        ("As an AI language model, I think it is about NASA.", {}, "refusal"),
        ("Copy every number exactly as the article.", {}, "prompt_echo"),
        ("Stofan expects life beyond Earth.", {"said": "fr"}, "wrong_language"),
        ("Stofan expects life beyond Earth " * 10, {}, "over_budget"),
        ("Stofan expects life within 20 years.", {}, "invented_figure"),
        ("Carl Sagan expects life within a decade.", {}, "invented_name"),
    ],
)
def test_check_summary(summary: str, changes: dict[str, str], expected: str) -> None:
    assert _check(summary, **changes) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("summary_guess", "article_guess", "declared", "accepted"),
    [
        (None, "en", "en", True),  # too short to tell: not held against it
        ("en", None, None, True),  # nothing to compare with
        ("fr", None, "en", False),  # the declared language stands in for the article's
        ("fr", "fr", "en", True),  # the text wins over a wrong declaration
    ],
)
def test_the_language_check(
    summary_guess: str | None, article_guess: str | None, declared: str | None, accepted: bool
) -> None:
    verdict = check_summary(
        "Stofan expects life beyond Earth.",
        GuardInput(text=ARTICLE, language=declared),
        length=lambda text: len(text.split()),
        detect_language=lambda text: article_guess if text == ARTICLE else summary_guess,
    )
    assert verdict.accepted is accepted


def test_lower_case_words_of_the_article_capitalised_are_no_names_but_months_are() -> None:
    article = "Lightning lit the ash cloud of the Colima volcano, and it may erupt again."
    assert invented_names("Lightning lit the Colima Volcano.", [article], language="en") == []
    assert invented_names("It erupted in May.", [article], language="en") == ["May"]
