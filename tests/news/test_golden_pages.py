"""Golden pages in other languages: each opinion page in ``data/pages/`` next to the card
``digestbot preview`` must make of it (``opinion-xx.card.json``).

The pages were written for these tests (they are not copies of real pages): an opinion piece
with the furniture real pages carry - a cookie banner, a photo caption printed twice, a
newsletter box, a contributor footer, a trending widget - and an editor's note at the top or
the end, labelled as that language labels it. The Japanese page is Shift_JIS. The card files
were written by this test with ``DIGESTBOT_UPDATE_GOLDEN=1`` and read by a person; the
assertions state what matters, so that a careless update cannot hide a regression there.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import pytest

from digests.config import PipelineConfig
from digests.lang import is_cjk, length_budget, text_length
from digests.preview import main_preview

PAGES = Path(__file__).parent / "data" / "pages"
CONFIG = PipelineConfig()

# language -> (title, editor's note without its label, figures a reader would quote,
#              furniture that must be nowhere on the card)
EXPECTED: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]] = {
    "zh": (
        "中韩经贸合作：在不确定中寻找确定性",
        "本文作者李明远是北京一家智库的研究员。文章仅代表作者观点，不代表本网站立场。",
        ("2,328亿美元", "5.6%", "连续21年", "3.5亿美元", "1,100班", "460万人次"),
        ("Cookie", "接受", "新华社", "订阅", "欢迎投稿", "热门文章", "房价走势"),
    ),
    "ja": (
        "地方の鉄道をどう守るか 数字が示す現実",
        "本稿は筆者の個人的な見解であり、編集部の立場を示すものではありません。",
        ("2000人", "4割", "120億円", "2024年4月", "10年"),
        ("Cookie", "同意する", "写真", "ニュースレター", "寄稿", "ランキング", "円安"),
    ),
    "ko": (
        "청년 주거 문제, 공급만으로는 풀리지 않는다",
        "이 글은 필자의 개인적인 견해이며 본지의 편집 방향과 다를 수 있습니다.",
        ("62.3%", "75만 원", "18%", "5만 가구", "3만 명", "5만9000명", "10년"),
        ("쿠키", "동의", "사진=", "뉴스레터", "기고", "많이 본 뉴스", "금리 인하"),
    ),
    "de": (
        "Die Schuldenbremse braucht ein Update, keine Abschaffung",
        "Anna Keller ist Ökonomin an der Universität Mannheim. "
        "Der Beitrag gibt ihre persönliche Meinung wieder.",
        ("186 Mrd. Euro", "12,4 Prozent", "34,3 Milliarden Euro", "15. Januar 2026"),
        ("Cookies", "akzeptieren", "Foto: dpa", "Newsletter", "Gastbeitrag", "Meistgelesen"),
    ),
    "fr": (
        "La transition énergétique ne se fera pas sans les campagnes",
        "Claire Martin est ingénieure agronome. Cette tribune n'engage que son auteure.",
        ("78\u00a0%", "145\u00a0térawattheures", "8,5\u00a0pour cent", "3\u00a0200\u00a0euros"),
        ("cookies", "Tout accepter", "Photo", "lettre d'information", "contribuer", "plus lus"),
    ),
    "es": (
        "El agua es el gran desafío económico de España",
        "Javier Ortega es profesor de Economía en la Universidad de Valencia. "
        "Las opiniones expresadas son del autor.",
        ("38,5 por ciento", "80 %", "2.300 millones de euros"),
        ("cookies", "Aceptar", "Foto: EFE", "boletín", "colaborar", "Lo más leído"),
    ),
    "ru": (
        "Малым городам нужны не стройки, а люди",
        "Ольга Смирнова — урбанист, автор исследований о малых городах. "
        "Мнение автора может не совпадать с позицией редакции.",
        ("1,2 млн", "17,5 процента", "42 млрд рублей", "48 000 рублей", "35 процентов"),
        ("cookie", "Принять", "Фото", "рассылку", "стать автором", "Популярное", "Ипотека"),
    ),
    "ar": (
        "الطاقة الشمسية فرصة العالم العربي الضائعة",
        "سارة الحسن باحثة في شؤون الطاقة. الآراء الواردة في المقال تعبر عن رأي الكاتبة.",
        ("٤٫٥٪", "٨٩ في المئة", "٣٠ مليار دولار", "٢٠٣٠"),
        ("ملفات تعريف الارتباط", "موافق", "صورة", "النشرة البريدية", "للمساهمة", "الأكثر قراءة"),
    ),
}
_SPACES = re.compile(r"\s+")


@pytest.fixture(scope="module")
def cards() -> dict[str, dict[str, Any]]:
    """One ``digestbot preview --format json`` run over every page, as a user would run it."""
    import contextlib
    import io

    paths = [str(PAGES / f"opinion-{language}.html") for language in EXPECTED]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main_preview(paths, fmt="json", limit=1, config=CONFIG)
    assert code == 0
    produced = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    assert len(produced) == len(EXPECTED)
    return dict(zip(EXPECTED, produced, strict=True))


def _flat(text: str) -> str:
    return _SPACES.sub(" ", text)


@pytest.mark.parametrize("language", list(EXPECTED))
def test_golden_page(language: str, cards: dict[str, dict[str, Any]]) -> None:
    card = cards[language]
    title, note, figures, furniture = EXPECTED[language]
    assert card["language"] == language
    assert card["title"] == title
    assert card["editors_note"] == note
    everything_but_note = [card["text"], *card["summary"], *card["key_facts"], card["title"]]
    assert not any(note[:20] in part for part in everything_but_note)
    facts = _flat(" ".join(card["key_facts"]))
    quoted = [figure for figure in figures if _flat(figure) in facts]
    assert len(quoted) >= 2, (quoted, card["key_facts"])
    for part in [*everything_but_note, card["editors_note"]]:
        for junk in furniture:
            assert junk.casefold() not in part.casefold(), (junk, part)
    # the summary within its budget, in the unit of the language (163 characters for CJK)
    summary = " ".join(card["summary"])
    assert 0 < text_length(summary, language) <= length_budget(CONFIG.max_summary_words, language)
    unit_rate = CONFIG.cjk_chars_per_minute if is_cjk(language) else CONFIG.words_per_minute
    length = text_length(card["text"], language)
    assert length >= (150 if is_cjk(language) else 100)  # the whole piece, not a fragment
    assert card["reading_minutes"] == max(1, math.ceil(length / unit_rate))
    golden_card(language, card)


def golden_card(language: str, card: dict[str, Any]) -> None:
    expected_file = PAGES / f"opinion-{language}.card.json"
    if os.environ.get("DIGESTBOT_UPDATE_GOLDEN") == "1":
        expected_file.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    assert card == json.loads(expected_file.read_text(encoding="utf-8"))


def test_japanese_page_is_shift_jis() -> None:
    raw = (PAGES / "opinion-ja.html").read_bytes()
    assert b'charset="shift_jis"' in raw
    raw.decode("shift_jis")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
