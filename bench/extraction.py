"""Main-text extraction quality and speed: our ``extract_article`` beside bare trafilatura.

Data: ``../shared/bench/aeb-dev`` (scrapinghub article-extraction-benchmark pages with
human-made ``articleBody``), resolved relative to the repository root and never copied in.

Scoring follows the benchmark's own convention: 4-gram shingles of ``\\w+`` tokens (case kept),
per-page precision and recall from the shingle multisets, then F1 = 2PR/(P+R) over the mean P
and mean R across pages.

Run: ``/work/venv/bin/python bench/extraction.py [--diff N] [--only ours|...]``
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from digests import extract as extract_module
from digests.errors import ExtractionError
from digests.extract import extract_article

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "bench" / "aeb-dev"
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class PageScore:
    tp: float
    fp: float
    fn: float

    @property
    def precision(self) -> float | None:
        if self.tp + self.fp == 0:
            return None  # page ignored in the mean, as the benchmark does
        return 1.0 if self.fp == self.fn == 0 else self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        if self.tp + self.fn == 0:
            return None
        return 1.0 if self.fp == self.fn == 0 else self.tp / (self.tp + self.fn)


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    grams = (tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))
    return Counter(g for g in grams if g)


def score_page(truth: str, predicted: str) -> PageScore:
    want, got = shingles(truth), shingles(predicted)
    tp = float(sum((want & got).values()))
    fp = float(sum((got - want).values()))
    fn = float(sum((want - got).values()))
    total = tp + fp + fn
    if total:
        tp, fp, fn = tp / total, fp / total, fn / total
    return PageScore(tp, fp, fn)


def summarise(scores: list[PageScore]) -> tuple[float, float, float]:
    precision = statistics.mean(p for s in scores if (p := s.precision) is not None)
    recall = statistics.mean(r for s in scores if (r := s.recall) is not None)
    return 2 * precision * recall / (precision + recall), precision, recall


def load_pages() -> list[tuple[str, str, str, str]]:
    """``(id, url, html, truth)`` for every page, HTML decoded as the benchmark does."""
    truth = json.loads((DATA / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(truth):
        with gzip.open(DATA / "html" / f"{page_id}.html.gz", "rt", encoding="utf8") as handle:
            html = handle.read()
        pages.append((page_id, truth[page_id]["url"], html, truth[page_id]["articleBody"]))
    return pages


def ours(html: str, url: str) -> str:
    try:
        return extract_article(html, url).text
    except ExtractionError:
        return ""


def ours_full_cascade(html: str, url: str) -> str:
    """``ours`` with trafilatura's full cascade (readability and jusText compared) on every
    page, as before it ran only where the fast extraction is doubtful: the text it would give.
    Its time is that of both extractions, so only its F1 is the comparison."""
    doubtful = extract_module._doubtful
    extract_module._doubtful = lambda _document: True
    try:
        return ours(html, url)
    finally:
        extract_module._doubtful = doubtful


Extractor = Callable[[str, str], str]
EXTRACTORS: dict[str, Extractor] = {
    "ours: extract_article().text": ours,
    "trafilatura.extract(html)": lambda html, _url: trafilatura.extract(html) or "",
    "trafilatura.extract(html, include_comments=False)": lambda html, _url: (
        trafilatura.extract(html, include_comments=False) or ""
    ),
    "ours, full cascade on every page (F1 only)": ours_full_cascade,
}


def run(pages: list[tuple[str, str, str, str]], extract: Extractor) -> tuple[list[str], float]:
    started = time.perf_counter()
    outputs = [extract(html, url) for _id, url, html, _truth in pages]
    return outputs, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--diff", type=int, default=0, help="show the N pages where ours loses most F1 vs bare"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="timed passes per extractor, interleaved (median)"
    )
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"benchmark data not found at {DATA}", file=sys.stderr)
        return 1
    pages = load_pages()
    for extract in EXTRACTORS.values():
        extract(pages[0][2], pages[0][1])  # warm caches and lazy imports outside the timing
    # Rounds interleave the extractors so that a busy machine slows them all alike.
    timings: dict[str, list[float]] = {name: [] for name in EXTRACTORS}
    outputs_by_name: dict[str, list[str]] = {}
    for _ in range(max(1, args.rounds)):
        for name, extract in EXTRACTORS.items():
            outputs, seconds = run(pages, extract)
            outputs_by_name[name] = outputs
            timings[name].append(seconds)
    results: dict[str, tuple[list[PageScore], list[str], float]] = {}
    for name, outputs in outputs_by_name.items():
        scores = [score_page(p[3], out) for p, out in zip(pages, outputs, strict=True)]
        results[name] = (scores, outputs, statistics.median(timings[name]))

    print(f"{len(pages)} pages from {DATA}; speed = median of {args.rounds} interleaved passes")
    print(f"{'extractor':<52} {'F1':>6} {'P':>6} {'R':>6} {'pages/s':>8}")
    for name, (scores, _outputs, seconds) in results.items():
        f1, precision, recall = summarise(scores)
        print(f"{name:<52} {f1:6.3f} {precision:6.3f} {recall:6.3f} {len(pages) / seconds:8.1f}")
    names = list(results)
    ratios = [o / b for o, b in zip(timings[names[0]], timings[names[1]], strict=True)]
    print(f"time ours / bare extract(html): median {statistics.median(ratios):.2f}x")

    if args.diff:
        _show_diffs(pages, results, args.diff)
    return 0


def _page_f1(score: PageScore) -> float:
    p, r = score.precision or 0.0, score.recall or 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def _show_diffs(
    pages: list[tuple[str, str, str, str]],
    results: dict[str, tuple[list[PageScore], list[str], float]],
    count: int,
) -> None:
    names = list(results)
    our_scores, our_outputs, _ = results[names[0]]
    base_scores, base_outputs, _ = results[names[2]]
    deltas = sorted(
        range(len(pages)), key=lambda i: _page_f1(our_scores[i]) - _page_f1(base_scores[i])
    )
    for i in deltas[:count]:
        delta = _page_f1(our_scores[i]) - _page_f1(base_scores[i])
        print(f"\n== {pages[i][0][:12]} {pages[i][1]}  dF1={delta:+.3f}")
        ours_lines = set(our_outputs[i].replace("\n\n", "\n").split("\n"))
        for line in base_outputs[i].split("\n"):
            if line not in ours_lines:
                print(f"  - {line[:160]}")
        base_lines = set(base_outputs[i].split("\n"))
        for line in our_outputs[i].replace("\n\n", "\n").split("\n"):
            if line not in base_lines:
                print(f"  + {line[:160]}")


if __name__ == "__main__":
    sys.exit(main())
