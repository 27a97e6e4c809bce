"""Sentence splitting: digests.sentences beside pysbd (with the page's language), on the
per-language table of ``tests/news/test_sentences_i18n.py`` and the English table of
``tests/news/test_sentences.py``, plus speed on the golden pages' text.

Run: ``python bench/sentences.py``
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import lxml.html
import pysbd

from digests.sentences import split_sentences

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.news.test_sentences import CASES as ENGLISH  # noqa: E402
from tests.news.test_sentences_i18n import CASES  # noqa: E402

PYSBD_LANGUAGES = frozenset(pysbd.languages.LANGUAGE_CODES)


def _pysbd(language: str):  # type: ignore[no-untyped-def]
    segmenter = pysbd.Segmenter(language=language, clean=False)
    return lambda text: [s.strip() for s in segmenter.segment(text) if s.strip()]


def main() -> int:
    table = {lang: list(cases) for lang, cases in CASES.items()}
    table["en"] = [tuple(p.values) for p in ENGLISH]
    print(f"{'language':<9} {'cases':>5} {'ours':>5} {'pysbd':>6}")
    totals = [0, 0, 0]
    for language, cases in table.items():
        ours = sum(split_sentences(text) == expected for text, expected in cases)
        if language in PYSBD_LANGUAGES:
            split = _pysbd(language)
            theirs = str(sum(split(text) == expected for text, expected in cases))
            totals[2] += int(theirs)
        else:
            theirs = "n/a"
        totals[0] += len(cases)
        totals[1] += ours
        print(f"{language:<9} {len(cases):>5} {ours:>5} {theirs:>6}")
    print(f"{'all':<9} {totals[0]:>5} {totals[1]:>5} {totals[2]:>6}")

    print("\nspeed on the golden pages' article text (median of 5 runs, per page):")
    for page in sorted((ROOT / "tests" / "news" / "data" / "pages").glob("opinion-*.html")):
        language = page.stem.split("-")[1]
        tree = lxml.html.fromstring(page.read_bytes())
        text = "\n".join(p.text_content() for p in tree.xpath("//article//p"))
        ours_t = _time(split_sentences, text)
        line = f"  {language}: ours {ours_t * 1000:.3f} ms"
        if language in PYSBD_LANGUAGES:
            split = _pysbd(language)
            line += f", pysbd {_time(split, text) * 1000:.3f} ms"
        print(line)
    return 0


def _time(call, text: str) -> float:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        call(text)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


if __name__ == "__main__":
    sys.exit(main())
