"""digests.lang: language tags, the unit of length per script, and where a language comes from."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digests.lang import (
    _script,
    detect_language,
    is_cjk,
    length_budget,
    normalise_language,
    reading_minutes,
    resolve_language,
    scripts,
    text_length,
    trim_to_length,
    word_equivalents,
)

ZH = "据中国海关统计，2024年中韩双边贸易额达到2,328亿美元，同比增长5.6%。"
EN_LONG = (
    "The port handled more containers this year than in any year before, and the operator "
    "says it will add two new berths by the end of the decade to keep up with demand. "
) * 3
DE_LONG = (
    "Der Hafen hat in diesem Jahr mehr Container umgeschlagen als je zuvor, und der Betreiber "
    "will bis zum Ende des Jahrzehnts zwei neue Liegeplätze bauen, um mit der Nachfrage "
    "Schritt zu halten. "
) * 3


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("zh-CN", "zh"),
        ("zh-Hans-CN", "zh"),
        ("pt_BR", "pt"),
        ("EN-us", "en"),
        (" de ", "de"),
        ("ar", "ar"),
        ("", None),
        (None, None),
        ("und", None),
        ("x-default", None),
        ("English", None),
    ],
)
def test_normalise_language(tag: str | None, code: str | None) -> None:
    assert normalise_language(tag) == code


def test_is_cjk() -> None:
    assert [is_cjk(c) for c in ("zh", "ja", "ko", "en", "ar", None)] == [
        True, True, True, False, False, False,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "language", "length"),
    [
        ("我们讨论贸易。", "zh", 6),  # letters and digits, no punctuation
        ("日本の経済は成長した。", "ja", 10),
        ("한국 경제는 성장했다.", "ko", 9),  # Korean: characters, not its spaced "words"
        ("Der Handel wächst schnell.", "de", 4),
        ("Trade grows fast.", "en", 3),
        (ZH, None, 34),  # no language: the script decides
        ("Trade grows fast.", None, 3),
        ("", None, 0),
    ],
)
def test_text_length(text: str, language: str | None, length: int) -> None:
    assert text_length(text, language) == length


def test_budgets_mean_the_same_reading_time() -> None:
    assert length_budget(75, "en") == 75
    assert 150 <= length_budget(75, "zh") <= 200  # the CJK summary budget of issue 8
    assert length_budget(20, "ja") == 43
    assert length_budget(20, None, ZH) == 43 and length_budget(20, None, "plain words") == 20
    assert word_equivalents("a b c") == 3
    assert word_equivalents("我们" * 50, "zh") == pytest.approx(100 / (500 / 230))


@pytest.mark.parametrize(
    ("text", "language", "minutes"),
    [
        ("字" * 500, "zh", 1),
        ("字" * 501, "zh", 2),
        ("글" * 1500, "ko", 3),
        (" ".join(["word"] * 231), "en", 2),
        (" ".join(["Wort"] * 230), "de", 1),
        ("字" * 501, None, 2),
        ("", None, 1),
    ],
)
def test_reading_minutes(text: str, language: str | None, minutes: int) -> None:
    assert reading_minutes(text, language) == minutes


def test_trim_to_length_cuts_at_a_clause_mark() -> None:
    text = "据中国海关统计，2024年中韩双边贸易额达到2,328亿美元，同比增长5.6%。"
    assert trim_to_length(text, 100, "zh") == text
    # at most N letters and digits, cut at the last clause mark ("，", not the "," of 2,328)
    # in the second half, and never inside a figure
    assert trim_to_length(text, 29, "zh") == "据中国海关统计，2024年中韩双边贸易额达到2,328亿美元…"
    assert trim_to_length(text, 23, "zh") == "据中国海关统计，2024年中韩双边贸易额达到…"
    assert trim_to_length(text, 0, "zh") is None


@pytest.mark.parametrize(
    ("declared", "text", "language"),
    [
        (["zh-CN"], ZH, "zh"),
        (["en"], ZH, "zh"),  # a template's lang="en" on a Chinese page: the script says no
        ([None, "de_DE"], DE_LONG, "de"),  # og:locale when <html> says nothing
        (["en"], DE_LONG, "de"),  # a sure guess on enough text overrules the template
        (["de"], EN_LONG, "en"),
        (["de"], "Kurz und gut.", "de"),  # too little text to overrule anything
        (["nb"], "Dette er en lang tekst på norsk om havnen og båtene. " * 6, "nb"),
        ([], DE_LONG, "de"),  # nothing declared: detected
        ([None, "x-default"], EN_LONG, "en"),
        ([], "Hi.", None),  # too little text to tell
    ],
)
def test_resolve_language(declared: list[str | None], text: str, language: str | None) -> None:
    assert resolve_language(declared, text) == language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Экономика малых городов растет медленнее, чем ожидалось, говорят эксперты.", "ru"),
        ("تملك المنطقة العربية واحدا من أعلى معدلات الإشعاع الشمسي في العالم.", "ar"),
        ("地方のローカル線が存続の危機にある。人口が減り、車の利用が当たり前になった。", "ja"),
        ("청년들이 집 때문에 결혼과 출산을 미룬다는 이야기는 더 이상 새롭지 않다.", "ko"),
        ("La sequía ya no es un fenómeno excepcional en España, dicen los expertos.", "es"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language


@given(
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=2500)
    | st.text(max_size=2500)
    | st.text(alphabet="ab .,\u201c\u201d\u00e9\u0436\u4e2d\u3042\ud55c", max_size=2500)
)
def test_scripts_count_as_the_per_character_rule_does(text: str) -> None:
    # scripts() counts ASCII letters in C; the per-character rule (_script) is what it must give.
    expected = Counter(s for s in map(_script, text[:2000]) if s is not None)
    assert scripts(text) == expected
