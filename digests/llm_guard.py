"""The guard over a model-written summary: a pure decision over plain text.

A summary is accepted only when every figure it states and every name it uses can be found in
the article, it fits the budget, it is in the article's language, and it is neither a refusal
nor a restatement of the prompt. Anything else sends the card back to the extractive summary,
with the reason (one of :data:`REASONS`) for the counters and the log.

What it compares:

* **figures**: runs of decimal digits in any script (Arabic-Indic, Devanagari, full-width ...),
  with thousands separators (``3,000``, ``3 000``, ``3.000``, ``3٬000``) and decimal marks
  (``2.5``, ``2,5``, ``2٫5``) read every way they can be read, and a scale word after them
  (``2.5 million``, ``2,5 Mrd.``, ``3 млрд``, ``2.6万亿``, ``5억``) multiplied in; English number
  words ("twelve", "twenty-five") and ordinals from "third" on. A figure of the summary passes
  when one reading of it equals one reading of a figure of the article: "2.5 million" matches
  "2,500,000", "3rd" matches "third".
* **names**: capitalised words not at the start of a sentence, and at the start of one when the
  article does not have the word in any case (so "Researchers" and "Obama" opening a sentence are
  both looked up). A name passes when the article, its title or its author has it written with a
  capital; inflected forms ("Putina"/"Putin", "Merkels"/"Merkel") pass on a shared stem. German
  capitalises every noun, so there only runs of two or more capitalised words and acronyms count
  as names. Japanese katakana runs are checked too; Chinese, Korean and Arabic names are not
  (those scripts have no capitals to tell a name by).

What it cannot see: a wrong claim that changes no figure and no name (a negation, swapped roles
of two people the article names, a figure attached to the wrong thing). ``bench/llm_guard.py``
measures what it catches and what it wrongly rejects.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = [
    "REASONS",
    "GuardInput",
    "Verdict",
    "check_summary",
    "figure_pool",
    "figures",
    "invented_figures",
    "invented_names",
    "names",
]


def _words(words: str) -> list[str]:
    return words.split()


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


REASONS = (
    "empty",
    "refusal",
    "prompt_echo",
    "wrong_language",
    "over_budget",
    "invented_figure",
    "invented_name",
)


@dataclass(frozen=True, slots=True)
class GuardInput:
    """What the guard compares a summary with."""

    text: str  # the full cleaned article text (not the part sent to the model)
    title: str = ""
    author: str | None = None
    language: str | None = None  # the article's language (primary subtag), None: unknown
    budget: int = 75  # in the unit of length(): words, or characters for CJK
    instructions: str = ""  # the prompt without the article, to catch a restatement of it


@dataclass(frozen=True, slots=True)
class Verdict:
    accepted: bool
    reason: str | None = None  # one of REASONS when not accepted
    detail: str = ""  # what was wrong ("2.7", "Kerry"), for the log

    @classmethod
    def ok(cls) -> Verdict:
        return cls(True)


# --- figures -----------------------------------------------------------------------------

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


# --- names -------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W\d_][\w'’\-]*")
_KATAKANA_RUN = re.compile(r"[\u30a0-\u30ff]{3,}")
_SENTENCE_START = re.compile(r"(?:^|[.!?…:;]\s+|[\"“‘«(\[]\s*|\n\s*)$")
_POSSESSIVE = re.compile(r"['’]s?$")
_GERMAN_LIKE = frozenset({"de", "lb"})
# Capitalised at the start of a sentence, never names; German articles do not join a run of
# capitalised words ("Der Autor" is not a name).
_FUNCTION_WORDS = _word_set(
    """
    the a an this that these those it its he she they we i you his her their our in on at for
    but and or as after before while when if however meanwhile also some many most there here
    my your me him them us why what who whom whose which where how not no yet so then now still
    both each every all any few more one during despite since until by with from to of about
    according instead today yesterday tomorrow
    der die das den dem des ein eine einen einem einer eines er sie es wir ich und aber auch
    le la les un une des il elle ils elles nous et mais el los las una ellos ellas y pero
    """
)
_ENGLISH_LIKE = frozenset({None, "en"})
_CALENDAR_WORDS = _word_set(
    """
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday
    """
)


def _strip(token: str) -> str:
    return _POSSESSIVE.sub("", token.strip("-'’"))


def _capitalised(token: str) -> bool:
    return token[:1].isupper()


def names(text: str, *, language: str | None = None) -> list[tuple[str, bool]]:
    """``(name, starts_sentence)`` for each capitalised word of ``text`` that may be a name."""
    found: list[tuple[str, bool]] = []
    tokens = list(_TOKEN.finditer(text))
    german = language in _GERMAN_LIKE
    starts = [_SENTENCE_START.search(text, 0, m.start()) is not None for m in tokens]
    for i, match in enumerate(tokens):
        token = _strip(match.group(0))
        if not token or not _capitalised(token):
            continue
        start = starts[i]
        if start and token.casefold() in _FUNCTION_WORDS:
            continue
        if german and not token.isupper() and not _in_german_run(tokens, i, starts):
            continue
        found.append((token, start))
    found.extend((run, False) for run in _KATAKANA_RUN.findall(text))
    return found


def _in_german_run(tokens: list[re.Match[str]], i: int, starts: list[bool]) -> bool:
    """Every German noun is capitalised: only runs of capitalised words ("Angela Merkel")
    count as names. A sentence's first word joins a run only with a word that follows it."""

    def name_like(j: int) -> bool:
        if not 0 <= j < len(tokens):
            return False
        word = tokens[j].group(0)
        return _capitalised(word) and not word.isupper() and word.casefold() not in _FUNCTION_WORDS

    return name_like(i + 1) or (name_like(i - 1) and not starts[i - 1])


def _same_name(a: str, b: str, language: str | None) -> bool:
    if a == b:
        return True
    if language in _ENGLISH_LIKE:
        longer, shorter = (a, b) if len(a) > len(b) else (b, a)
        return longer in (shorter + "s", shorter + "es")
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return common >= max(4, max(len(a), len(b)) - 3)


def invented_names(
    summary: str, sources: Iterable[str], *, language: str | None = None
) -> list[str]:
    """The names of ``summary`` that ``sources`` never write with a capital (in any form)."""
    capitals: set[str] = set()
    anywhere: set[str] = set()
    for text in sources:
        for match in _TOKEN.finditer(text):
            token = _strip(match.group(0))
            if not token:
                continue
            # "Ex-Killie" backs "Killie"; "Anglo-French" backs "French".
            for part in {token, *token.split("-")}:
                if not part:
                    continue
                anywhere.add(part.casefold())
                if _capitalised(part):
                    capitals.add(part.casefold())
        capitals.update(run.casefold() for run in _KATAKANA_RUN.findall(text))
    missing = []
    for name, starts_sentence in names(summary, language=language):
        folded = name.casefold()
        # At a sentence start a capital says little: an ordinary word the article also uses,
        # in any inflection ("Scientists", "Insulted" beside "insulting"), is no name.
        if starts_sentence and (
            folded in anywhere or any(_same_name(folded, w, "inflected") for w in anywhere)
        ):
            continue
        if folded in capitals or any(_same_name(folded, c, language) for c in capitals):
            continue
        # A word the article has in lower case, capitalised for emphasis or a heading style
        # ("the Colima Volcano"), is no new name; a month or a weekday is a date and must match.
        if folded in anywhere and not name.isupper() and folded not in _CALENDAR_WORDS:
            continue
        if "-" in folded and all(p in capitals for p in folded.split("-") if p):
            continue
        missing.append(name)
    return missing


# --- refusals, restatements, length ------------------------------------------------------

_REFUSAL = re.compile(
    r"^\W*(?:I(?:'m| am) (?:sorry|unable|not able)|I can(?:'t|not)|I apologi[sz]e"
    r"|As an AI|Sorry, |Unfortunately, I|I do not have|I don't have|I won't"
    r"|Es tut mir leid|Ich kann (?:nicht|keine)|Désolé|Je ne peux pas|Lo siento|No puedo"
    r"|Извините|Я не могу|抱歉|对不起|我无法|申し訳|죄송)",
    re.IGNORECASE,
)
_ECHO_NGRAM = 6


def _ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.casefold())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def restates_prompt(summary: str, instructions: str, article: str) -> bool:
    """Does the summary repeat six words in a row of the instructions that the article lacks?"""
    if not instructions:
        return False
    echoed = _ngrams(summary, _ECHO_NGRAM) & _ngrams(instructions, _ECHO_NGRAM)
    return bool(echoed - _ngrams(article, _ECHO_NGRAM))


def check_summary(
    summary: str,
    source: GuardInput,
    *,
    length: Callable[[str], int],
    detect_language: Callable[[str], str | None],
) -> Verdict:
    """Accept ``summary`` for the card, or say why not (the first problem found).

    ``length`` counts in the budget's unit; ``detect_language`` guesses a language code from
    text (``None`` when too short to tell).
    """
    text = summary.strip()
    if not text:
        return Verdict(False, "empty")
    if _REFUSAL.search(text):
        return Verdict(False, "refusal", text[:60])
    if restates_prompt(text, source.instructions, source.text):
        return Verdict(False, "prompt_echo")
    # Both guesses come from the same detector, so that its own naming of a language (or of
    # a script) cancels out; the declared language only stands in when the text says nothing.
    said = detect_language(text)
    expected = detect_language(source.text) or source.language
    if said is not None and expected is not None and said != expected:
        return Verdict(False, "wrong_language", f"{said}, article {expected}")
    words = length(text)
    if words > source.budget:
        return Verdict(False, "over_budget", f"{words} > {source.budget}")
    sources = [source.text, source.title, source.author or ""]
    invented = invented_figures(text, sources, language=source.language)
    if invented:
        return Verdict(False, "invented_figure", ", ".join(invented))
    unknown = invented_names(text, sources, language=source.language)
    if unknown:
        return Verdict(False, "invented_name", ", ".join(unknown))
    return Verdict.ok()
