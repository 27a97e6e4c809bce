"""Speed of a whole digest card beside bare ``trafilatura.extract``, on the same pages, one run.

Usage (from the repo root)::

    /work/venv/bin/python bench/pipeline.py [--rounds 3] [--limit N] [--profile] [--stages]

For every page of ``../shared/bench/aeb-dev/html/*.html.gz`` (never copied here) it times
``trafilatura.extract(page)`` (the baseline) and the whole card, ``extract_article`` (extraction
+ cleanup + editor's note) followed by ``build_card`` (summary, key facts, topics), on the same
bytes; ``extract(with_metadata=True)`` is shown too, since a card needs the title, date and
site. The jobs are interleaved page by page, in alternating order, so that machine noise hits
all alike; each page's time is its median over ``--rounds``. Prints articles/s, median and p95
ms per article for both and their ratios. Target: the whole card within 1.5x of bare extraction.
``--profile`` adds a cProfile of the card path (top functions by cumulative time);
``--stages`` the total time of each stage (the sentences are split once, as ``build_card`` does).
``--metadata`` compares the card's metadata (``digests.page_meta``: the page's tags, trafilatura's
heuristics only for what they leave out) with trafilatura's whole metadata pass on every page:
on how many pages title, site, date, author, address and categories agree, and the time of each.
``--with-entry`` builds each card as the worker does for a feed item that names its author and
category (most feeds' items do), so the page's byline and category links are not searched.
``--startup N`` times ``digestbot preview config/samples/cgtn-first-voice-china-rok.html`` (a
fresh process: imports, settings, one card, output) beside ``python -c "import trafilatura"``,
N runs of each, interleaved, and prints the medians and their ratio (target <= 2x); with
``--startup`` alone the page benchmark is skipped.
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import json
import pstats
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import trafilatura

from digests.cards import build_card
from digests.config import PipelineConfig
from digests.errors import ExtractionError
from digests.extract import extract_article
from digests.facts import key_facts
from digests.models import FeedEntry
from digests.page_meta import page_meta, parse_datetime, published_time
from digests.summarize import article_sentences, summarize
from digests.topics import Taxonomy

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "bench" / "aeb-dev"


def load_pages(limit: int | None) -> list[tuple[str, bytes]]:
    truth = json.loads((DATA / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for path in sorted((DATA / "html").glob("*.html.gz")):
        page_id = path.name.removesuffix(".html.gz")
        url = truth.get(page_id, {}).get("url") or f"https://example.com/{page_id}"
        pages.append((url, gzip.decompress(path.read_bytes())))
    return pages[:limit] if limit else pages


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return (time.perf_counter() - start) * 1000


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


class CardMaker:
    """The whole card path, counting pages whose extraction fails."""

    def __init__(self, entry: FeedEntry | None = None) -> None:
        self.config = PipelineConfig()
        self.taxonomy = Taxonomy.load(self.config.topics_path)
        self.failures: set[str] = set()
        self.entry = entry

    def __call__(self, url: str, page: bytes) -> None:
        try:
            article = extract_article(page, url, metadata_from=self.entry)
        except ExtractionError:
            self.failures.add(url)
            return
        build_card(article, taxonomy=self.taxonomy, config=self.config, entry=self.entry)


# --with-entry: what the worker has for a feed item that names its author and section (most
# feeds do: dc:creator, category), so the page's byline and category links are not searched.
FEED_ITEM = FeedEntry(
    entry_id="bench",
    feed_url="https://example.com/feed.xml",
    title="",
    link=None,
    published=None,
    updated=None,
    author="Jane Doe",
    summary_html=None,
    content_html=None,
    categories=("Opinion",),
    language=None,
)


def bare(page: bytes) -> None:
    trafilatura.extract(page)


def with_metadata(page: bytes) -> None:
    trafilatura.extract(page, with_metadata=True)


def measure(pages: list[tuple[str, bytes]], card: CardMaker, rounds: int) -> list[list[float]]:
    """Per-page median ms of [bare, with_metadata, card], interleaved in alternating order."""
    for url, page in pages[:3]:  # warm up imports, lxml and regex caches for all
        bare(page)
        card(url, page)
    results: list[list[float]] = [[], [], []]
    for index, (url, page) in enumerate(pages):
        jobs = [partial(bare, page), partial(with_metadata, page), partial(card, url, page)]
        runs: list[list[float]] = [[], [], []]
        for round_ in range(rounds):
            for job in [0, 1, 2] if (index + round_) % 2 else [2, 1, 0]:
                runs[job].append(timed(jobs[job]))
        for values, job_runs in zip(results, runs, strict=True):
            values.append(statistics.median(job_runs))
    return results


def report(bare_ms: list[float], meta_ms: list[float], card_ms: list[float]) -> None:
    print(f"{'':28}{'articles/s':>12}{'median ms':>12}{'p95 ms':>10}")
    rows = (
        ("bare trafilatura.extract", bare_ms),
        ("  (with_metadata=True)", meta_ms),
        ("whole card", card_ms),
    )
    for name, values in rows:
        rate = len(values) / (sum(values) / 1000)
        print(f"{name:28}{rate:12.1f}{statistics.median(values):12.1f}{p95(values):10.1f}")
    print(
        f"ratio card / bare: total {sum(card_ms) / sum(bare_ms):.2f}x, "
        f"median {statistics.median(card_ms) / statistics.median(bare_ms):.2f}x, "
        f"p95 {p95(card_ms) / p95(bare_ms):.2f}x (goal: within 1.5x)"
    )
    print(f"ratio card / extract(with_metadata=True): total {sum(card_ms) / sum(meta_ms):.2f}x")


def stages(pages: list[tuple[str, bytes]], card: CardMaker) -> None:
    """Total ms per stage of the card path, in one more pass: where the time goes."""
    names = ("extract_article", "sentences", "summarize", "key_facts", "taxonomy.tag")
    totals = dict.fromkeys(names, 0.0)
    config = card.config
    for url, page in pages:
        start = time.perf_counter()
        try:
            article = extract_article(page, url)
        except ExtractionError:
            continue
        marks = [start, time.perf_counter()]
        # As build_card does: the sentences are split once for the summary and the facts.
        sentences = article_sentences(article.text)
        marks.append(time.perf_counter())
        summary = summarize(
            article.text,
            max_words=config.max_summary_words,
            max_sentences=config.max_summary_sentences,
            title=article.title,
            sentences=sentences,
        )
        marks.append(time.perf_counter())
        spare = config.max_key_facts + len(summary)
        key_facts(article.text, exclude=summary, max_facts=spare, sentences=sentences)
        marks.append(time.perf_counter())
        card.taxonomy.tag(title=article.title, text=article.text, categories=article.categories)
        marks.append(time.perf_counter())
        for name, a, b in zip(totals, marks, marks[1:], strict=False):
            totals[name] += (b - a) * 1000
    whole = sum(totals.values())
    for name, total in totals.items():
        print(f"  {name:18}{total:9.0f} ms  {100 * total / whole:5.1f}%")


def metadata(pages: list[tuple[str, bytes]]) -> None:
    """Field by field: the card's metadata against trafilatura's whole pass, on the same tree."""
    from trafilatura.utils import load_html

    fields = ("title", "site", "date", "author", "url", "categories")
    agree = dict.fromkeys(fields, 0)
    old_ms: list[float] = []
    new_ms: list[float] = []
    entry_ms: list[float] = []
    for url, page in pages:
        tree = load_html(page)
        start = time.perf_counter()
        old = trafilatura.extract_metadata(tree, url)
        old_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        new = page_meta(tree, url)
        new_ms.append((time.perf_counter() - start) * 1000)
        # As a feed entry with its date, author and categories asks it (the worker's case).
        start = time.perf_counter()
        page_meta(tree, url, need_author=False, need_date=False, need_categories=False)
        entry_ms.append((time.perf_counter() - start) * 1000)
        old_categories = [
            part.strip() for value in [*(old.categories or []), *(old.tags or [])]
            for part in str(value).split(",")
        ]  # fmt: skip
        pairs = {
            "title": (old.title or None, new.title),
            "site": (old.sitename or None, new.sitename),
            # What the card took before: the full time in <meta>, else trafilatura's day.
            "date": (published_time(tree) or parse_datetime(old.date), new.published),
            "author": (old.author or None, new.author),
            "url": (old.url or None, new.url),
            "categories": (tuple(dict.fromkeys(c for c in old_categories if c)), new.categories),
        }
        for field, (before, after) in pairs.items():
            agree[field] += before == after
    print(f"card metadata vs trafilatura.extract_metadata on {len(pages)} pages:")
    print("  same " + ", ".join(f"{field} {agree[field]}/{len(pages)}" for field in fields))
    print(
        f"  time per page: trafilatura.extract_metadata median "
        f"{statistics.median(old_ms):.2f} ms (total {sum(old_ms):.0f} ms); page_meta median "
        f"{statistics.median(new_ms):.2f} ms (total {sum(new_ms):.0f} ms); page_meta with "
        f"the entry's date, author and categories median {statistics.median(entry_ms):.2f} ms "
        f"(total {sum(entry_ms):.0f} ms)"
    )


def startup(runs: int) -> None:
    """Wall time of a fresh ``digestbot preview PAGE`` beside ``python -c "import trafilatura"``."""
    import subprocess
    import sys

    page = REPO / "config" / "samples" / "cgtn-first-voice-china-rok.html"
    script = Path(sys.executable).with_name("digestbot")
    preview = [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]
    commands = {
        "digestbot preview PAGE": [*preview, "preview", str(page)],
        'python -c "import trafilatura"': [sys.executable, "-c", "import trafilatura"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for run in range(runs):
        for name in commands if run % 2 else reversed(list(commands)):
            start = time.perf_counter()
            subprocess.run(commands[name], check=True, stdout=subprocess.DEVNULL, cwd=REPO)
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, values in times.items():
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"{name:32} median {medians[name]:.2f} s  ({shown})")
    preview_s, baseline_s = medians.values()
    print(f"ratio preview / import trafilatura: {preview_s / baseline_s:.2f}x (goal: within 2x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--stages", action="store_true", help="time each stage of the card")
    parser.add_argument("--metadata", action="store_true", help="card metadata vs trafilatura's")
    parser.add_argument("--startup", type=int, metavar="N", help="time preview start-up N times")
    parser.add_argument(
        "--with-entry",
        action="store_true",
        help="cards as the worker builds them for a feed item naming its author and category",
    )
    args = parser.parse_args()

    if args.startup:
        startup(args.startup)
        if not (args.metadata or args.stages or args.profile):
            return
    pages = load_pages(args.limit)
    card = CardMaker(FEED_ITEM if args.with_entry else None)
    if args.with_entry:
        print("cards with a feed item naming author and category (the page is not searched)")
    bare_ms, meta_ms, card_ms = measure(pages, card, args.rounds)
    print(f"pages: {len(pages)}, rounds: {args.rounds}, card failures: {len(card.failures)}")
    report(bare_ms, meta_ms, card_ms)

    if args.metadata:
        metadata(pages)
    if args.stages:
        print("card stages (total over all pages):")
        stages(pages, card)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for url, page in pages:
            card(url, page)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
