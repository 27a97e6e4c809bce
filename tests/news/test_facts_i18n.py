"""Key facts in other languages: their numbers, percent and currency words, scales and dates."""

from __future__ import annotations

import pytest

from digests.facts import key_facts, specifics

# (language, sentence, kinds that must be found in it)
SPECIFICS = [
    ("de", "Der Umsatz stieg um 5,6 % auf 328,08 Mrd. Euro.", {"percent", "money"}),
    ("de", "Es waren 3 000 Beschäftigte, 12,4 Prozent mehr.", {"percent", "count"}),
    ("de", "Am 15. Januar 2026 tagt die Kommission seit 21 Jahren.", {"date", "duration"}),
    (
        "fr",
        "Les agriculteurs touchent 3\u202f200\u00a0euros, soit 8,5 pour cent.",
        {"money", "percent"},
    ),
    ("fr", "Le déficit atteint 3 000 milliards d'euros en avril 2024.", {"money", "date"}),
    (
        "es",
        "Las pérdidas superaron 2.300 millones de euros, un 38,5 por ciento.",
        {"money", "percent"},
    ),
    ("pt", "O PIB cresceu 2,9 por cento, para R$ 10,9 trilhões.", {"percent", "money"}),
    ("it", "Le vendite sono salite del 4,2 per cento a 12 miliardi di euro.", {"percent", "money"}),
    ("ru", "Товарооборот вырос на 5,6 процента и составил 42 млрд рублей.", {"percent", "money"}),
    ("ru", "Население сократилось на 1,2 млн человек за 10 лет подряд.", {"count", "duration"}),
    ("zh", "2024年4月双边贸易额达到2.63万亿元，同比增长5.6%。", {"date", "money", "percent"}),
    ("zh", "中国连续21年是韩国最大贸易伙伴，增长百分之三。", {"duration", "ranking", "percent"}),
    ("ja", "赤字額は年間120億円を超え、前年比5.6％増となった。", {"money", "percent"}),
    ("ja", "2024年4月1日に1000人が参加し、過去最高となった。", {"date", "count", "ranking"}),
    ("ko", "수출은 1,330억 달러로 5.6% 증가했다.", {"money", "percent"}),
    (
        "ko",
        "2024년 4월 청년 5만9000명이 이주해 10년 만에 최대를 기록했다.",
        {"date", "count", "ranking"},
    ),
    ("ar", "بلغت الاستثمارات ٣٠ مليار دولار عام ٢٠٣٠ بزيادة ٥٫٦٪.", {"money", "date", "percent"}),
    ("ar", "انخفضت التكلفة بنسبة ٨٩ في المئة خلال ١٠ سنوات على التوالي.", {"percent", "duration"}),
]


@pytest.mark.parametrize(
    ("language", "sentence", "kinds"),
    [pytest.param(*case, id=f"{case[0]}-{i}") for i, case in enumerate(SPECIFICS)],
)
def test_specifics_in_other_languages(language: str, sentence: str, kinds: set[str]) -> None:
    assert kinds <= set(specifics(sentence, language))


def test_english_reading_is_unchanged_without_a_language() -> None:
    # The patterns of other languages apply only to text known to be in another language.
    sentence = "Output fell 4,5 Prozent to 300 tonnes."
    assert "percent" not in specifics(sentence)
    assert "percent" in specifics(sentence, "de")


CJK_TEXT = (
    "今年以来，全球贸易面临压力。"
    "据统计，2024年双边贸易额达到2,328亿美元，同比增长5.6%。"
    "这能持续吗？2025年增长5.6%会再现吗？"
    "但是，2025年前三季度，韩国企业对华投资3.5亿美元，比上年增加12%。"
)


def test_cjk_facts_are_whole_sentences_in_characters() -> None:
    facts = key_facts(CJK_TEXT, language="zh")
    assert facts == [
        "据统计，2024年双边贸易额达到2,328亿美元，同比增长5.6%。",
        # the dangling "但是，" ("but") goes, as "But" does in English
        "2025年前三季度，韩国企业对华投资3.5亿美元，比上年增加12%。",
    ]  # the question (？) is no fact


def test_long_cjk_fact_is_cut_in_characters() -> None:
    long = (
        "据统计，2024年双边贸易额达到2,328亿美元，"
        + "主要集中在新能源汽车电池和半导体材料领域，" * 5
        + "同比增长5.6%。"
    )
    (fact,) = key_facts(long, language="zh")
    assert fact.endswith("…") and len(fact) <= 90 and "2,328亿美元" in fact


def test_german_facts_keep_their_sentence_rules() -> None:
    text = (
        "Kaum eine Regel wird so leidenschaftlich verteidigt. "
        "Aber im Haushalt 2025 sind 34,3 Milliarden Euro für Zinsen eingeplant. "
        "Wie lange geht das gut? Es fehlen 186 Mrd. Euro, ein Plus von 12,4 Prozent."
    )
    assert key_facts(text, language="de") == [
        "Im Haushalt 2025 sind 34,3 Milliarden Euro für Zinsen eingeplant.",
        "Es fehlen 186 Mrd. Euro, ein Plus von 12,4 Prozent.",
    ]


@pytest.mark.parametrize(
    ("language", "standalone", "dangling"),
    [
        (
            "de",
            "Der Umsatz stieg 2024 auf 34,3 Milliarden Euro.",
            "Das sind 12,4 Prozent mehr als 2023, ein Rekord.",
        ),
        ("zh", "2024年营业收入达到343亿元人民币。", "这一数字比2023年增长12.4%，创历史新高。"),
    ],
)
def test_a_fact_opening_on_a_pronoun_ranks_lower(
    language: str, standalone: str, dangling: str
) -> None:
    # Without the penalty the second sentence carries more specifics and would win.
    assert key_facts(f"{standalone} {dangling}", max_facts=1, language=language) == [standalone]
