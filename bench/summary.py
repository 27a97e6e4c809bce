"""Summary quality and speed against LEAD-3 on the CNN/DailyMail dev set, in one run.

Usage (from the repo root)::

    /work/venv/bin/python bench/summary.py [--max-words 75] [--limit N]

Prints ROUGE-1/2/L F-measure x100 (Google's ``rouge-score``, ``use_stemmer=True``) of
``digests.summarize.summarize`` and of LEAD-3 cut to the same word budget, the median ms per
article of each, and the median ms per article of the whole reading step of a card
(summarize + key_facts + tag). The data stays in ``../shared/bench/`` (never copied here).

Note: the summarizer's few weights were tuned on this same dev set.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from rouge_score import rouge_scorer

from digests.facts import key_facts
from digests.sentences import split_sentences
from digests.summarize import summarize
from digests.topics import Taxonomy

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "bench" / "cnndm-dev.jsonl"
TAXONOMY = REPO / "config" / "topics.toml"
METRICS = ("rouge1", "rouge2", "rougeL")


def lead3(text: str, max_words: int) -> list[str]:
    words = " ".join(split_sentences(text)[:3]).split()
    return [" ".join(words[:max_words])]


def run(
    name: str,
    system: Callable[[str], list[str]],
    rows: list[dict[str, str]],
    scorer: rouge_scorer.RougeScorer,
) -> dict[str, float]:
    totals = dict.fromkeys(METRICS, 0.0)
    times: list[float] = []
    sentences = 0
    for row in rows:
        start = time.perf_counter()
        summary = system(row["article"])
        times.append(time.perf_counter() - start)
        sentences += len(split_sentences(row["article"]))
        scores = scorer.score(row["reference"], " ".join(summary))
        for metric in METRICS:
            totals[metric] += scores[metric].fmeasure
    result = {m: 100 * totals[m] / len(rows) for m in METRICS}
    result["ms"] = 1000 * statistics.median(times)
    result["sent_per_s"] = sentences / sum(times)
    print(
        f"{name:<12} {result['rouge1']:7.2f} {result['rouge2']:7.2f} {result['rougeL']:7.2f}"
        f" {result['ms']:9.3f} {result['sent_per_s']:11.0f}"
    )
    return result


def card_reading_ms(rows: list[dict[str, str]], max_words: int) -> float:
    taxonomy = Taxonomy.load(TAXONOMY)
    times = []
    for row in rows:
        start = time.perf_counter()
        summary = summarize(row["article"], max_words=max_words)
        key_facts(row["article"], exclude=summary)
        taxonomy.tag(title="", text=row["article"])
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-words", type=int, default=75)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    if args.limit:
        rows = rows[: args.limit]
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    print(f"{len(rows)} articles from {DATA}, <= {args.max_words} words")
    print(f"{'system':<12} {'R-1':>7} {'R-2':>7} {'R-L':>7} {'ms/art':>9} {'sentences/s':>11}")
    run("LEAD-3", lambda text: lead3(text, args.max_words), rows, scorer)
    run("summarize", lambda text: summarize(text, max_words=args.max_words), rows, scorer)
    ms = card_reading_ms(rows, args.max_words)
    print(f"summarize + key_facts + tag: median {ms:.3f} ms/article")


if __name__ == "__main__":
    main()
