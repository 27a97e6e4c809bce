"""Figures as a reader would compare them: what value each written number stands for.

Part of the LLM summary guard (:mod:`digests.llm_guard`): a figure of a summary passes when one
reading of it equals one reading of a figure of the article. Runs of decimal digits in any script
(Arabic-Indic, Devanagari, full-width ...), with thousands separators (``3,000``, ``3 000``,
``3.000``, ``3٬000``) and decimal marks (``2.5``, ``2,5``, ``2٫5``) read as the language writes
them (every way when it is unknown), a scale word after them multiplied in (``2.5 million``,
``2,5 Mrd.``, ``3 млрд``, ``2.6万亿``, ``5억``), English number words ("twelve", "twenty-five")
and ordinals from "third" on.

The key-facts code (:mod:`digests.facts`, :mod:`digests.facts_i18n`) counts specifics by kind
to rank sentences; comparing needs each figure's value, hence this reader.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = ["Figure", "figure_pool", "figures", "invented_figures"]


def _words(words: str) -> list[str]:
    return words.split()


_SEPARATED = re.compile(
    # Not after a Latin letter or another figure ("A1", "v2.0"); Chinese text runs straight into
    # its figures ("增长2.6万亿元"), so a Han character before one is fine.
    r"(?<![A-Za-z\d.,٫٬])"
    r"(?P<number>\d{1,3}(?:[\u00a0\u202f\u2009 ]\d{3})+(?!\d)|\d+(?:[.,٫٬'’]\d+)*)"
    r"(?:\s?(?P<scale>[十百千万萬亿億兆십백천만억조]+|[^\W\d_]+\.?))?"
)
_SCALES: dict[str, int] = {
    **dict.fromkeys(("thousand", "k", "tsd.", "tausend", "mille", "mil", "тыс.", "тысяч",
                     "тысячи", "ألف", "آلاف"), 10**3),
    **dict.fromkeys(("lakh", "lakhs"), 10**5),
    **dict.fromkeys(("million", "millions", "m", "mn", "mio.", "mio", "millionen", "millones",
                     "millón", "milhões", "milhão", "milioni", "milione", "mln", "млн",
                     "миллион", "миллиона", "миллионов", "مليون", "ملايين"), 10**6),
    **dict.fromkeys(("crore", "crores"), 10**7),
    **dict.fromkeys(("billion", "billions", "bn", "b", "mrd.", "mrd", "milliarden", "milliarde",
                     "milliard", "milliards", "md", "mds", "miliardi", "miliardo", "mld",
                     "млрд", "миллиард", "миллиарда", "миллиардов", "مليار", "مليارات"), 10**9),
    **dict.fromkeys(("trillion", "trillions", "tn", "трлн", "تريليون"), 10**12),
}  # fmt: skip
# Chinese, Japanese and Korean scale characters multiply: 万亿 is 10^4 x 10^8.
_CJK_SCALES = {"十": 10, "百": 100, "千": 10**3, "万": 10**4, "萬": 10**4, "亿": 10**8,
               "億": 10**8, "兆": 10**12, "십": 10, "백": 100, "천": 10**3, "만": 10**4,
               "억": 10**8, "조": 10**12}  # fmt: skip


def _scale(word: str | None) -> int | None:
    if not word:
        return None
    if word[0] in _CJK_SCALES:
        product = 1
        for char in word:
            product *= _CJK_SCALES[char]
        return product
    return _SCALES.get(word.lower())


_UNITS = _words("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                "fourteen fifteen sixteen seventeen eighteen nineteen")  # fmt: skip
_TENS = _words("twenty thirty forty fifty sixty seventy eighty ninety")
_NUMBER_WORDS: dict[str, int] = {w: i for i, w in enumerate(_UNITS)}
_NUMBER_WORDS.update({w: 20 + 10 * i for i, w in enumerate(_TENS)})
# "one" ("one of the ...", "no one") and "first"/"second" ("for the first time", "a second
# look") are mostly not figures; counting them would reject faithful summaries.
del _NUMBER_WORDS["one"], _NUMBER_WORDS["zero"]
_ORDINAL_WORDS = {
    w: i + 3
    for i, w in enumerate(
        _words(
            "third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
            "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
        )
    )
}
_WORD_NUMBER = re.compile(
    r"\b(?:(?P<tens>" + "|".join(_TENS) + r")(?:[-\s](?P<unit>" + "|".join(_UNITS[1:10]) + r"))?"
    r"|(?P<word>"
    + "|".join(sorted({*_NUMBER_WORDS, *_ORDINAL_WORDS}, key=len, reverse=True))
    + r"))\b"
    r"(?:\s(?P<scale>thousand|million|billion|trillion))?",
    re.IGNORECASE,
)


def _ascii_digits(token: str) -> str:
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in token)


# Languages whose figures are written "3,000.5": a comma there never marks decimals. Where a
# comma marks decimals ("3.000,5": German, French, Russian ...) a dot or space groups
# thousands. With the language unknown both readings are kept.
_POINT_DECIMAL = frozenset({"en", "zh", "ja", "ko", "he", "th", "hi", "ms", "tl", "ga", "cy"})


def _readings(token: str, language: str | None = None) -> set[Decimal]:
    """Every value a written number can stand for in ``language`` ("3.000" is 3000 in German
    and 3 in English; with no language, both)."""
    token = re.sub(r"[\u00a0\u202f\u2009 '’]", "", _ascii_digits(token)).replace("٬", ",")
    token = token.replace("٫", ".")
    parts = re.split(r"([.,])", token)
    digits, marks = parts[0::2], parts[1::2]
    decimal_marks = {".", ","}
    if language in _POINT_DECIMAL:
        decimal_marks = {"."}
    elif language is not None:
        decimal_marks = {","}
    readings: set[str] = set()
    if not marks:
        readings.add(token)
    elif len(set(marks)) == 1:
        if all(len(g) == 3 for g in digits[1:]) and (
            len(marks) > 1 or marks[0] not in decimal_marks or len(decimal_marks) == 2
        ):
            readings.add("".join(digits))  # thousands separators
        if len(marks) == 1 and marks[0] in decimal_marks:
            readings.add(f"{digits[0]}.{digits[1]}")  # a decimal mark
        if not readings:  # "3.5" in a comma-decimal language: written the English way
            readings.add(f"{digits[0]}.{digits[1]}" if len(marks) == 1 else "".join(digits))
    else:  # "1,234.5" / "1.234,5": the last mark is the decimal one
        readings.add("".join(digits[:-1]) + "." + digits[-1])
    values: set[Decimal] = set()
    for reading in readings:
        try:
            values.add(Decimal(reading).normalize())
        except InvalidOperation:
            continue
    return values


@dataclass(frozen=True, slots=True)
class Figure:
    text: str
    values: frozenset[Decimal]  # plain readings
    scaled: frozenset[Decimal]  # readings times the scale word after it; empty without one


def figures(text: str, language: str | None = None) -> list[Figure]:
    """The figures ``text`` states, each with every value it can be read as."""
    found: list[Figure] = []
    for match in _SEPARATED.finditer(text):
        number = match.group("number")
        scale = _scale(match.group("scale")) or _scale((match.group("scale") or "").rstrip("."))
        values = _readings(number, language)
        scaled = frozenset(v * scale for v in values) if scale else frozenset()
        shown = match.group(0).rstrip(".") if scale else number
        found.append(Figure(shown, frozenset(values), scaled))
    for match in _WORD_NUMBER.finditer(text):
        word = (match.group("word") or "").lower()
        if match.group("tens"):
            value = 20 + 10 * _TENS.index(match.group("tens").lower())
            if match.group("unit"):
                value += _UNITS.index(match.group("unit").lower())
        else:
            value = _NUMBER_WORDS.get(word) or _ORDINAL_WORDS[word]
        scale = _SCALES.get((match.group("scale") or "").lower())
        plain = frozenset({Decimal(value)})
        scaled = frozenset({Decimal(value * scale)}) if scale else frozenset()
        found.append(Figure(match.group(0), plain, scaled))
    return found


# Not checked in a summary (see _NUMBER_WORDS), but an article's "one" or "first" does back a
# summary's "1" or "1st".
_SOURCE_ONLY_WORDS = re.compile(r"\b(one|first|second|dozen)\b", re.IGNORECASE)
_SOURCE_ONLY_VALUES = {"one": 1, "first": 1, "second": 2, "dozen": 12}


def figure_pool(texts: Iterable[str], language: str | None) -> set[Decimal]:
    """Every value a figure of ``texts`` can be read as."""
    pool: set[Decimal] = set()
    for text in texts:
        for figure in figures(text, language):
            pool |= figure.values | figure.scaled
        for word in _SOURCE_ONLY_WORDS.findall(text):
            pool.add(Decimal(_SOURCE_ONLY_VALUES[word.lower()]))
    return pool


def invented_figures(
    summary: str, sources: Iterable[str], *, language: str | None = None
) -> list[str]:
    """The figures of ``summary`` that no figure of ``sources`` can be read as."""
    pool = figure_pool(sources, language)
    missing = []
    for figure in figures(summary, language):
        # A scaled figure must match as scaled: "2.5 billion" is not the article's "2.5 million".
        wanted = figure.scaled or figure.values
        if not wanted & pool:
            missing.append(figure.text)
    return missing
