"""The guard over a model-written summary: a pure decision over plain text.

A summary is accepted only when every figure it states and every name it uses can be found in
the article, it fits the budget, it is in the article's language, and it is neither a refusal
nor a restatement of the prompt. Anything else sends the card back to the extractive summary,
with the reason (one of :data:`REASONS`) for the counters and the log.

What it compares:

* **figures** (:mod:`digests.llm_figures`): every figure of the summary must have a reading
  equal to a reading of a figure of the article ("2.5 million" matches "2,500,000", "3rd"
  matches "third", "2,5 Mrd." matches "2,5 Milliarden"), in any script and notation.
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
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from digests.llm_figures import figure_pool, figures, invented_figures

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
