"""The summary's lengths and cuts in the unit of a language: words, or characters for Chinese,
Japanese and Korean (no spaces between words there, so nothing here counts ``split()`` words
for them). Which languages count characters, and the words-to-characters rate, come from
:mod:`digests.lang`; the summary's character count includes punctuation (it takes room on
the card), where ``digests.lang.text_length`` counts letters and digits for article lengths.
"""

from __future__ import annotations

import re

from digests import lang
from digests.lang import CJK_CHARS_PER_WORD

__all__ = ["CJK_CHARS_PER_WORD", "is_cjk", "text_length", "trim", "trim_words"]


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


def is_cjk(language: str | None) -> bool:
    """Whether ``language`` (a BCP 47 tag such as "zh-Hans" or "ja_JP") is written without
    spaces between words, so lengths count characters."""
    return lang.is_cjk(lang.normalise_language(language))


def text_length(text: str, cjk: bool) -> int:
    """Characters other than spaces for CJK text, else whitespace-separated words."""
    return sum(not c.isspace() for c in text) if cjk else len(text.split())


_CLAUSE_END = re.compile(r"[,;:–—]$|^-+$")
# Words that open a clause: cutting before one leaves a whole clause ("... the ship drifted
# for weeks…" before "until"), never a phrase cut off after a preposition or an article. Not
# "and"/"or": they join words as often as clauses ("between 1 and 3 percent").
_CLAUSE_OPENERS = _word_set(
    """
    but which who whom whose where when while because although though whereas after before
    since until unless
    """
)
# "and"/"or" end a whole conjunct ("... rescued the ship…" before "and the crew"), except inside
# a construction that needs both sides ("between 1 and 3", "both ... and", "either ... or").
_CONJUNCTIONS = _word_set("and or")
_PAIRED = _word_set("between both either whether")


def _opens_clause(words: list[str], end: int) -> bool:
    """Whether cutting ``words`` before index ``end`` leaves whole clauses or conjuncts."""
    if end < 2:
        return False
    word = words[end].lower()
    if word in _CLAUSE_OPENERS:
        return True
    if word not in _CONJUNCTIONS:
        return False
    paired = any(w.lower() in _PAIRED for w in words[max(0, end - 5) : end])
    return not (paired or words[end - 1][-1:].isdigit())


_CJK_CLAUSE_END = "，、；：,;:—"
_CJK_SENTENCE_END = "。！？!?"


def trim_words(
    sentence: str, budget: int, *, clause_only: bool = False, openers: bool = False
) -> str | None:
    """Cut ``sentence`` to at most ``budget`` words, at a clause boundary when there is one.

    A clause boundary is a word ending in a comma, semicolon, colon or dash, and with
    ``openers`` also the gap before a word that opens a clause ("and", "which", "because").
    The result ends in "…"; ``None`` when ``budget`` is not positive, or when ``clause_only``
    and no clause boundary falls in the second half of the budget.
    """
    words = sentence.split()
    if budget <= 0:
        return None
    if len(words) <= budget:
        return sentence
    head = words[:budget]
    for end in range(len(head), max(len(head) // 2, 1) - 1, -1):
        if _CLAUSE_END.search(head[end - 1]) or (openers and _opens_clause(words, end)):
            head = head[:end]
            break
    else:
        if clause_only:
            return None
    return " ".join(head).rstrip(",;:–—- ") + "…"


def trim(sentence: str, budget: int, *, cjk: bool, clause_only: bool = False) -> str | None:
    """``trim_words`` for the summary: clause openers count as boundaries; CJK by character."""
    if not cjk:
        return trim_words(sentence, budget, clause_only=clause_only, openers=True)
    return _trim_chars(sentence, budget, clause_only=clause_only)


def _trim_chars(sentence: str, budget: int, *, clause_only: bool) -> str | None:
    """``trim_words`` for CJK text: ``budget`` counts characters other than spaces."""
    if budget <= 0:
        return None
    if text_length(sentence, True) <= budget:
        return sentence
    counted = 0
    cut = len(sentence)
    for position, char in enumerate(sentence):
        counted += not char.isspace()
        if counted > budget:
            cut = position
            break
    head = sentence[:cut]
    boundary = max(head.rfind(mark) for mark in _CJK_CLAUSE_END + _CJK_SENTENCE_END)
    if boundary + 1 >= len(head) // 2 and boundary > 0:
        head = head[: boundary + 1]
    elif clause_only:
        return None
    return head.rstrip(_CJK_CLAUSE_END + " ") + "…"
