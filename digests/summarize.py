"""Extractive summaries: two or three sentences of the piece, in their original order.

A bare graph ranking (LexRank, TextRank) scores below LEAD-3 on news, because news puts its
point first. So the score of a sentence mixes a position prior with TF-IDF centrality (cosine to
the document's centroid), overlap with the title and a length preference; sentences are then
picked greedily with maximal marginal relevance (MMR) so the summary does not say one thing
twice, under a word budget. Boilerplate lines (credits, "Scroll down for video", calls to sign
up, shouting all-caps) are never picked.

The weights are few and were tuned on the CNN/DailyMail dev set in ``../shared/bench``
(``bench/summary.py``); see that script for the figures beside LEAD-3.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from digests.sentences import split_sentences

__all__ = [
    "article_sentences",
    "content_terms",
    "is_boilerplate",
    "lowered_for_hints",
    "summarize",
    "trim_words",
]


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Score weights (tuned on the dev set; see module docstring).
_W_POSITION = 1.0
_W_CENTRALITY = 1.0
_W_TITLE = 0.5
_W_SPECIFIC = 0.2
_POSITION_DECAY = 1.0  # position prior = 1 / (1 + decay * index)
_MMR_LAMBDA = 0.7  # share of relevance vs. novelty when picking the next sentence
_MAX_SIMILARITY = 0.8  # cosine above which a sentence repeats one already picked
_MIN_WORDS = 6
_LONG_WORDS = 45
_QUOTE_PENALTY = 0.7
_MIN_TRIM_WORDS = 10  # a trimmed last sentence shorter than this is not worth showing

_STOPWORDS = _word_set(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself said says
    say one two new year years mr mrs ms would could told also may might must shall us
    """
)

_WORD = re.compile(r"[a-z0-9]+(?:['’](?!s\b)[a-z]+)?")
# "(CNN)", "LONDON (Reuters) -", "WASHINGTON, May 3 (AP) --": wire datelines, not content.
_DATELINE = re.compile(
    r"^(?:[A-Z][A-Z.\-]+(?: [A-Z][A-Z.\-]+)*(?:,[^()]{1,30})?\s*)?"
    r"\((?:CNN|Reuters|AP|AFP|Xinhua|UPI|Bloomberg|dpa)\)\s*(?:[-–—]+\s*)?"
)
# Boilerplate patterns, split so that the costly part runs on few sentences: the first set
# only at the start (a cheap ``match``), the second anywhere, and that ``search`` only when the
# sentence holds one of its literal words (a ``search`` here costs ~15 µs a sentence).
_BOILERPLATE_START = re.compile(
    r"""
    (?:sign\ up|subscribe|read\ more|follow\ us|share\ this|download\ (?:the|our)\ app)\b
    | \s*(?:photo|image|video|file|source|credit)s?\s*:
    | \(?\s*if\ you\ want\ to\ contribute | editor'?s\ note
    """,
    re.VERBOSE | re.IGNORECASE,
)
_BOILERPLATE_ANYWHERE = re.compile(
    r"""
    click\ (?:here|on\ the) | scroll\ down\ for | (?:our|this|free)\ newsletter
    | all\ rights\ reserved | cookie\ (?:policy|settings) | use\ of\ cookies | privacy\ policy
    | /\s*(?:cfp|afp|reuters|getty(?:\ images)?|ap|xinhua|ic)\s*$
    | contributed\ (?:to\ )?this\ report
    """,
    re.VERBOSE | re.IGNORECASE,
)
# Every ``_BOILERPLATE_ANYWHERE`` match holds one of these (in lower case).
_ANYWHERE_HINTS = (
    "click",
    "scroll",
    "newsletter",
    "reserved",
    "cookie",
    "privacy",
    "/",
    "contributed",
)
# The only non-ASCII characters that re.IGNORECASE matches to ASCII letters ("ſ" to "s"):
# ``str.lower`` does not fold them, so a sentence holding one skips the hint check.
_REGEX_ONLY_FOLDS = re.compile("[\u0130\u0131\u017f\u212a]")


@dataclass(frozen=True, slots=True)
class _Candidate:
    index: int
    text: str
    words: int
    vector: dict[str, float]
    score: float


def summarize(
    text: str,
    *,
    max_words: int = 75,
    max_sentences: int = 3,
    title: str | None = None,
    sentences: Sequence[str] | None = None,
) -> list[str]:
    """Pick up to ``max_sentences`` sentences of ``text`` (in order), at most ``max_words`` words.

    Returns at least one sentence when ``text`` has any; the last one is trimmed at a clause
    boundary (ending in "…") when that is the only way to stay within the budget.
    ``sentences``, when given, must be ``article_sentences(text)``: a caller that also asks for
    key facts splits the text once for both.
    """
    if sentences is None:
        sentences = article_sentences(text)
    if not sentences:
        return []
    usable = [i for i, s in enumerate(sentences) if not is_boilerplate(s)] or list(
        range(len(sentences))
    )
    candidates = _score(sentences, usable, title)
    chosen = _select(candidates, max_words=max(1, max_words), max_sentences=max(1, max_sentences))
    return [part for _, part in sorted(chosen)]


def article_sentences(text: str) -> list[str]:
    """The sentences of ``text`` without a leading wire dateline such as "(CNN)"."""
    sentences = split_sentences(text)
    if sentences:
        sentences[0] = _DATELINE.sub("", sentences[0], count=1)
    return [s for s in sentences if s]


def is_boilerplate(sentence: str) -> bool:
    """True for credits, widgets and calls to action that never belong in a summary."""
    letters = "".join(filter(str.isalpha, sentence))
    if len(letters) < 12:
        return True
    if sum(map(str.isupper, letters)) > 0.6 * len(letters):
        return True
    if _BOILERPLATE_START.match(sentence):
        return True
    lowered = lowered_for_hints(sentence)
    if lowered is not None and not any(hint in lowered for hint in _ANYWHERE_HINTS):
        return False
    return _BOILERPLATE_ANYWHERE.search(sentence) is not None


def lowered_for_hints(text: str) -> str | None:
    """``text`` in lower case, for substring tests that spare a case-insensitive regex scan.

    ``None`` when such a test could miss a match: ``text`` holds a character that
    re.IGNORECASE equates with an ASCII letter but ``str.lower`` does not fold to it.
    """
    return None if _REGEX_ONLY_FOLDS.search(text) else text.lower()


def content_terms(text: str) -> list[str]:
    """Lower-cased, crudely stemmed content words of ``text`` (stopwords dropped)."""
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and len(w) > 1]


def _stem(word: str) -> str:
    # Just enough folding for overlap between "talks"/"talk" and "trading"/"trade". Suffixes are
    # tried in the order "ies", "ing", "ed", "es", "s"; dispatching on the last letter first
    # only skips those that cannot match (this runs for every word of every sentence).
    last = word[-1:]
    if last == "s":
        suffixes: tuple[tuple[str, str], ...] = _S_SUFFIXES
    elif last == "g":
        suffixes = _G_SUFFIXES
    elif last == "d":
        suffixes = _D_SUFFIXES
    else:
        return word
    for suffix, keep in suffixes:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + keep
    return word


_S_SUFFIXES = (("ies", "y"), ("es", ""), ("s", ""))
_G_SUFFIXES = (("ing", ""),)
_D_SUFFIXES = (("ed", ""),)


def _score(sentences: Sequence[str], usable: Sequence[int], title: str | None) -> list[_Candidate]:
    terms = {i: content_terms(sentences[i]) for i in usable}
    doc_freq: Counter[str] = Counter()
    for i in usable:
        doc_freq.update(set(terms[i]))
    n = len(usable)
    idf = {t: math.log((1 + n) / (1 + df)) + 1.0 for t, df in doc_freq.items()}
    vectors = {i: _unit(_tfidf(terms[i], idf)) for i in usable}
    centroid = _unit(_sum_vectors(vectors.values()))
    title_terms = set(content_terms(title)) if title else set()

    candidates = []
    for rank, i in enumerate(usable):
        words = len(sentences[i].split())
        centrality = _cosine(vectors[i], centroid)
        overlap = len(title_terms & set(terms[i])) / len(title_terms) if title_terms else 0.0
        score = (
            _W_POSITION / (1.0 + _POSITION_DECAY * rank)
            + _W_CENTRALITY * centrality
            + _W_TITLE * overlap
            + _W_SPECIFIC * _specificity(sentences[i])
        )
        if sentences[i][:1] in "\"“‘'":
            score *= _QUOTE_PENALTY
        if words < _MIN_WORDS:
            score *= 0.5
        elif words > _LONG_WORDS:
            score *= _LONG_WORDS / words
        candidates.append(_Candidate(i, sentences[i], words, vectors[i], score))
    return candidates


_SPECIFIC_TOKEN = re.compile(r"(?<!^)(?<![.!?] )\b(?:[A-Z][a-z]+|[A-Z]{2,}|\d[\d.,]*)")


def _specificity(sentence: str) -> float:
    """Share of words that are names or numbers (not counting the sentence's first word)."""
    words = len(sentence.split())
    return min(1.0, 2 * len(_SPECIFIC_TOKEN.findall(sentence)) / words) if words else 0.0


def _select(
    candidates: list[_Candidate], *, max_words: int, max_sentences: int
) -> list[tuple[int, str]]:
    chosen: list[_Candidate] = []
    parts: list[tuple[int, str]] = []
    budget = max_words
    pool = list(candidates)
    # Each candidate's highest cosine to a chosen sentence, updated as sentences are chosen
    # rather than recomputed against all of them at every step.
    redundancy: dict[int, float] = {}
    while pool and len(chosen) < max_sentences and budget > 0:
        best = max(pool, key=lambda c: _mmr(c, redundancy.get(c.index)))
        pool.remove(best)
        if chosen and redundancy[best.index] > _MAX_SIMILARITY:
            continue  # a repeat (pull quote, restated lead) adds nothing
        if best.words <= budget:
            chosen.append(best)
            parts.append((best.index, best.text))
            budget -= best.words
            for other in pool:
                similarity = _cosine(other.vector, best.vector)
                redundancy[other.index] = max(redundancy.get(other.index, similarity), similarity)
            continue
        # Cutting the best sentence at a clause says more than a weaker sentence that fits
        # (measured on the dev set); too little room left for a clause ends the summary.
        if not chosen:
            parts.append((best.index, trim_words(best.text, budget) or best.text))
            break
        if budget >= _MIN_TRIM_WORDS:
            # After the first sentence, only a cut at a clause boundary reads as a statement;
            # "... between 1 and 3 percent of…" reads as a loss. Without one, look further.
            clause = trim_words(best.text, budget, clause_only=True)
            if clause is not None:
                parts.append((best.index, clause))
                break
            continue
        break
    return parts


def _mmr(candidate: _Candidate, redundancy: float | None) -> float:
    """Relevance less similarity to the sentences chosen so far (``None``: none chosen yet)."""
    if redundancy is None:
        return candidate.score
    return _MMR_LAMBDA * candidate.score - (1.0 - _MMR_LAMBDA) * redundancy


_CLAUSE_END = re.compile(r"[,;:–—]$|^-+$")


def trim_words(sentence: str, budget: int, *, clause_only: bool = False) -> str | None:
    """Cut ``sentence`` to at most ``budget`` words, at a clause boundary when there is one.

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
        if _CLAUSE_END.search(head[end - 1]):
            head = head[:end]
            break
    else:
        if clause_only:
            return None
    return " ".join(head).rstrip(",;:–—- ") + "…"


def _tfidf(terms: Iterable[str], idf: dict[str, float]) -> dict[str, float]:
    counts = Counter(terms)
    return {t: (1.0 + math.log(c)) * idf[t] for t, c in counts.items()}


def _sum_vectors(vectors: Iterable[dict[str, float]]) -> dict[str, float]:
    total: Counter[str] = Counter()
    for v in vectors:
        total.update(v)
    return dict(total)


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(x * x for x in vector.values()))
    return {t: x / norm for t, x in vector.items()} if norm else {}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    # The generator this replaces, sum(x * b.get(t, 0.0) for t, x in a.items()), was the
    # summary's hottest line; the same products in the same order, without the frame.
    return sum(map(operator.mul, a.values(), map(b.get, a, itertools.repeat(0.0))))
