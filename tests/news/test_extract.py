"""extract_article on the bundled CGTN sample (golden file), fallbacks, and cleanup tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import lxml.html
import pytest

from digests import cleanup, extract
from digests.config import CONFIG_DIR
from digests.errors import ExtractionError
from digests.extract import article_from_entry, extract_article, html_fragment_paragraphs
from digests.models import FeedEntry

DATA = Path(__file__).parent / "data"
SAMPLE = CONFIG_DIR / "samples" / "cgtn-first-voice-china-rok.html"
SAMPLE_URL = "https://news.cgtn.com/news/2025-11-01/china-rok/index.html"

_BODY = "".join(
    f"<p>Paragraph {i} of the article body, which talks at some length about trade, ports "
    "and shipping lanes in the region and what they mean for the people who live there.</p>"
    for i in range(8)
)


def _entry(**overrides: object) -> FeedEntry:
    values: dict[str, object] = {
        "entry_id": "e-1",
        "feed_url": "https://feeds.example.com/opinion.xml",
        "title": "Feed title",
        "link": "https://example.com/piece",
        "published": datetime(2025, 11, 1, 8, 0, tzinfo=UTC),
        "author": "Feed Author",
        "categories": ("Trade",),
    }
    values.update(overrides)
    return FeedEntry(**values)  # type: ignore[arg-type]


# --- trafilatura's fast extraction, checked by its full cascade where it found little ---------


def _extractions(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The ``fast`` flag of each trafilatura extraction extract_article asks for."""
    asked: list[bool] = []
    real = extract.trafilatura.bare_extraction

    def spy(*args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs["fast"])
        return real(*args, **kwargs)

    monkeypatch.setattr(extract.trafilatura, "bare_extraction", spy)
    return asked


def test_a_long_article_is_extracted_once_in_fast_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _extractions(monkeypatch)
    article = extract_article(SAMPLE.read_bytes(), SAMPLE_URL)
    assert asked == [True]
    golden = json.loads((DATA / "cgtn-first-voice-china-rok.article.json").read_text("utf-8"))
    assert article.text == golden["text"]


def test_a_short_article_is_checked_by_the_full_cascade(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _extractions(monkeypatch)
    short = "".join(
        f"<p>Short paragraph {i} about the new harbour and its ships.</p>" for i in range(4)
    )
    page = f"<html><body><article>{short}</article></body></html>"
    article = extract_article(page, "https://example.com/short")
    assert asked == [True, False]
    assert "Short paragraph 3 about the new harbour" in article.text


def _document(text: str, body: str = "<p>x</p>") -> Any:
    return SimpleNamespace(text=text, body=lxml.html.fromstring(f"<div>{body}</div>"))


@pytest.mark.parametrize(
    ("document", "doubtful"),
    [
        (_document("a" * 1500), False),
        (_document("a" * 500, body="<p>x</p><table><tr><td>1</td></tr></table>"), False),
        (_document("a" * 499), True),  # short: about 80 words
        (_document("a" * 1500, body="<div>no paragraph</div>"), True),
        (_document("a" * 1500, body="<p>x</p><table/><table/>"), True),  # a table's page
        (_document("a" * 1500, body="<p>x</p><aside>Read more</aside>"), True),  # furniture
        (_document("a" * 1500, body="<p>x</p><figure>Photo</figure>"), True),
        (_document(""), True),
        (None, True),
    ],
)
def test_when_the_fast_extraction_is_doubtful(document: Any, doubtful: bool) -> None:
    assert extract._doubtful(document) is doubtful


# --- the golden sample ---------------------------------------------------------------------


def test_cgtn_sample_matches_golden_article() -> None:
    golden = json.loads((DATA / "cgtn-first-voice-china-rok.article.json").read_text("utf-8"))
    article = extract_article(SAMPLE.read_bytes(), SAMPLE_URL)
    assert article.title == "Elevating the China-ROK Strategic Cooperative Partnership"
    assert article.url == golden["url"]  # the canonical link, not the fetched URL
    assert article.source == golden["source"]
    assert article.author == golden["author"]
    assert article.published is not None
    assert article.published.isoformat() == golden["published"]
    assert article.editors_note == golden["editors_note"]
    assert article.editors_note is not None
    assert article.editors_note.startswith(
        "CGTN's First Voice provides instant commentary on breaking stories."
    )
    assert article.text == golden["text"]


def test_cgtn_sample_text_has_every_body_paragraph_and_no_furniture() -> None:
    golden = json.loads((DATA / "cgtn-first-voice-china-rok.article.json").read_text("utf-8"))
    text = extract_article(SAMPLE.read_text("utf-8"), SAMPLE_URL).text
    paragraphs = text.split("\n\n")
    assert paragraphs == golden["text"].split("\n\n")
    assert len(paragraphs) == 10
    for unwanted in (
        "Cookie",
        "cookies",
        "I agree",
        "/ CFP",
        "national flags",
        "Editor's note",
        "If you want to contribute",
        "opinions@cgtn.com",
        "Search Trends",
        "Most Read",
        "Share on",
        "First Voice",
        "About Us",
    ):
        assert unwanted not in text, unwanted


# --- fallbacks and metadata ----------------------------------------------------------------


def test_note_outside_the_main_text_is_found_in_the_page() -> None:
    page = f"""<html><head><title>Ports and lanes</title></head><body>
    <nav><a href="/">Home</a></nav>
    <div class="intro"><strong>Editor’s Note</strong> —
      <i>Part of a series on trade routes.</i></div>
    <article><h1>Ports and lanes</h1>{_BODY}</article></body></html>"""
    article = extract_article(page, "https://example.org/ports")
    assert article.editors_note == "Part of a series on trade routes."
    assert article.text.startswith("Paragraph 0 of the article body")
    assert "series on trade routes" not in article.text


@pytest.mark.parametrize(
    "chrome",
    [
        "<aside><p>Editor's note: Belongs to another piece.</p></aside>",
        '<div class="related-stories"><p>Editor\'s note: Belongs to another piece.</p></div>',
        "<footer><p>Editor's note: Belongs to another piece.</p></footer>",
    ],
)
def test_note_of_another_piece_in_page_chrome_is_ignored(chrome: str) -> None:
    page = f"<html><body><article><h1>T</h1>{_BODY}</article>{chrome}</body></html>"
    article = extract_article(page, "https://example.org/x")
    assert article.editors_note is None


def test_page_without_note_has_none() -> None:
    page = f"<html><head><title>T</title></head><body><article>{_BODY}</article></body></html>"
    assert extract_article(page, "https://example.org/x").editors_note is None


def test_entry_fills_missing_metadata() -> None:
    page = f"<html><body><article>{_BODY}</article></body></html>"
    article = extract_article(page, "https://example.com/piece", entry=_entry())
    assert article.title == "Feed title"
    assert article.author == "Feed Author"
    assert article.published == datetime(2025, 11, 1, 8, 0, tzinfo=UTC)
    assert article.categories == ("Trade",)
    assert article.url == "https://example.com/piece"


def test_page_metadata_wins_over_entry() -> None:
    article = extract_article(SAMPLE.read_bytes(), SAMPLE_URL, entry=_entry())
    assert article.title == "Elevating the China-ROK Strategic Cooperative Partnership"
    assert article.published == datetime(2025, 11, 1, 13, 34, tzinfo=UTC)


@pytest.mark.parametrize("page", ["", "<html><body><nav>Home</nav></body></html>", b"\x00\x01"])
def test_page_without_text_falls_back_to_entry_content(page: str | bytes) -> None:
    entry = _entry(content_html="<p>Editor's note: Feed note.</p><p>The feed's own text.</p>")
    article = extract_article(page, "https://example.com/piece", entry=entry)
    assert article.text == "The feed's own text."
    assert article.editors_note == "Feed note."


@pytest.mark.parametrize("page", ["", "<html><body><nav>Home</nav></body></html>"])
def test_page_without_text_and_no_entry_raises(page: str) -> None:
    with pytest.raises(ExtractionError) as info:
        extract_article(page, "https://example.com/empty")
    assert info.value.url == "https://example.com/empty"


def test_article_from_entry_cleans_like_a_page() -> None:
    entry = _entry(
        content_html=(
            "<figure><img src='x.jpg' alt='Flags'><figcaption>Flags flying. / CFP</figcaption>"
            "</figure><p><em>Editor’s Note: A column.</em></p><p>Flags flying. / CFP</p>"
            "<p>First real paragraph.</p><p>Second<br>line block.</p>"
            "<script>alert(1)</script>"
            "<p>(If you want to contribute and have specific expertise, please contact us at "
            "opinions@cgtn.com.)</p>"
        ),
        summary_html="<p>Teaser only.</p>",
    )
    article = article_from_entry(entry)
    assert article.editors_note == "A column."
    assert article.text == "First real paragraph.\n\nSecond\n\nline block."
    assert article.url == "https://example.com/piece"
    assert article.title == "Feed title"
    assert article.categories == ("Trade",)


def test_article_from_entry_uses_summary_when_no_content() -> None:
    article = article_from_entry(_entry(summary_html="Just a teaser &amp; more.", link=None))
    assert article.text == "Just a teaser & more."
    assert article.url == "https://feeds.example.com/opinion.xml"


@pytest.mark.parametrize("content", [None, "", "   ", "<p> </p><script>x()</script>"])
def test_article_from_entry_without_text_raises(content: str | None) -> None:
    with pytest.raises(ExtractionError, match=r"example\.com/piece"):
        article_from_entry(_entry(content_html=content))


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("plain text", ["plain text"]),
        ("<p>a</p><p>b</p>", ["a", "b"]),
        ("one<br>two<br/><br/>three", ["one", "two", "three"]),
        ("<div><p>in <b>bold</b> and <a href='#'>link</a></p></div>", ["in bold and link"]),
        ("<ul><li>x</li><li>y</li></ul>", ["x", "y"]),
        ("<p>keep</p><style>p{}</style><figure>pic</figure>", ["keep"]),
        ("<h2>Head</h2>text after", ["Head", "text after"]),
        ("", []),
    ],
)
def test_html_fragment_paragraphs(fragment: str, expected: list[str]) -> None:
    assert html_fragment_paragraphs(fragment) == expected


# --- cleanup steps, one table each ---------------------------------------------------------

REAL = [
    "The cookie industry in Denmark exported 300 million tins last year, officials said.",
    "Regulators said sites must let users accept or reject cookies, a rule publishers dislike.",
    "Photographers were kept away from the summit, where the leaders met for two hours.",
    "He said he would agree to the deal only if tariffs were cut first.",
    "Read the full statement below, which the ministry released on Friday.",
    "The trend is clear: trade between the two countries has grown every year since 2015.",
    "Subscribers to the newspaper pay $10 a month, the company said in its report.",
    "The related question is whether the partnership will survive a change of government.",
    "Share prices rose 3 percent after the announcement.",
    "GDP grew 5.2 percent last year, faster than the year before (Source: World Bank)",
    "Pictures by amateur astronomers show the comet's tail stretching across the sky.",
    "Photo by photo, the exhibition tells the story of the port and the people who built it.",
    "Follow the money, the old saying goes, and you will find the motive.",
]


@pytest.mark.parametrize("paragraph", REAL)
def test_real_paragraphs_survive_every_step(paragraph: str) -> None:
    assert cleanup.clean_paragraphs([paragraph], title="Some headline") == [paragraph]


@pytest.mark.parametrize(
    "line",
    [
        "Our Privacy Statement & Cookie Policy",
        "By continuing to browse our site you agree to our use of cookies, revised Privacy "
        "Policy and Terms of Use. You can change your cookie settings through your browser.",
        "I agree",
        "Accept all cookies",
        "Accept All",
        "Reject all",
        "Manage preferences",
        "We use cookies to improve your experience on our site.",
    ],
)
def test_drop_consent(line: str) -> None:
    assert cleanup.drop_consent([line, REAL[0]]) == [REAL[0]]


@pytest.mark.parametrize(
    "line",
    [
        "The national flags of China (right) and the Republic of Korea. / CFP",
        "A replica of a gold crown is displayed in Gyeongju, October 31, 2025. /Xinhua",
        "Protesters gather outside parliament. (Photo: Reuters)",
        "Protesters gather outside parliament. [Photo/VCG]",
        "Photo: John Smith",
        "(Photo by Jane Doe/AFP)",
        "Photograph: Jane Doe/Shutterstock",
        "Image copyright Getty Images",
        "Getty Images",
        "The skyline at dusk. AFP via Getty Images",
    ],
)
def test_drop_captions_by_shape(line: str) -> None:
    assert cleanup.drop_captions([line, REAL[2]]) == [REAL[2]]


def test_drop_captions_known_from_the_page() -> None:
    caption = "Leaders shake hands before the talks in Seoul"
    paragraphs = [caption, REAL[0], "Seoul"]
    # a one-word alt text is too weak a signal to remove a line
    assert cleanup.drop_captions(paragraphs, known=[caption, "Seoul"]) == [REAL[0], "Seoul"]


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        (["cap / CFP", "cap / CFP", "cap / CFP", "body"], ["cap / CFP", "body"]),
        (["a", "A", "b"], ["a", "b"]),  # case and whitespace do not make a new paragraph
        (
            ["See it now: Amazon", "x", "See it now: Amazon"],
            ["See it now: Amazon", "x", "See it now: Amazon"],
        ),
        ([REAL[0], REAL[1], REAL[0]], [REAL[0], REAL[1]]),  # a long prose paragraph printed twice
        (
            ["Short repeated item", "y", "Short repeated item"],
            ["Short repeated item", "y", "Short repeated item"],
        ),
    ],
)
def test_collapse_repeats(paragraphs: list[str], expected: list[str]) -> None:
    assert cleanup.collapse_repeats(paragraphs, min_words=10) == expected


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        (
            [REAL[0], "Search Trends", "APEC 2025", "Fu Bao", "Gyeongju"],
            [REAL[0]],
        ),
        ([REAL[0], "Search Trends"], [REAL[0]]),
        (
            ["Most read", "Xi arrives in Busan", REAL[1], "tail"],
            [REAL[1], "tail"],
        ),
        (["Related:", "Other story headline", REAL[3]], [REAL[3]]),
        ([REAL[0], "Read more: Why ports matter for trade", REAL[1]], [REAL[0], REAL[1]]),
        (["TRENDING", "One", "Two.", "Three"], ["Two.", "Three"]),
    ],
)
def test_drop_widgets(paragraphs: list[str], expected: list[str]) -> None:
    assert cleanup.drop_widgets(paragraphs) == expected


@pytest.mark.parametrize(
    "line",
    [
        "(If you want to contribute and have specific expertise, please contact us at "
        "opinions@cgtn.com. Follow @thouse_opinions on X, formerly Twitter, to discover the "
        "latest commentaries in the CGTN Opinion Section.)",
        "Sign up for our daily newsletter to get the best stories delivered to your inbox.",
        "Subscribe to the Morning Review newsletter",
        "Share this article",
        "Share on Facebook",
        "Copy link",
    ],
)
def test_drop_promotions(line: str) -> None:
    assert cleanup.drop_promotions([REAL[4], line]) == [REAL[4]]


def test_drop_leading_title_only_near_the_top() -> None:
    title = "Elevating the Partnership"
    assert cleanup.drop_leading_title([title, REAL[0]], title) == [REAL[0]]
    body = [REAL[0], REAL[1], REAL[2], title]
    assert cleanup.drop_leading_title(body, title) == body
    assert cleanup.drop_leading_title([title], None) == [title]


def test_clean_paragraphs_runs_all_steps_and_normalises() -> None:
    paragraphs = [
        "Our Privacy Statement & Cookie Policy",
        "I agree",
        "Headline",
        "Flags. / CFP",
        "Flags. / CFP",
        "  First\u00a0real   paragraph.  ",
        "",
        "Second real paragraph.",
        "(If you want to contribute, please contact us at opinions@cgtn.com.)",
        "Search Trends",
        "APEC 2025",
    ]
    assert cleanup.clean_paragraphs(paragraphs, title="Headline") == [
        "First real paragraph.",
        "Second real paragraph.",
    ]


def test_replacement_characters_are_dropped() -> None:
    # feeds.neutralise_char_refs turns "&#xD800;" into U+FFFD; a reader should not see it.
    from digests.cleanup import normalise

    assert normalise("costs next year \ufffd and builders\u00a0warn") == (
        "costs next year and builders warn"
    )
