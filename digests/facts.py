"""Key facts: the short statements of a piece that carry checkable specifics.

A sentence (or, for compound sentences, each clause that stands alone) is scored by the kinds
of specifics it carries - money, percentages, dates, durations, rankings, named agreements and
events, counts - with distinct kinds counting more than repeats of one kind. The best are picked
with a penalty for repeating an already picked fact or a sentence of the summary, then returned
in their original order.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from digests.facts_i18n import FOREIGN_SPECIFICS, foreign_terms
from digests.lang import is_cjk, length_budget, text_length, trim_to_length
from digests.summarize import (
    article_sentences,
    content_terms,
    is_boilerplate,
    lowered_for_hints,
    trim_words,
)

__all__ = ["key_facts", "specifics"]

_MAX_FACT_WORDS = 35
_MIN_SCORE = 2.0  # at least one strong specific, or two weak ones
_SUMMARY_PENALTY = 0.3  # facts already in the summary rank lower, not out
_REDUNDANCY = 0.5  # content-word overlap above which two facts say the same thing

_NUM = r"\d[\d,]*(?:\.\d+)?"
_SCALE = r"(?:thousand|million|billion|trillion|mn|bn|m|b|k)"
_CURRENCY_WORD = (
    r"(?:(?:U\.S\.|US|Hong Kong|Canadian|Australian|Singapore)\s+)?"
    r"(?:dollars?|euros?|pounds?(?: sterling)?|yuan|renminbi|yen|won|rupees?|rubles?|roubles?"
    r"|francs?|pesos?|reais|real|dirhams?|riyals?)"
)
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan\.|Feb\.|Mar\.|Apr\.|Jun\.|Jul\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
)
_NUMBER_WORD = (
    r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty"
    r"|thirty|forty|fifty|a hundred|hundreds of|several|many)"
)
_EVENT_NOUN = (
    r"(?:Agreement|Treaty|Plan|Summit|Meeting|Forum|Conference|Initiative|Act|Accord|Convention"
    r"|Games|Cup|Olympics|Expo|Partnership|Strategy|Programme|Program|Pact|Protocol|Declaration"
    r"|Charter|Dialogue|Election|Congress|Session|Festival|Championships?)"
)

# kind -> (weight, pattern). Weights: how much a reader would want to check it.
_SPECIFICS: dict[str, tuple[float, re.Pattern[str]]] = {
    "money": (
        3.0,
        re.compile(
            rf"(?:[$€£¥₩]|\b(?:US\$|USD|EUR|GBP|RMB|CNY)\s?){_NUM}(?:\s?{_SCALE}\b)?"
            rf"|\b{_NUM}\s?(?:{_SCALE}\s)?{_CURRENCY_WORD}\b",
            re.IGNORECASE,
        ),
    ),
    "percent": (
        3.0,
        re.compile(rf"\b{_NUM}\s?(?:%|percent\b|per cent\b|percentage points?\b)", re.I),
    ),
    "date": (
        2.0,
        re.compile(
            rf"\b{_MONTH}\s\d{{1,2}}(?:st|nd|rd|th)?\b|\b\d{{1,2}}\s{_MONTH}"
            r"|\b(?:1[89]|20)\d{2}(?:s|[-–](?:\d{2}|\d{4}))?\b"
        ),
    ),
    "duration": (
        2.0,
        re.compile(
            rf"\b{_NUMBER_WORD}[\s-](?:consecutive\s)?(?:years?|months?|weeks?|days?|decades?"
            r"|hours?|minutes?|centuries|century)\b|\bin a row\b|\bconsecutive\b|\bstraight\b",
            re.I,
        ),
    ),
    "ranking": (
        2.0,
        re.compile(
            r"\b(?:largest|biggest|smallest|highest|lowest|fastest|slowest|oldest|youngest"
            r"|first|second|third|fourth|fifth|top|leading|record|best|worst"
            r"|the (?:most|least|only)"
            r"|\d+(?:st|nd|rd|th))\b",
            re.I,
        ),
    ),
    "named": (2.0, re.compile(rf"\b(?:[A-Z][\w'’-]*\s+){{1,6}}{_EVENT_NOUN}\b")),
    "count": (
        1.5,
        re.compile(
            rf"\b{_NUM}(?:\s{_SCALE})?\s(?!(?:{_SCALE}|percent|per cent)\b)[a-z][a-z-]+",
        ),
    ),
}

# Cheap tests that rule a kind out before its regex scans the clause (most clauses have no
# digit, and every match of these kinds holds one).
_DIGIT = re.compile(r"\d")
_NEEDS_DIGIT = frozenset({"money", "percent", "date", "count"})
# Every match of these kinds holds one of its words (in lower case), or for "ranking" a digit.
_HINTS = {
    "duration": (
        "year", "month", "week", "day", "decade", "hour", "minute", "centur",
        "in a row", "consecutive", "straight",
    ),
    "ranking": (
        "largest", "biggest", "smallest", "highest", "lowest", "fastest", "slowest", "oldest",
        "youngest", "first", "second", "third", "fourth", "fifth", "top", "leading", "record",
        "best", "worst", "the most", "the least", "the only",
    ),
}  # fmt: skip
# Every "named" match ends in one of these (matched case-sensitively).
_ANY_EVENT_NOUN = re.compile(_EVENT_NOUN)

# Splitting points for compound sentences; the right part must open like a new clause.
_CLAUSE_SPLIT = re.compile(r";\s+|,\s+(?=(?:and|but|while|whereas)\s)")
_NEW_SUBJECT = re.compile(
    r"^(?:(?:and|but|while|whereas)\s+)?(?:the|a|an|its|their|his|her|it|he|she|they|we|this"
    r"|these|those|there)\b|^(?:(?:and|but|while|whereas)\s+)?[A-Z]",
)
_QUOTE_MARKS = re.compile(r'["“”]')
_OPENING_QUOTES = "\"“‘'„«「『"
_SENTENCE_ENDS = ".!?\"'”’)。！？؟」』）»"
_QUESTION_MARKS = ("?", "？", "؟")
_QUOTE_PENALTY = 0.7  # a quoted remark is someone's view; prefer reported specifics
# A bullet that opens on a pronoun for something said before it ("Dies ist ein Rekord",
# "这一数字...") leaves the reader asking what "it" is: such a unit ranks lower. Applied to
# other languages only for now: English cards keep their reading (a golden English card has
# an "It needs ..." fact), which is the lead's call to change.
_DANGLING_OPENER = re.compile(
    r"(?:It|This|That|These|Those|They|Es|Dies|Dieser|Diese|Dieses|Das|Il|Elle|Ils|Elles"
    r"|Cela|Ceci|Ce|Esto|Eso|Ello|Isso|Isto|Ciò|Это|Он|Она|Оно|Они)\b(?!\s*[\d%])"
    r"|(?:这一|这|它|此|其|これ|それ|この|その|이는|이것은|그것은|그는|그녀는|هذا|هذه|وهذا|وهذه|وهو|وهي|ذلك)"
)
_DANGLING_PENALTY = 0.6
# A bullet stands alone: "And"/"But" linking it to the previous sentence would dangle.
_LEADING_CONJUNCTION = re.compile(r"^(?:and|but|while|whereas|so)\s+(?=\w)", re.I)
_FOREIGN_CONJUNCTION = re.compile(
    r"^(?:(?:und|aber|doch|et|mais|pero|sino|mas|ma|però|и|но|а|однако)\s+(?=\w)"
    r"|(?:但是|但|而且|不过|然而|另外|しかし|だが|また|그러나|하지만|또한|لكن|ولكن)[，、,]?\s*)",
    re.I,
)


@dataclass(frozen=True, slots=True)
class _Unit:
    order: tuple[int, int]
    text: str
    score: float
    terms: frozenset[str]


_CJK_FIGURE = re.compile(
    r"[〇零一二两三四五六七八九十百千万亿億兆]+(?:年|月|日|%|％|倍|元|美元|人|万|亿|億)|百分之"
)
_FIGURE_KINDS = ("money", "percent", "date")
_SPELLED_FIGURE = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty"
    r"|thirty|forty|fifty|sixty|seventy|eighty|ninety|a hundred|hundreds|thousands|millions)"
    r"[\s-]+(?:percent|per cent|million|billion|trillion|thousand|dollars|euros|yuan|pounds)\b",
    re.IGNORECASE,
)


def stands_alone(fact: str, language: str | None = None) -> bool:
    """Can ``fact`` be a bullet of its own? It carries a figure (a digit in any script, an
    amount, a percentage, a date, a CJK numeral with its unit) and does not open on a pronoun
    for something said before it ("It needs ...", "This is ..."). Words alone such as "that
    second door" or "the least money" are not figures a reader would quote."""
    if _DANGLING_OPENER.match(fact.lstrip(_OPENING_QUOTES)):
        return False
    if _DIGIT.search(fact) or _CJK_FIGURE.search(fact) or _SPELLED_FIGURE.search(fact):
        return True
    found = specifics(fact, language)
    return any(kind in found for kind in _FIGURE_KINDS)


def specifics(text: str, language: str | None = None) -> dict[str, int]:
    """How many specifics of each kind ``text`` carries (kinds with none are left out).

    Text in another language than English is also read with the patterns of
    :mod:`digests.facts_i18n` ("5,6 %", "2,63万亿元", "2024年4月").
    """
    found: dict[str, int] = {}
    has_digit = _DIGIT.search(text) is not None
    lowered = lowered_for_hints(text)
    for kind, (_, pattern) in _SPECIFICS.items():
        if not _may_hold(kind, text, has_digit=has_digit, lowered=lowered):
            continue
        count = len(pattern.findall(text))
        if count:
            found[kind] = count
    if _foreign(language):
        for kind, foreign in FOREIGN_SPECIFICS.items():
            if kind in _NEEDS_DIGIT and not has_digit:
                continue
            # The English pattern may read part of the same figure: count the better reading.
            count = len(foreign.findall(text))
            if count > found.get(kind, 0):
                found[kind] = count
    return found


def _may_hold(kind: str, text: str, *, has_digit: bool, lowered: str | None) -> bool:
    """False only when no match of ``kind`` can be in ``text``: its regex need not run."""
    if kind in _NEEDS_DIGIT:
        return has_digit
    if kind == "named":
        return _ANY_EVENT_NOUN.search(text) is not None
    hints = _HINTS.get(kind)
    if hints is None or lowered is None or (kind == "ranking" and has_digit):
        return True
    return any(hint in lowered for hint in hints)


def key_facts(
    text: str,
    *,
    exclude: Collection[str] = (),
    max_facts: int = 5,
    sentences: Sequence[str] | None = None,
    language: str | None = None,
) -> list[str]:
    """Up to ``max_facts`` short facts of ``text`` with checkable specifics, in original order.

    Sentences in ``exclude`` (usually the summary) still count, with a lower rank, so that the
    facts add to the summary before they repeat it. ``sentences``, when given, must be
    ``article_sentences(text)`` (split once for the summary and the facts).
    """
    excluded = {_normalise(s) for s in exclude}
    if sentences is None:
        sentences = article_sentences(text)
    units = [
        unit
        for i, sentence in enumerate(sentences)
        if not is_boilerplate(sentence) and not sentence.rstrip().endswith(_QUESTION_MARKS)
        for unit in _units(i, sentence, excluded, language)
    ]
    picked: list[_Unit] = []
    for unit in sorted(units, key=lambda u: (-u.score, u.order)):
        if len(picked) >= max_facts:
            break
        if unit.score < _MIN_SCORE or any(_overlap(unit, p) > _REDUNDANCY for p in picked):
            continue
        picked.append(unit)
    return [u.text for u in sorted(picked, key=lambda u: u.order)]


def _units(index: int, sentence: str, excluded: set[str], language: str | None) -> list[_Unit]:
    in_summary = _normalise(sentence) in excluded
    units = []
    for j, clause in enumerate(_clauses(sentence, language)):
        score = _score(clause, language)
        if in_summary or _normalise(clause) in excluded:
            score *= _SUMMARY_PENALTY
        # Only units that can be picked are compared for overlap: the others skip the terms.
        terms = _terms(clause, language) if score >= _MIN_SCORE else frozenset()
        units.append(_Unit((index, j), _shorten(clause, language), score, terms))
    return units


def _foreign(language: str | None) -> bool:
    """Is the text known to be in another language than English? (Unknown is read as English,
    as it always was.)"""
    return language not in (None, "en")


def _cjk(text: str, language: str | None) -> bool:
    if language:
        return is_cjk(language)
    return not text.isascii() and length_budget(1, None, text) > 1


def _shorten(clause: str, language: str | None) -> str:
    if _cjk(clause, language):
        budget = length_budget(_MAX_FACT_WORDS, "zh")
        return trim_to_length(clause, budget, "zh") or clause
    return trim_words(clause, _MAX_FACT_WORDS) or clause


def _terms(clause: str, language: str | None) -> frozenset[str]:
    if not _foreign(language):
        return frozenset(content_terms(clause))
    return frozenset(foreign_terms(clause))


def _clauses(sentence: str, language: str | None = None) -> list[str]:
    """The sentence, or its parts when it joins clauses that each stand alone (English only:
    other languages join clauses with words these rules do not know)."""
    if _foreign(language):
        return [_as_sentence(sentence, language)]
    cuts = [0]
    for match in _CLAUSE_SPLIT.finditer(sentence):
        left = sentence[cuts[-1] : match.start()]
        right = sentence[match.end() :]
        inside_quote = _QUOTE_MARKS.findall(sentence, 0, match.start())
        # "X, the first panda born in Y, and her family have become..." : after an aside set
        # off by commas, ", and" joins a compound subject, not two clauses. Only a left part
        # free of commas is taken as a clause of its own ("; " always separates clauses).
        comma_join = match.group().startswith(",")
        if (
            not (comma_join and "," in left)
            and len(inside_quote) % 2 == 0
            and len(left.split()) >= 5
            and len(right.split()) >= 5
            and _NEW_SUBJECT.match(right)
        ):
            cuts.append(match.end())
    if len(cuts) == 1:
        return [_as_sentence(sentence)]
    bounds = zip(cuts, [*cuts[1:], len(sentence)], strict=True)
    return [_as_sentence(sentence[start:end]) for start, end in bounds]


def _as_sentence(clause: str, language: str | None = None) -> str:
    clause = _LEADING_CONJUNCTION.sub("", clause.strip()).rstrip(",;: ")
    if _foreign(language):
        clause = _FOREIGN_CONJUNCTION.sub("", clause).rstrip(",;:，、；： ")
    if clause[:1].islower():
        clause = clause[0].upper() + clause[1:]
    if clause[-1:] not in _SENTENCE_ENDS:
        clause += "。" if _cjk(clause, language) else "."
    return clause


def _score(clause: str, language: str | None = None) -> float:
    found = specifics(clause, language)
    # Distinct kinds weigh fully, repeats of a kind only a little: a fact, not a list of numbers.
    score = sum(_SPECIFICS[k][0] + 0.25 * (n - 1) for k, n in found.items())
    if clause[:1] in _OPENING_QUOTES:
        score *= _QUOTE_PENALTY
    if _foreign(language) and _DANGLING_OPENER.match(clause):
        score *= _DANGLING_PENALTY
    unit = "zh" if _cjk(clause, language) else "en"
    length = text_length(clause, unit)
    if length < length_budget(6, unit):
        score *= 0.5
    elif length > (longest := length_budget(_MAX_FACT_WORDS, unit)):
        # A bullet has to be cut; very long "sentences" are often captions run into the text.
        score *= (longest / length) ** 2
    return score


def _overlap(a: _Unit, b: _Unit) -> float:
    if not a.terms or not b.terms:
        return 0.0
    return len(a.terms & b.terms) / min(len(a.terms), len(b.terms))


def _normalise(sentence: str) -> str:
    return " ".join(sentence.split()).strip().lower()
