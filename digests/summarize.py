"""Extractive summaries: two or three sentences of the piece, in their original order.

The score of a sentence mixes a position prior (news puts its point first) with TF-IDF
centrality (cosine to the document's centroid), a share of names and numbers and a length
preference; sentences are then picked greedily with maximal marginal relevance (MMR) so the
summary does not say one thing twice, under a budget. Wire datelines and boilerplate lines
(credits, "Scroll down for video", calls to sign up, shouting all-caps) are never picked. A
sentence that does not fit is passed over for one that does; the last one is cut only at a
clause boundary (a comma, a dash, or before "which", "because", "and"...).

``DEFAULT`` is what 5-fold cross-validation on the CNN/DailyMail dev set in ``../shared/bench``
chose on every fold from a small grid (``bench/summary.py``): held out, ROUGE-1 42.75 against
LEAD-3's 42.10 on the same folds, ahead on four folds of five and 0.05 behind on the fifth.
Title overlap gets no weight: with the articles' URL headlines as titles, a weight of 0.5
lowered ROUGE-1 (42.75 -> 42.05) and lost to LEAD-3 on three folds.

The budget counts words, or characters for Chinese, Japanese and Korean (``language``): 75
English words take ~19.6 s at 230 words a minute, the time of ~163 CJK characters at 500 a
minute.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from digests.sentences import split_sentences
from digests.summary_units import CJK_CHARS_PER_WORD, is_cjk, text_length, trim, trim_words

__all__ = [
    "CJK_CHARS_PER_WORD",
    "DEFAULT",
    "LEAD",
    "TUNED_ON_DEV",
    "Weights",
    "article_sentences",
    "content_terms",
    "is_boilerplate",
    "is_cjk",
    "lowered_for_hints",
    "summarize",
    "trim_words",
]


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_MIN_WORDS = 6
_LONG_WORDS = 45
_MIN_TRIM_WORDS = 10  # a trimmed last sentence shorter than this is not worth showing
_MAX_SIMILARITY = 0.8  # cosine above which a sentence repeats one already picked


@dataclass(frozen=True, slots=True)
class Weights:
    """How sentences are scored; position alone (the defaults) keeps the lead order.

    score = 1 / (1 + position_decay * rank) + centrality * cosine to the centroid
    + title * share of title terms + specificity * share of names and numbers, times
    quote_penalty for a sentence opening with a quote and, with length_penalty, less for very
    short or long sentences; the next sentence maximises mmr_lambda * score - (1 - mmr_lambda)
    * similarity to those already picked.
    """

    centrality: float = 0.0
    title: float = 0.0
    specificity: float = 0.0
    position_decay: float = 1.0
    quote_penalty: float = 1.0
    length_penalty: bool = False
    mmr_lambda: float = 1.0


LEAD = Weights()
# Chosen by cross-validation (see the module docstring); the title weight could not be.
DEFAULT = Weights(
    centrality=1.0,
    specificity=0.2,
    quote_penalty=0.7,
    length_penalty=True,
    mmr_lambda=0.7,
)
# The mix this module used before cross-validation (chosen on the whole dev set, with a title
# weight): kept so the bench can show what it scores on held-out folds.
TUNED_ON_DEV = Weights(
    centrality=1.0,
    title=0.5,
    specificity=0.2,
    quote_penalty=0.7,
    length_penalty=True,
    mmr_lambda=0.7,
)

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
    r"^(?:[A-Z][\w.'’\-]*(?: [A-Z][\w.'’\-]*){0,3}(?:,[^()]{1,30})?\s*)?"
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
    language: str | None = None,
    weights: Weights = DEFAULT,
) -> list[str]:
    """Pick up to ``max_sentences`` sentences of ``text`` (in order), at most ``max_words`` words.

    For Chinese, Japanese and Korean (``language`` "zh", "ja", "ko", with or without a region)
    the budget is ``max_words * CJK_CHARS_PER_WORD`` characters (spaces not counted) instead.
    Returns at least one sentence when ``text`` has any; the last one is trimmed at a clause
    boundary (ending in "…") when that is the only way to stay within the budget.
    ``sentences``, when given, must be ``article_sentences(text)``: a caller that also asks for
    key facts splits the text once for both.
    """
    if sentences is None:
        sentences = article_sentences(text)
    if not sentences:
        return []
    cjk = is_cjk(language)
    budget = max(1, max_words)
    if cjk:
        budget = max(1, round(budget * CJK_CHARS_PER_WORD))
    usable = [i for i, s in enumerate(sentences) if not is_boilerplate(s)] or list(
        range(len(sentences))
    )
    candidates = _score(sentences, usable, title, weights, cjk)
    chosen = _select(
        candidates,
        budget=budget,
        max_sentences=max(1, max_sentences),
        mmr_lambda=weights.mmr_lambda,
        cjk=cjk,
    )
    return [part for _, part in sorted(chosen)]


def article_sentences(text: str) -> list[str]:
    """The sentences of ``text`` without a leading wire dateline such as "(CNN)"."""
    sentences = split_sentences(text)
    if sentences:
        sentences[0] = _DATELINE.sub("", sentences[0], count=1)
    return [s for s in sentences if s]


# The summary and the key facts of a card both ask about every sentence: the second asks here.
# Sized for one card's sentences, not many cards': across articles sentences hardly repeat,
# and 4,096 entries of both caches held ~5 MB that grew into a worker's memory over its first
# hundred cards (bench/ingest.py rss).
_SENTENCE_CACHE = 1024


@functools.lru_cache(maxsize=_SENTENCE_CACHE)
def is_boilerplate(sentence: str) -> bool:
    """True for credits, widgets and calls to action that never belong in a summary."""
    letters = "".join(filter(str.isalpha, sentence))
    # 12 letters is two or three English words; a CJK character is a word or half of one.
    if len(letters) < (5 if _CJK_CHAR.search(letters) else 12):
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
    return list(_content_terms(text))


# Asked for each sentence by the summary and again for the key facts' candidates.
@functools.lru_cache(maxsize=_SENTENCE_CACHE)
def _content_terms(text: str) -> tuple[str, ...]:
    return tuple(
        _stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and len(w) > 1
    )


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


def _score(
    sentences: Sequence[str],
    usable: Sequence[int],
    title: str | None,
    weights: Weights,
    cjk: bool,
) -> list[_Candidate]:
    terms = {i: _terms(sentences[i], cjk) for i in usable}
    doc_freq: Counter[str] = Counter()
    for i in usable:
        doc_freq.update(set(terms[i]))
    n = len(usable)
    idf = {t: math.log((1 + n) / (1 + df)) + 1.0 for t, df in doc_freq.items()}
    vectors = {i: _unit(_tfidf(terms[i], idf)) for i in usable}
    centroid = _unit(_sum_vectors(vectors.values())) if weights.centrality else {}
    title_terms = set(_terms(title, cjk)) if title and weights.title else set()

    candidates = []
    for rank, i in enumerate(usable):
        length = text_length(sentences[i], cjk)
        score = 1.0 / (1.0 + weights.position_decay * rank)
        if weights.centrality:
            score += weights.centrality * _cosine(vectors[i], centroid)
        if title_terms:
            overlap = len(title_terms & set(terms[i])) / len(title_terms)
            score += weights.title * overlap
        if weights.specificity and not cjk:
            score += weights.specificity * _specificity(sentences[i])
        if sentences[i][:1] in "\"“‘'「『":
            score *= weights.quote_penalty
        if weights.length_penalty and not cjk:
            if length < _MIN_WORDS:
                score *= 0.5
            elif length > _LONG_WORDS:
                score *= _LONG_WORDS / length
        candidates.append(_Candidate(i, sentences[i], length, vectors[i], score))
    return candidates


_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
_LATIN_WORD = re.compile(r"[^\W\d_]{2,}|\d[\d.,]*")


def _terms(text: str, cjk: bool) -> list[str]:
    """Content terms for similarity: English words stemmed; character bigrams for CJK runs
    (no spaces to split on, and no word list to segment with)."""
    if not cjk:
        return list(_content_terms(text))
    terms = [w.lower() for w in _LATIN_WORD.findall(_CJK_RUN.sub(" ", text))]
    for run in _CJK_RUN.findall(text):
        terms.extend(run[k : k + 2] for k in range(max(1, len(run) - 1)))
    return terms


_SPECIFIC_TOKEN = re.compile(r"(?<!^)(?<![.!?] )\b(?:[A-Z][a-z]+|[A-Z]{2,}|\d[\d.,]*)")


def _specificity(sentence: str) -> float:
    """Share of words that are names or numbers (not counting the sentence's first word)."""
    words = len(sentence.split())
    return min(1.0, 2 * len(_SPECIFIC_TOKEN.findall(sentence)) / words) if words else 0.0


def _select(
    candidates: list[_Candidate],
    *,
    budget: int,
    max_sentences: int,
    mmr_lambda: float,
    cjk: bool,
) -> list[tuple[int, str]]:
    chosen: list[_Candidate] = []
    parts: list[tuple[int, str]] = []
    pool = list(candidates)
    min_trim = _MIN_TRIM_WORDS * (CJK_CHARS_PER_WORD if cjk else 1)
    # Each candidate's highest cosine to a chosen sentence, updated as sentences are chosen
    # rather than recomputed against all of them at every step.
    redundancy: dict[int, float] = {}
    while pool and len(chosen) < max_sentences and budget > 0:
        best = max(pool, key=lambda c: _mmr(c, redundancy.get(c.index), mmr_lambda))
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
        # Cutting the best sentence at a clause says more than a weaker sentence that fits;
        # too little room left for a clause ends the summary.
        if not chosen:
            parts.append((best.index, trim(best.text, budget, cjk=cjk) or best.text))
            break
        if budget >= min_trim:
            # After the first sentence, only a cut at a clause boundary reads as a statement;
            # "... between 1 and 3 percent of…" reads as a loss. Without one, look further.
            clause = trim(best.text, budget, cjk=cjk, clause_only=True)
            if clause is not None:
                parts.append((best.index, clause))
                break
            continue
        break
    return parts


def _mmr(candidate: _Candidate, redundancy: float | None, mmr_lambda: float) -> float:
    """Relevance less similarity to the sentences chosen so far (``None``: none chosen yet)."""
    if redundancy is None:
        return candidate.score
    return mmr_lambda * candidate.score - (1.0 - mmr_lambda) * redundancy


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
