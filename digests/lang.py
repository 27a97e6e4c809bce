"""The language of a piece, and lengths counted in the unit that suits its script.

Space-separated scripts are measured in words. Chinese, Japanese and Korean are measured in
characters: Chinese and Japanese put no spaces between words, and a Korean "word" (eojeol)
carries particles, so ``split()`` says little about how much there is to read. Every budget of
the card (minimum article length, summary, key-fact length) is set in English words and turned
into characters at the ratio of the two reading speeds below, so that a budget means the same
reading time in every language: 75 words at 230 words a minute is about 20 seconds, which is
about 163 characters at 500 characters a minute.

Where the language comes from: the page's own markup (``<html lang>``, ``og:locale``), then the
feed's ``<language>``, then a statistical guess from the text (py3langid; see
``bench/language.py`` for why that one). A declared language whose script contradicts the text
(``lang="en"`` left in a template on a Chinese page) is not trusted.
"""

from __future__ import annotations

import math
import re
import string
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import cache
from typing import Any

__all__ = [
    "CJK_CHARS_PER_MINUTE",
    "CJK_CHARS_PER_WORD",
    "WORDS_PER_MINUTE",
    "confirms",
    "detect_language",
    "is_cjk",
    "length_budget",
    "normalise_language",
    "reading_minutes",
    "resolve_language",
    "text_length",
    "trim_to_length",
    "word_equivalents",
]

WORDS_PER_MINUTE = 230
CJK_CHARS_PER_MINUTE = 500
CJK_CHARS_PER_WORD = CJK_CHARS_PER_MINUTE / WORDS_PER_MINUTE  # ~2.17

_CJK_LANGUAGES = frozenset({"zh", "ja", "ko"})
_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")
_WORD = re.compile(r"\w+")
# How far into a text the script check and the detector look: enough for a reliable guess,
# and the cost stays the same for a long article. The detector's cost grows with its sample
# (0.6 ms for 1,000 characters, 1.2 ms for 2,000); on the 91 aeb-dev pages 1,000 give the same
# languages, each wrongly declared page's at probability 1.0.
_SAMPLE_CHARS = 2000
_DETECT_CHARS = 1000

_LATIN_LANGUAGES = (
    "en de fr es pt it nl sv da no nb nn fi pl cs sk sl hr hu ro tr id ms vi ca eu gl"
    " et lv lt sq is ga cy af sw tl"
)
# Scripts a language is written in, for telling whether a declared language fits the text.
_SCRIPTS: dict[str, frozenset[str]] = {
    "zh": frozenset({"han"}),
    "ja": frozenset({"han", "kana"}),
    "ko": frozenset({"hangul", "han"}),
    "ar": frozenset({"arabic"}),
    "fa": frozenset({"arabic"}),
    "ur": frozenset({"arabic"}),
    "he": frozenset({"hebrew"}),
    "el": frozenset({"greek"}),
    "th": frozenset({"thai"}),
    "hi": frozenset({"devanagari"}),
    **{code: frozenset({"cyrillic"}) for code in ("ru", "uk", "bg", "be", "mk", "kk", "mn")},
    **{code: frozenset({"latin"}) for code in _LATIN_LANGUAGES.split()},
}


def normalise_language(value: str | None) -> str | None:
    """The primary subtag of a language tag, lower case: "zh-Hans-CN" -> "zh", "pt_BR" -> "pt".

    ``None`` for anything that is not a language tag ("", "x-default", "und", "English").
    """
    if not value:
        return None
    match = _TAG.match(value.strip())
    if match is None:
        return None
    code = match.group(1).lower()
    if code in ("und", "mul", "zxx"):
        return None
    return code


def is_cjk(language: str | None) -> bool:
    """Is ``language`` (a normalised code) Chinese, Japanese or Korean?"""
    return language in _CJK_LANGUAGES


def _script(char: str) -> str | None:
    code = ord(char)
    if code < 0x250:
        return "latin" if char.isalpha() else None
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9D:
        return "kana"
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "hangul"
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
        return "han"
    if not char.isalpha():
        return None
    name = unicodedata.name(char, "")
    for script in ("cyrillic", "arabic", "hebrew", "greek", "thai", "devanagari", "latin"):
        if name.startswith(script.upper()):
            return script
    return "other"


def scripts(text: str) -> Counter[str]:
    """How many letters of each script the start of ``text`` holds."""
    sample = text[:_SAMPLE_CHARS]
    # ASCII letters are counted in C: they are all "latin" (what _script says of them), and a
    # per-character loop over 2,000 characters cost ~1 ms a card. Only the other characters
    # (a few curly quotes and accents on a Latin page, most of a CJK one) go through _script.
    letters = len(sample) - len(sample.translate(_DROP_ASCII_LETTERS))
    counts = Counter({"latin": letters}) if letters else Counter()
    if not sample.isascii():
        counts.update(s for s in map(_script, _NON_ASCII.findall(sample)) if s is not None)
    return counts


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_DROP_ASCII_LETTERS = str.maketrans("", "", string.ascii_letters)


def _cjk_script(counts: Counter[str]) -> bool:
    letters = sum(counts.values())
    cjk = counts["han"] + counts["kana"] + counts["hangul"]
    return letters > 0 and cjk > 0.5 * letters


_ANY_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def _counts_characters(text: str, language: str | None) -> bool:
    if language is not None and language in _SCRIPTS:
        return is_cjk(language)
    # Cheap exits first: this runs for every paragraph of every page.
    if text.isascii() or _ANY_CJK.search(text, 0, _SAMPLE_CHARS) is None:
        return False
    return _cjk_script(scripts(text))


def text_length(text: str, language: str | None = None) -> int:
    """Length of ``text`` in its unit: characters (letters and digits) for Chinese, Japanese
    and Korean, ``split()`` words otherwise. With no language, the script of the text decides."""
    if _counts_characters(text, language):
        return sum(1 for char in text if char.isalnum())
    return len(text.split())


def length_budget(words: int, language: str | None = None, text: str = "") -> int:
    """A budget set in English words, in the unit of ``language`` (see the module docstring).

    With no language, ``text`` (when given) decides by its script.
    """
    if _counts_characters(text, language) if language or text else False:
        return round(words * CJK_CHARS_PER_WORD)
    return words


def word_equivalents(text: str, language: str | None = None) -> float:
    """The length of ``text`` in English-word equivalents: ``split()`` words for space-separated
    scripts, characters over :data:`CJK_CHARS_PER_WORD` for CJK. Lets a threshold set in words
    (a caption has at most 60 words) hold for every script."""
    if _counts_characters(text, language):
        return text_length(text, "zh") / CJK_CHARS_PER_WORD
    return len(text.split())


def reading_minutes(
    text: str,
    language: str | None = None,
    *,
    words_per_minute: int = WORDS_PER_MINUTE,
    chars_per_minute: int = CJK_CHARS_PER_MINUTE,
) -> int:
    """Whole minutes to read ``text``, rounded up, at least one."""
    if _counts_characters(text, language):
        amount, rate = text_length(text, "zh"), chars_per_minute
    else:
        amount, rate = len(_WORD.findall(text)), words_per_minute
    return max(1, math.ceil(amount / max(1, rate)))


_CJK_CLAUSE_END = "，、；：,;:"


def trim_to_length(text: str, budget: int, language: str | None = None) -> str | None:
    """Cut CJK ``text`` to at most ``budget`` characters (letters and digits counted, as in
    :func:`text_length`), at a clause mark in the second half when there is one; the cut text
    ends in "…". ``None`` when ``budget`` is not positive. Space-separated text is left to the
    word-based trimming of the summary."""
    if budget <= 0:
        return None
    if text_length(text, language) <= budget:
        return text
    counted = 0
    cut = len(text)
    for index, char in enumerate(text):
        if char.isalnum():
            counted += 1
            if counted > budget:
                cut = index
                break
    # Never cut a figure in two ("达到2…" for "达到2,328亿美元").
    while cut > 0 and (text[cut - 1].isdigit() or text[cut - 1] in ".,") and _in_number(text, cut):
        cut -= 1
    head = text[:cut]
    clause = next(
        (
            at
            for at in range(len(head) - 1, len(head) // 2 - 1, -1)
            if head[at] in _CJK_CLAUSE_END and not _in_number(head, at + 1)
        ),
        None,
    )
    if clause is not None:
        head = head[:clause]
    return head.rstrip(_CJK_CLAUSE_END + " ") + "…"


# Languages so close that the detector's word against a page's own declaration means little.
_CLOSE = (
    frozenset({"no", "nb", "nn", "da"}),
    frozenset({"id", "ms"}),
    frozenset({"sr", "hr", "bs"}),
    frozenset({"cs", "sk"}),
    frozenset({"gl", "pt"}),
)
# A declaration is overruled only by a sure guess on a real amount of text. On the 91 pages of
# bench/extraction.py, 4 declare the wrong language (a German blog in an "en" template, English
# pieces under "de"); the detector gives each of them 1.0 on the main text.
_OVERRULE_PROBABILITY = 0.99
_OVERRULE_MIN_LETTERS = 200
_MIN_LETTERS = 20
# Words so common in a language that a text in it is full of them, and rare in the others:
# when at least _CONFIRMING_SHARE of the first words of a text are the declared language's, the
# declaration stands without asking the detector (whose model takes ~0.3 s to load, the most of
# `digestbot preview`'s start). On the texts of bench/language.py and the CNN/DailyMail dev set
# a text's own language scores 0.20-0.30 (bar a few lists and tables, which go to the detector),
# another language at most 0.10; on none of them does the shortcut give another language than
# the detector would (bench/language.py prints the check).
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    language: frozenset(words.split())
    for language, words in {
        "en": "the and of to is that for with was on are as by this have from be at has were"
        " which his their they not but will been would",
        "de": "der die das und ist nicht mit sich des auf für dem den ein eine einer auch wird bei"
        " werden hat nach noch oder aber sind wurde zum zur vom",
        "fr": "le la les des et est une du dans que qui pour pas sur au avec ce il sont par plus"
        " ne se aux cette été ont",
        "es": "el la los las y es una del en que por con para se su al lo como más pero sus fue"
        " son ha este esta",
    }.items()
}
_CONFIRMING_SHARE = 0.18
_CONFIRMING_WORDS = 40  # fewer words than this say too little


def _in_number(text: str, at: int) -> bool:
    return at < len(text) and (text[at].isdigit() or text[at] in ".,%")


def resolve_language(declared: Iterable[str | None], text: str) -> str | None:
    """The first declared language, unless the text says otherwise: a script that does not fit
    it, or a sure guess of another language; with nothing declared, a guess from the text."""
    counts = scripts(text)
    main = counts.most_common(1)[0][0] if counts else None
    for value in declared:
        code = normalise_language(value)
        if code is None:
            continue
        expected = _SCRIPTS.get(code)
        if expected is not None and main is not None and main not in expected:
            break  # the page's own declaration is wrong: the feed's is no better evidence
        if sum(counts.values()) < _OVERRULE_MIN_LETTERS or confirms(code, text):
            return code
        guess, probability = _guess(text)
        if guess == code or probability < _OVERRULE_PROBABILITY or _close(guess, code):
            return code
        return guess
    return detect_language(text)


def confirms(language: str, text: str) -> bool:
    """Does the start of ``text`` bear out ``language`` by its commonest words (see
    ``_FUNCTION_WORDS``)? ``False`` also when there is no list for it: ask the detector."""
    common = _FUNCTION_WORDS.get(language)
    if common is None:
        return False
    words = _WORD.findall(text[:_DETECT_CHARS].lower())
    if len(words) < _CONFIRMING_WORDS:
        return False
    return sum(word in common for word in words) >= _CONFIRMING_SHARE * len(words)


def _close(a: str, b: str) -> bool:
    return any(a in group and b in group for group in _CLOSE)


def detect_language(text: str) -> str | None:
    """A guess at the language of ``text`` from its first characters; ``None`` for too little
    text to tell."""
    if sum(1 for char in text[:_SAMPLE_CHARS] if char.isalpha()) < _MIN_LETTERS:
        return None
    code = _guess(text)[0]
    return None if code == "zxx" else code


# The detector's varieties, as the cards name them (the unit of length and the patterns of
# key facts are those of the written language).
_DETECTED_AS = {"wuu": "zh", "yue": "zh", "arz": "ar", "ary": "ar", "uzs": "uz"}


def _guess(text: str) -> tuple[str, float]:
    code, probability = _identifier().classify(text[:_DETECT_CHARS])
    return _DETECTED_AS.get(str(code), str(code)), float(probability)


_IDENTIFIER_LOCK = threading.Lock()


@cache
def _identifier() -> Any:
    # Imported and loaded on first use (~0.3 s), so importing digests stays cheap. Cards are
    # built in several threads at once: without the lock each loaded its own copy of the
    # model on the first pages (peak memory doubled); @cache alone does not serialise callers.
    with _IDENTIFIER_LOCK:
        return _load_identifier()


@cache
def _load_identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
