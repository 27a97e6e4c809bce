"""Turn a fetched page (or, failing that, a feed entry's own content) into an :class:`Article`.

trafilatura finds the main text; :mod:`digests.page_meta` reads the metadata (the page's tags,
trafilatura's heuristics only for what they leave out); :mod:`digests.cleanup` removes the
furniture trafilatura lets through; :mod:`digests.editors_note` lifts the editor's note out of
the body. The page is parsed once: the same lxml tree feeds trafilatura (which works on its own
copy), the metadata and the few things read here directly (figure captions, an editor's note
trafilatura may drop as page chrome).
"""

from __future__ import annotations

import re
from typing import Any

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.external import SANITIZED_XPATH
from trafilatura.utils import load_html

from digests.cleanup import clean_paragraphs, normalise
from digests.editors_note import split_editors_note
from digests.errors import ExtractionError
from digests.lang import is_cjk, length_budget, resolve_language, text_length, word_equivalents
from digests.models import Article, FeedEntry
from digests.note_labels import NEEDLES
from digests.page_meta import page_meta

_BLOCK_TAGS = frozenset(
    {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}
    | {"section", "article", "header", "footer", "aside", "main", "nav", "address", "center"}
    | {"table", "tr", "td", "th", "dl", "dt", "dd", "hr", "details", "summary"}
)
_DROP_TAGS = ("script", "style", "noscript", "figure", "figcaption", "iframe", "form", "button")
# Paragraph boundary marker while flattening a fragment (a private-use character: lxml
# refuses control characters in text).
_BREAK = "\ue000"
# Below this many words (or as many characters as take as long to read, for CJK: see
# digests.lang), what trafilatura found is navigation or a stub, not an article.
MIN_ARTICLE_WORDS = 20
_BODY_TEXT_NODES = etree.XPath("//body//text()")
_LANGUAGE_META = ("og:locale", "content-language", "dc.language", "language")
# "Editor's note", "Editor&rsquo;s Note", "EDITORS' NOTE", "Note from the editor" in markup.
_NOTE_MARKUP = r"editor[^<>\s]{0,10}\s+note|note\s+from\s+the\s+editor"
_NOTE_IN_MARKUP = re.compile(_NOTE_MARKUP)  # searched in lowercased snippets
_CHROME_TAGS = frozenset({"aside", "nav", "footer"})
_CHROME_MARKS = re.compile(
    r"related|sidebar|trending|most-?read|popular|recommend|promo|teaser|newsletter", re.I
)
# A fast extraction shorter than this (about 80 words) is checked by the full cascade.
_TRUSTED_CHARS = 500
_OWN_PARAGRAPH_TEXT = etree.XPath("boolean(.//p//text())")
# trafilatura.external.SANITIZED_XPATH: furniture in the text makes trafilatura try jusText.
_UNCLEAN = etree.XPath(SANITIZED_XPATH)
_CAPTION_TEXTS = etree.XPath("//figcaption | //*[contains(@class, 'caption')]")
_IMG_ALTS = etree.XPath("//img/@alt")


def extract_article(
    html: str | bytes,
    url: str,
    *,
    entry: FeedEntry | None = None,
    metadata_from: FeedEntry | None = None,
) -> Article:
    """Extract the main text and metadata of the page at ``url``.

    Metadata missing from the page falls back to ``entry``. When the page holds no main text,
    the entry's own content is used; with neither, :class:`ExtractionError` is raised.
    ``metadata_from``: a feed entry whose date, author and categories the card will use where
    the page's tags give none (see :func:`digests.cards.build_card`), so the page is not
    searched for them; unlike ``entry``, never a source of text.
    """
    tree = load_html(html)
    if tree is None:
        if entry is not None:
            return article_from_entry(entry)
        raise ExtractionError(url, "the page is empty or not HTML")
    document = _main_text(tree, url, fast=True)
    if _doubtful(document):
        document = _main_text(tree, url, fast=False)
    raw_text = (getattr(document, "text", None) or "") if document is not None else ""
    if not raw_text.strip():
        if entry is not None:
            return article_from_entry(entry)
        raise ExtractionError(url, "no main text found in the page")

    known = entry or metadata_from
    meta = page_meta(
        tree,
        url,
        need_author=not (known and known.author),
        need_date=not (known and (known.published or known.updated)),
        need_categories=not (known and known.categories),
    )
    title = _first(meta.title, entry.title if entry else None) or ""
    declared = [*declared_languages(tree), entry.language if entry else None]
    language = resolve_language(declared, raw_text)
    note, paragraphs = split_editors_note(raw_text.split("\n"))
    if note is None and (language not in (None, "en") or _mentions_editors_note(html)):
        note = find_editors_note_in_tree(tree)
        if note is not None:
            paragraphs = [p for p in paragraphs if normalise(p) != normalise(note)]
    body = clean_paragraphs(paragraphs, captions=page_captions(tree), title=title)
    length = text_length("\n".join(body), language)
    if length < length_budget(MIN_ARTICLE_WORDS, language, "\n".join(body)):
        if entry is not None and (entry.content_html or entry.summary_html):
            return article_from_entry(entry)
        unit = "characters" if is_cjk(language) else "words"
        raise ExtractionError(
            url, f"only {length} {unit} of text in the page: not an article, or behind a paywall"
        )

    return Article(
        url=_first(meta.url, url) or url,
        title=title,
        text="\n\n".join(body),
        source=_first(meta.sitename),
        author=_first(meta.author, entry.author if entry else None),
        published=meta.published or (entry.published if entry else None),
        editors_note=note,
        categories=entry.categories if entry and entry.categories else meta.categories,
        language=language,
    )


def _main_text(tree: Any, url: str, *, fast: bool) -> Any:
    # bare_extraction leaves the tree as it was (it copies before pruning), so the tree can be
    # read again: by the second extraction below, and for the metadata.
    return trafilatura.bare_extraction(
        tree, url=url, with_metadata=False, include_comments=False, include_tables=True, fast=fast
    )


def _doubtful(document: Any) -> bool:
    """Should the fast extraction be checked by trafilatura's full cascade?

    ``fast=True`` skips trafilatura's comparison of its own text with readability's and
    jusText's, about a third of the CPU of an extraction, on every page. Of that comparison's
    reasons to replace the text, these are told from the fast text alone: it is empty or short
    (jusText is tried below 250 characters; here below 500), it has no paragraph or more tables
    than paragraphs, or it holds page furniture (trafilatura's "unclean": asides, figures,
    forms). For those pages the full cascade runs. Its other reason, readability finding twice
    as much text, cannot be told without running readability. trafilatura's own escalation
    for a short text that covers little of the page still runs in fast mode.

    On the 91 pages of bench/extraction.py the full cascade changes the text of one page (it
    takes in a sidebar: F1 0.972 fast against 0.970 full); checking every page that holds under
    half of the page's paragraph text or under 1,000 characters reran 12 pages, changed none,
    and cost 0.23x of a bare extraction in all (timed beside it on the same pages); this rule
    costs 0.03x.
    """
    text = (getattr(document, "text", None) or "") if document is not None else ""
    body = getattr(document, "body", None)
    if len(text) < _TRUSTED_CHARS or body is None:
        return True
    paragraphs = len(body.findall(".//p"))
    return (
        not _OWN_PARAGRAPH_TEXT(body)
        or len(body.findall(".//table")) > paragraphs
        or bool(_UNCLEAN(body))
    )


def declared_languages(tree: Any) -> list[str | None]:
    """The languages a page declares for itself: ``<html lang>``, then its ``<meta>`` tags."""
    declared: list[str | None] = []
    root = tree.getroottree().getroot() if hasattr(tree, "getroottree") else tree
    declared.append(root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang"))
    for meta in tree.iter("meta"):
        name = (meta.get("property") or meta.get("name") or meta.get("http-equiv") or "").lower()
        if name in _LANGUAGE_META:
            declared.append(meta.get("content"))
    return declared


def article_from_entry(entry: FeedEntry) -> Article:
    """Build the article from the feed's own content, when the page cannot be had."""
    where = entry.link or entry.feed_url
    fragment = entry.content_html or entry.summary_html
    if not fragment or not fragment.strip():
        raise ExtractionError(where, "the page has no text and the feed entry has no content")
    note, paragraphs = split_editors_note(html_fragment_paragraphs(fragment))
    body = clean_paragraphs(paragraphs, title=entry.title)
    if not body:
        raise ExtractionError(where, "the feed entry's content has no text")
    text = "\n\n".join(body)
    return Article(
        url=where,
        title=entry.title,
        text=text,
        author=entry.author,
        published=entry.published,
        editors_note=note,
        categories=entry.categories,
        language=resolve_language([entry.language], text),
    )


def html_fragment_paragraphs(fragment: str) -> list[str]:
    """Paragraph texts of an HTML fragment (feed content), one per block element or
    ``<br>``-separated run, figures and scripts left out."""
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return [normalise(fragment)] if fragment.strip() else []
    for element in list(root.iter(*_DROP_TAGS)):
        element.drop_tree()
    for element in root.iter(etree.Element):
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in _BLOCK_TAGS or tag == "br":
            element.tail = _BREAK + (element.tail or "")
            if tag != "br":
                element.text = _BREAK + (element.text or "")
    text = root.text_content()
    return [p for p in (normalise(chunk) for chunk in text.split(_BREAK)) if p]


def _mentions_editors_note(html: str | bytes) -> bool:
    """A cheap scan of the markup that spares most pages the tree walk: look around each
    "editor" (substring search is fast; a case-insensitive regex over the page is not)."""
    text = html.decode("latin-1") if isinstance(html, bytes) else html
    for needle in ("ditor", "DITOR"):
        at = text.find(needle)
        while at != -1:
            if _NOTE_IN_MARKUP.search(text[max(0, at - 20) : at + 24].lower()):
                return True
            at = text.find(needle, at + 1)
    return False


def find_editors_note_in_tree(tree: Any) -> str | None:
    """An editor's note anywhere in the page, for when trafilatura dropped it as chrome.

    Starts from text nodes holding part of a label in any language and climbs a few levels, so
    that a label in ``<strong>`` followed by the note in the same ``<p>``/``<em>`` is found whole.
    """
    for node in _BODY_TEXT_NODES(tree):
        # Substring tests in Python: an XPath of contains() per label fragment, with
        # translate() for case, took ~0.1 s on a large page.
        lowered = str(node).lower()
        if not any(needle in lowered for needle in NEEDLES):
            continue
        element = node.getparent()
        if element is None or _in_page_chrome(element):
            continue
        for _ in range(3):
            if element is None:
                break
            text = normalise(element.text_content())
            if word_equivalents(text) > 150:
                break
            note, _rest = split_editors_note([text])
            if note is not None:
                return note
            element = element.getparent()
    return None


def _in_page_chrome(element: Any) -> bool:
    """Inside a sidebar, teaser list or footer: a note there belongs to another piece."""
    for ancestor in element.iterancestors():
        if ancestor.tag in _CHROME_TAGS:
            return True
        marks = f"{ancestor.get('class', '')} {ancestor.get('id', '')}"
        if _CHROME_MARKS.search(marks):
            return True
    return False


def page_captions(tree: Any) -> list[str]:
    """Figure captions and image alt texts: lines equal to these are not body text."""
    captions = [normalise(el.text_content()) for el in _CAPTION_TEXTS(tree)]
    captions.extend(normalise(str(alt)) for alt in _IMG_ALTS(tree))
    return [c for c in captions if c]


def _first(*values: Any) -> str | None:
    for value in values:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
