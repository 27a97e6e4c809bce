"""Sentence splitting in the other languages of the feeds: a table per language."""

from __future__ import annotations

import pytest

from digests.sentences import split_sentences

CASES = {
    "zh": [
        (
            "据统计，2024年贸易额达到2,328亿美元。中国连续21年是最大伙伴！这能持续吗？",
            ["据统计，2024年贸易额达到2,328亿美元。", "中国连续21年是最大伙伴！", "这能持续吗？"],
        ),
        ("他说：“我们会赢。”然后离开了。", ["他说：“我们会赢。”", "然后离开了。"]),
        ("增长5.6%。", ["增长5.6%。"]),  # a decimal point is no full stop
    ],
    "ja": [
        (
            "地方の鉄道が危機にある。「残すべきだ」と住民は言う。本当だろうか？",
            ["地方の鉄道が危機にある。", "「残すべきだ」と住民は言う。", "本当だろうか？"],
        ),
        ("『必要だ。』と述べた。次に進む。", ["『必要だ。』", "と述べた。", "次に進む。"]),
    ],
    "ko": [
        (
            "월세 비중은 62.3%에 달했다. 그러나 공급은 부족하다. 해법은 무엇인가?",
            ["월세 비중은 62.3%에 달했다.", "그러나 공급은 부족하다.", "해법은 무엇인가?"],
        ),
    ],
    "de": [
        (
            "Am 15. Januar 2026 legt die Kommission vor. Das ist spät.",
            ["Am 15. Januar 2026 legt die Kommission vor.", "Das ist spät."],
        ),
        (
            "Es fehlen rund 186 Mrd. Euro, z.B. für Schulen. Der Rückstand wächst um 12,4 Prozent.",
            [
                "Es fehlen rund 186 Mrd. Euro, z.B. für Schulen.",
                "Der Rückstand wächst um 12,4 Prozent.",
            ],
        ),
    ],
    "fr": [
        (
            "La production a atteint 145 TWh. M. Dupont s'en félicite. Est-ce assez ?",
            ["La production a atteint 145 TWh.", "M. Dupont s'en félicite.", "Est-ce assez ?"],
        ),
        ("« C'est fini. » Puis il partit.", ["« C'est fini. »", "Puis il partit."]),
    ],
    "es": [
        (
            "Las reservas están al 38,5 por ciento. ¿Es suficiente? No lo es.",
            ["Las reservas están al 38,5 por ciento.", "¿Es suficiente?", "No lo es."],
        ),
        (
            "La Sra. García habló con EE.UU. sobre el agua. Fue breve.",
            ["La Sra. García habló con EE.UU. sobre el agua.", "Fue breve."],
        ),
    ],
    "ru": [
        (
            "Население сократилось на 1,2 млн. человек. Это много. Что делать?",
            ["Население сократилось на 1,2 млн. человек.", "Это много.", "Что делать?"],
        ),
        (
            "Выделено 42 млрд. рублей, т.е. больше прежнего. Но люди уезжают.",
            ["Выделено 42 млрд. рублей, т.е. больше прежнего.", "Но люди уезжают."],
        ),
    ],
    "ar": [
        (
            "انخفضت التكلفة بنسبة ٨٩ في المئة، وهو رقم قياسي. هل هذا كاف؟ نعم بالتأكيد.",
            ["انخفضت التكلفة بنسبة ٨٩ في المئة، وهو رقم قياسي.", "هل هذا كاف؟", "نعم بالتأكيد."],
        ),
        (
            "بلغت الحصة ٤٫٥٪ عام ٢٠٢٣. وتقدر الاستثمارات بـ ٣٠ مليار دولار.",
            [
                "بلغت الحصة ٤٫٥٪ عام ٢٠٢٣.",
                "وتقدر الاستثمارات بـ ٣٠ مليار دولار.",
            ],
        ),
    ],
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(text, expected, id=f"{language}-{i}")
        for language, cases in CASES.items()
        for i, (text, expected) in enumerate(cases)
    ],
)
def test_split_sentences_per_language(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected
