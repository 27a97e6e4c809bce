"""Language detection: py3langid (what digests.lang uses) beside lingua, on accuracy and speed.

Data: the human-made main text of the 91 pages of ``../shared/bench/aeb-dev`` (whole articles;
labels from each page's site and text, listed below for the non-English ones) and the
paragraphs of the golden pages in ``tests/news/data/pages`` (short texts in zh, ja, ko, de, fr,
es, ru, ar). lingua is not a dependency of digestbot: install it to run this comparison
(``pip install lingua-language-detector``); without it only py3langid is measured.

Run: ``python bench/language.py``
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import lxml.html
import py3langid
from trafilatura.utils import load_html

from digests import lang
from digests.extract import declared_languages
from digests.lang import normalise_language, resolve_language

ROOT = Path(__file__).resolve().parent.parent
AEB = ROOT.parent / "shared" / "bench" / "aeb-dev" / "ground-truth.json"
PAGES = ROOT / "tests" / "news" / "data" / "pages"
# aeb-dev pages not in English, by id prefix (read by a person: site and text agree).
NOT_ENGLISH = {
    "11ea381ad9": "pt",
    "21486419bb": "id",
    "23aaecd141": "pt",
    "57b4dafd18": "de",
    "7837c9d66c": "id",
    "ba07d1e647": "de",
    "c4a3637c66": "ru",
    "f105de6e63": "ja",
}


def datasets() -> dict[str, list[tuple[str, str]]]:
    truth = json.loads(AEB.read_text(encoding="utf-8"))
    articles = [
        (NOT_ENGLISH.get(page_id[:10], "en"), item["articleBody"])
        for page_id, item in sorted(truth.items())
    ]
    paragraphs = []
    for page in sorted(PAGES.glob("opinion-*.html")):
        language = page.stem.split("-")[1]
        tree = lxml.html.fromstring(page.read_bytes())
        for p in tree.xpath("//article//p"):
            text = " ".join(p.text_content().split())
            if len(text) >= 15:
                paragraphs.append((language, text))
    return {"aeb-dev articles": articles, "golden-page paragraphs": paragraphs}


def detectors() -> dict[str, Callable[[str], str | None]]:
    found: dict[str, Callable[[str], str | None]] = {
        "py3langid": lambda text: str(py3langid.classify(text[:2000])[0])
    }
    try:
        from lingua import LanguageDetectorBuilder
    except ImportError:
        print("lingua not installed: measuring py3langid only", file=sys.stderr)
        return found
    detector = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models()
    built = detector.build()

    def lingua(text: str) -> str | None:
        language = built.detect_language_of(text[:2000])
        return None if language is None else language.iso_code_639_1.name.lower()

    found["lingua (all languages, preloaded)"] = lingua
    return found


def main() -> int:
    sets = datasets()
    started = time.perf_counter()
    found = detectors()
    print(f"{time.perf_counter() - started:.1f} s to build the detectors")
    for name, detect in found.items():
        detect("warm up the model before timing")
        for set_name, items in sets.items():
            times, right, wrong = [], 0, []
            for label, text in items:
                started = time.perf_counter()
                guess = detect(text)
                times.append(time.perf_counter() - started)
                if guess == label:
                    right += 1
                else:
                    snippet = re.sub(r"\s+", " ", text)[:30]
                    wrong.append(f"{label}->{guess}: {snippet}")
            print(
                f"{name:<36} {set_name:<24} accuracy {right}/{len(items)}"
                f" = {right / len(items):.3f}  median {statistics.median(times) * 1000:.2f} ms"
                f"  total {sum(times):.2f} s"
            )
            for miss in wrong[:5]:
                print(f"    miss {miss}")
    page_language()
    function_words(sets)
    return 0


def function_words(sets: dict[str, list[tuple[str, str]]]) -> None:
    """The shortcut of digests.lang.resolve_language: a declared language borne out by its
    commonest words stands without the detector. Each text is taken as declared in each
    language with a word list; wherever the words confirm it, the detector's verdict (what
    resolve_language gave before the shortcut) must be the same language."""
    texts = [text for items in sets.values() for _, text in items]
    cnndm = AEB.parents[1] / "cnndm-dev.jsonl"
    if cnndm.exists():
        for row in cnndm.read_text(encoding="utf-8").splitlines():
            texts.append(json.loads(row).get("article", ""))
    confirmed = differ = 0
    started = time.perf_counter()
    for text in texts:
        for code in lang._FUNCTION_WORDS:
            if not lang.confirms(code, text):
                continue
            confirmed += 1
            guess, probability = lang._guess(text)
            if guess != code and probability >= lang._OVERRULE_PROBABILITY:
                differ += not lang._close(guess, code)
    print(
        f"declared language confirmed by its commonest words: {confirmed} of "
        f"{len(texts)} texts x {len(lang._FUNCTION_WORDS)} languages, the detector says "
        f"otherwise on {differ} ({time.perf_counter() - started:.1f} s)"
    )


def page_language() -> None:
    """What a card would say on the aeb-dev pages: the page's first declared language alone,
    beside digests.lang.resolve_language (declared, checked against the text)."""
    truth = json.loads(AEB.read_text(encoding="utf-8"))
    declared_right = resolved_right = 0
    for page_id, item in sorted(truth.items()):
        label = NOT_ENGLISH.get(page_id[:10], "en")
        with gzip.open(AEB.parent / "html" / f"{page_id}.html.gz", "rt", encoding="utf8") as f:
            declared = declared_languages(load_html(f.read()))
        first = next((c for c in map(normalise_language, declared) if c), None)
        declared_right += first == label
        resolved_right += resolve_language(declared, item["articleBody"]) == label
    total = len(truth)
    print(f"page language, first declared only:   {declared_right}/{total}")
    print(f"page language, resolve_language():    {resolved_right}/{total}")


if __name__ == "__main__":
    sys.exit(main())
