"""The LLM summary guard's catches and false rejections on a labelled set built by rule from the
CNN/DailyMail dev articles (``../shared/bench/cnndm-dev.jsonl``; nothing is copied here).

For each article two faithful summaries:

* ``rewrite``: the article's first sentences (<= 75 words) rewritten by meaning-preserving
  rules: an attribution opening ("The article reports that ..."), figures in another notation
  ("5,000" -> "5000", "percent" -> "%", "$2 million" -> "2 million dollars", small numbers as
  words and words as numbers), the "(CNN)" dateline dropped;
* ``reference``: the human-written highlights of the data set (detokenised). They are real
  abstractive summaries, but CNN/DM highlights are known to state things the article does not
  (the editors wrote them from the whole page): some of their "false rejections" are true
  catches; a sample is printed for reading.

and, from each faithful one, corrupted versions where the rule applies:

* ``figure``: one figure changed to a value the article never states (n -> n+1, x2, year+1 ...);
* ``figure-swap``: one figure replaced by another figure of the same article (wrong, but every
  figure is still in the article: the guard cannot see this);
* ``name``: one name replaced by a name from another article;
* ``name-swap``: one name replaced by another name of the same article (cannot see);
* ``negation``: "is" -> "is not" (or was/are/were/has/have/will/can) in the first sentence where
  one occurs (cannot see: no figure or name changes).

Reports, per set: how many the guard rejects (for corruptions: caught; for faithful: false
rejections) with the reasons, the guard's precision and recall over all faithful + detectable
corruptions, and the median time of one check.

    python bench/llm_guard.py [--limit N] [--show 5]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from digests.lang import detect_language  # noqa: E402
from digests.llm import DEFAULT_PROMPT, Prompt  # noqa: E402
from digests.llm_guard import (  # noqa: E402
    GuardInput,
    check_summary,
    figure_pool,
    figures,
    names,
)
from digests.sentences import split_sentences  # noqa: E402
from digests.summarize import article_sentences, summarize  # noqa: E402

DATA = REPO.parent / "shared" / "bench" / "cnndm-dev.jsonl"
DETECTABLE = ("figure", "name")
BLIND = ("figure-swap", "name-swap", "negation")
NUMBER_WORDS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve"]  # fmt: skip
LOWER_OPENERS = {"The", "A", "An", "It", "He", "She", "They", "This", "That", "In", "On", "At"}


@dataclass(frozen=True)
class Case:
    article_id: str
    kind: str  # "rewrite" | "reference" | a corruption kind
    base: str  # "rewrite" | "reference"
    summary: str
    article: str


def detokenise(text: str) -> str:
    """PTB-tokenised highlights back to prose: "we 're" -> "we're", "`` x ''" -> '"x"'."""
    text = re.sub(r"``\s*|\s*''", '"', text)
    text = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", text)
    text = re.sub(r" ([.,;:!?%)])", r"\1", text)
    text = re.sub(r"([($]) ", r"\1", text)
    return text.strip()


def lead(article: str, max_words: int = 75) -> str:
    kept: list[str] = []
    for sentence in article_sentences(article):
        if len(" ".join([*kept, sentence]).split()) > max_words:
            break
        kept.append(sentence)
    return " ".join(kept) or " ".join(article.split()[:max_words])


def _small_number_to_word(match: re.Match[str]) -> str:
    value = int(match.group(0))
    return NUMBER_WORDS[value - 2] if 2 <= value <= 12 else match.group(0)


def rewrite(text: str) -> str:
    """Meaning-preserving edits by rule."""
    text = re.sub(r"(\d),(\d{3})\b", r"\1\2", text)  # 5,000 -> 5000
    text = re.sub(r"(\d) percent\b", r"\1%", text)
    text = re.sub(r"\$(\d[\d.]*) (million|billion)", r"\1 \2 dollars", text)
    text = re.sub(r"(?<![\d.,$])\b(?:[2-9]|1[0-2])\b(?![\d.,%])", _small_number_to_word, text)
    opener = text.split(" ", 1)[0]
    first = text[:1].lower() + text[1:] if opener in LOWER_OPENERS else text
    return f"The article reports that {first}"


def corrupt_figure(summary: str, article: str, rng: random.Random) -> str | None:
    pool = figure_pool([article], "en")
    found = [f for f in re.finditer(r"(?<![\d.,])\d+(?:[.,]\d+)*", summary)]
    if not found:
        return None
    match = rng.choice(found)
    raw = match.group(0).replace(",", "")
    value = float(raw)
    is_year = 1900 <= value <= 2100
    candidates = [value + 1, value - 1, value + 2] if is_year else [
        value + 1, value * 2, value + 10, value + 3
    ]  # fmt: skip
    for new in candidates:
        text = f"{new:g}" if "." in raw else str(int(new))
        if not ({v for f in figures(text, "en") for v in f.values} & pool):
            return summary[: match.start()] + text + summary[match.end() :]
    return None


def swap_figure(summary: str, article: str, rng: random.Random) -> str | None:
    found = list(re.finditer(r"(?<![\d.,])\d+(?:[.,]\d+)*", summary))
    others = sorted({m.group(0) for m in re.finditer(r"(?<![\d.,])\d+(?:,\d{3})*", article)})
    if not found:
        return None
    match = rng.choice(found)
    others = [o for o in others if o.replace(",", "") != match.group(0).replace(",", "")]
    if not others:
        return None
    return summary[: match.start()] + rng.choice(others) + summary[match.end() :]


def _summary_names(summary: str) -> list[str]:
    return [name for name, start in names(summary, language="en") if not start and len(name) > 2]


def corrupt_name(summary: str, article: str, foreign: list[str], rng: random.Random) -> str | None:
    candidates = _summary_names(summary)
    if not candidates:
        return None
    target = rng.choice(candidates)
    lowered = article.casefold()
    options = [n for n in foreign if n.casefold() not in lowered]
    if not options:
        return None
    return re.sub(rf"\b{re.escape(target)}\b", rng.choice(options), summary, count=1)


def swap_name(summary: str, article: str, rng: random.Random) -> str | None:
    candidates = _summary_names(summary)
    article_names = sorted({n for n, start in names(article, language="en") if not start})
    if not candidates:
        return None
    target = rng.choice(candidates)
    options = [n for n in article_names if n != target and len(n) > 2]
    if not options:
        return None
    return re.sub(rf"\b{re.escape(target)}\b", rng.choice(options), summary, count=1)


def negate(summary: str) -> str | None:
    match = re.search(r"\b(is|was|are|were|has|have|will|can)\b(?! not)", summary)
    if match is None:
        return None
    return summary[: match.end()] + " not" + summary[match.end() :]


def build_cases(rows: list[dict[str, str]], seed: int = 14) -> list[Case]:
    rng = random.Random(seed)
    foreign_names = [name for row in rows for name in _summary_names(detokenise(row["reference"]))]
    cases: list[Case] = []
    for row in rows:
        article = row["article"]
        bases = {"rewrite": rewrite(lead(article)), "reference": detokenise(row["reference"])}
        others = [n for n in foreign_names if n.casefold() not in article.casefold()]
        for base, summary in bases.items():
            cases.append(Case(row["id"], base, base, summary, article))
            made: dict[str, str | None] = {
                "figure": corrupt_figure(summary, article, rng),
                "figure-swap": swap_figure(summary, article, rng),
                "name": corrupt_name(summary, article, others, rng),
                "name-swap": swap_name(summary, article, rng),
                "negation": negate(summary),
            }
            for kind, text in made.items():
                if text is not None and text != summary:
                    cases.append(Case(row["id"], kind, base, text, article))
    return cases


def judge(case: Case, instructions: str) -> tuple[bool, str | None, float]:
    started = time.perf_counter()
    verdict = check_summary(
        case.summary,
        GuardInput(
            text=case.article,
            language="en",
            budget=10**6,  # the budget check is not what this measures
            instructions=instructions,
        ),
        length=lambda text: len(text.split()),
        detect_language=detect_language,
    )
    return verdict.accepted, verdict.reason, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--show", type=int, default=5, help="false rejections to print per set")
    args = parser.parse_args()
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    if args.limit:
        rows = rows[: args.limit]
    instructions = Prompt.load(DEFAULT_PROMPT).instructions(language="en", budget=75, cjk=False)
    cases = build_cases(rows)
    results = [(case, *judge(case, instructions)) for case in cases]
    # The author's own sentences can hold nothing the article lacks: any rejection is a bug.
    verbatim = [
        Case(row["id"], "verbatim", "verbatim", " ".join(summarize(row["article"])), row["article"])
        for row in rows
    ]
    verbatim_rejected = [
        (case, reason)
        for case in verbatim
        for ok, reason, _ in [judge(case, instructions)]
        if not ok
    ]

    print(f"{len(rows)} articles, {len(cases)} summaries (seed 14)\n")
    print(f"extractive summaries (verbatim sentences): {len(verbatim_rejected)} of "
          f"{len(verbatim)} rejected {[r for _, r in verbatim_rejected][:5]}\n")  # fmt: skip
    print(f"{'set':<22} {'n':>4} {'rejected':>9}  reasons")
    for base in ("rewrite", "reference"):
        for kind in (base, *DETECTABLE, *BLIND):
            chosen = [r for r in results if r[0].base == base and r[0].kind == kind]
            if not chosen:
                continue
            rejected = [r for r in chosen if not r[1]]
            reasons = Counter(r[2] for r in rejected)
            label = f"{base}/{kind}" if kind != base else f"{base} (faithful)"
            share = len(rejected) / len(chosen)
            print(f"{label:<22} {len(chosen):>4} {len(rejected):>4} {share:>5.0%}  "
                  f"{dict(reasons.most_common())}")  # fmt: skip

    def scores(base: str, kinds: tuple[str, ...]) -> tuple[float, float]:
        faithful = [r for r in results if r[0].base == base and r[0].kind == base]
        bad = [r for r in results if r[0].base == base and r[0].kind in kinds]
        caught = sum(not r[1] for r in bad)
        false = sum(not r[1] for r in faithful)
        precision = caught / (caught + false) if caught + false else 0.0
        return precision, caught / len(bad) if bad else 0.0

    print("\nrejection as the positive class (a corruption is what should be rejected):")
    for base in ("rewrite", "reference"):
        p, r = scores(base, DETECTABLE)
        pa, ra = scores(base, DETECTABLE + BLIND)
        print(f"  {base:<10} changed figure/name: precision {p:.3f} recall {r:.3f};  "
              f"all corruptions incl. blind kinds: precision {pa:.3f} recall {ra:.3f}")  # fmt: skip

    times = [r[3] for r in results]
    print(f"\nguard time per summary: median {statistics.median(times) * 1000:.2f} ms, "
          f"max {max(times) * 1000:.1f} ms")  # fmt: skip
    show: Callable[[str], None] = print
    for base in ("rewrite", "reference"):
        wrong = [r for r in results if r[0].base == base and r[0].kind == base and not r[1]]
        if wrong and args.show:
            show(f"\nsample of rejected {base} summaries (reason: summary):")
            for case, _, reason, _ in wrong[: args.show]:
                detail = check_summary(
                    case.summary,
                    GuardInput(text=case.article, language="en", budget=10**6),
                    length=lambda text: len(text.split()),
                    detect_language=detect_language,
                ).detail
                show(f"  [{reason}: {detail}] {' '.join(split_sentences(case.summary))[:160]}")


if __name__ == "__main__":
    main()
