"""trafilatura's byline search (``trafilatura.metadata.extract_author``), same answers, less CPU.

trafilatura finds a byline with XPath expressions that call ``re:test``: lxml runs each such
test as a Python callback, once for every element of the page, and the search costs more than
a tenth of a whole card on a page whose tags name no author (``bench/pipeline.py``). Here one
XPath in plain XPath 1.0 picks the elements that carry any of the attributes those expressions
look at, and the expressions' own conditions are tested on those few in Python, with the same
patterns, so each expression's matches come out as the same elements in the same (document)
order. The rest of the search is trafilatura's: the copy of the tree, the deletion of comment
sections, dates and figures before searching (``delete_element``), the first match of a
plausible length, and ``normalize_authors``. ``tests/news/test_byline.py`` holds the two
searches side by side on generated pages and on the bundled samples.

When a new trafilatura changes its expressions, :data:`EXPRESSIONS_READ` no longer matches what
it ships and :func:`extract_author` hands the search back to trafilatura unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any

from lxml import etree
from trafilatura import metadata as _metadata
from trafilatura.utils import trim
from trafilatura.xml import delete_element

__all__ = ["extract_author"]

Predicate = Callable[[Any], bool]

# Every element that any of the expressions below could select: those with one of the
# attributes they test, ``<author>``, and those with a ``<rel>`` child (``rel='me'``, sic).
_CANDIDATES = etree.XPath(
    "//*[@class or @id or @rel or @itemprop or @data-testid or @data-component"
    " or self::author or rel]"
)
# The elements the first discard expression tests, narrowed by tag and attribute in XPath.
_DISCARD_CANDIDATES = etree.XPath(
    "//*[self::a or self::div or self::section or self::span][@id or @class or @data-component]"
)
_TIME_AND_FIGURES = etree.XPath("//time|//figure")

# The ``re:test`` patterns of trafilatura's expressions, verbatim; re:test is ``re.search``.
_A1_CLASS = re.compile("author-?name|AuthorName|authorName")
_A2_ID = re.compile("author|zuozhe|bianji|xiaobian")
_A2_CLASS = re.compile(
    "author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name"
)
_A3_ID = re.compile("[Aa]uthor")
_A3_CLASS = re.compile("[Aa]uthor|screenname|writer|[Bb]yline")
_D_ID = re.compile("^comments|comment-?list|ProductReviews")
_D_CLASS = re.compile(
    "^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram"
    "|article-(?:share|support)|print|category|meta-date|meta-reviewer"
)


def _has_rel_me(element: Any) -> bool:
    # XPath ``rel='me'``: a child element <rel> whose text is exactly "me". Nearly no page has
    # a <rel>, so the C-level find() spares the walk over the children.
    return element.find("rel") is not None and any(
        child.tag == "rel" and "".join(child.itertext()) == "me" for child in element.iterchildren()
    )


def _a1(element: Any) -> bool:
    """``//*[self::a or ... self::strong][@rel='author' or ...]|//author``"""
    tag = element.tag
    if tag == "author":
        return True
    if tag not in ("a", "address", "div", "link", "p", "span", "strong"):
        return False
    get = element.get
    return (
        get("rel") == "author"
        or get("id") == "author"
        or get("class") == "author"
        or get("itemprop") == "author name"
        or get("data-testid") in ("AuthorCard", "AuthorURL")
        or _A1_CLASS.search(get("class") or "") is not None
        or _has_rel_me(element)
    )


def _a2(element: Any) -> bool:
    """``//*[self::a or ... self::span][@class='byline' or ...]``"""
    if element.tag not in ("a", "div", "h3", "h4", "p", "span"):
        return False
    get = element.get
    css = get("class") or ""
    return (
        css in ("byline", "username", "byl", "BBL")
        or "author" in (get("itemprop") or "")
        or _A2_ID.search(get("id") or "") is not None
        or _A2_CLASS.search(css) is not None
    )


def _a3(element: Any) -> bool:
    """``//*[contains(@data-component, 'Byline') or ...]``"""
    get = element.get
    return (
        "Byline" in (get("data-component") or "")
        or "author" in (get("itemprop") or "")
        or _A3_ID.search(get("id") or "") is not None
        or _A3_CLASS.search(get("class") or "") is not None
    )


def _discarded(element: Any) -> bool:
    """The first of trafilatura's ``AUTHOR_DISCARD_XPATHS``: comments, sidebars, shares..."""
    if element.tag not in ("a", "div", "section", "span"):
        return False
    get = element.get
    ident, css = get("id") or "", get("class") or ""
    return (
        ident == "comments"
        or css in ("comments", "title", "date")
        or _D_ID.search(ident) is not None
        or _D_CLASS.search(css) is not None
        or "Figure" in (get("data-component") or "")
    )


def _first_plausible(elements: Iterable[Any]) -> str | None:
    # trafilatura.metadata.extract_metainfo with len_limit=120.
    for element in elements:
        content = trim(" ".join(element.itertext()))
        if content and 2 < len(content) < 120:
            return content
    return None


def extract_author(tree: Any) -> str | None:
    """The page's byline as ``trafilatura.metadata.extract_author`` finds it."""
    if not _expressions_unchanged():
        return _metadata.extract_author(tree)
    subtree = deepcopy(tree)
    # As trafilatura.htmlprocessing.prune_unwanted_nodes: each expression's matches are found
    # before any is deleted, and the second expression runs on what the first left.
    for element in [e for e in _DISCARD_CANDIDATES(subtree) if _discarded(e)]:
        delete_element(element)
    for element in _TIME_AND_FIGURES(subtree):
        delete_element(element)
    candidates = _CANDIDATES(subtree)
    for predicate in (_a1, _a2, _a3):
        author = _first_plausible(e for e in candidates if predicate(e))
        if author:
            return _metadata.normalize_authors(None, author)
    return None


def _squeeze(path: str) -> str:
    return " ".join(path.split())


# trafilatura's expressions as this module reads them (whitespace aside). Checked at the first
# search, not at import, so that importing this module stays free.
EXPRESSIONS_READ = (
    (
        "//*[self::a or self::address or self::div or self::link or self::p or self::span or "
        "self::strong][ @rel='author' or @id='author' or @class='author' or "
        "@itemprop='author name' or rel='me' or @data-testid='AuthorCard' or "
        "@data-testid='AuthorURL' or re:test(@class, 'author-?name|AuthorName|authorName')]"
        "|//author",
        "//*[self::a or self::div or self::h3 or self::h4 or self::p or self::span][ "
        "@class='byline' or @class='username' or @class='byl' or @class='BBL' or "
        "contains(@itemprop, 'author') or re:test(@id, 'author|zuozhe|bianji|xiaobian') or "
        "re:test(@class, 'author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|"
        "journalist-name')]",
        "//*[ contains(@data-component, 'Byline') or contains(@itemprop, 'author') or "
        "re:test(@id, '[Aa]uthor') or re:test(@class, '[Aa]uthor|screenname|writer|[Bb]yline')]",
    ),
    (
        ".//*[self::a or self::div or self::section or self::span][ @id='comments' or "
        "@class='comments' or @class='title' or @class='date' or re:test(@id, "
        "'^comments|comment-?list|ProductReviews') or re:test(@class, '^[Cc]omments|commentlist|"
        "comments-list|sidebar|is-hidden|quote|embedly-instagram|article-(?:share|support)|print|"
        "category|meta-date|meta-reviewer') or contains(@data-component, 'Figure')]",
        "//time|//figure",
    ),
)
_checked: list[bool] = []


def _expressions_unchanged() -> bool:
    if not _checked:
        shipped = (
            tuple(_squeeze(x.path) for x in _metadata.AUTHOR_XPATHS),
            tuple(_squeeze(x.path) for x in _metadata.AUTHOR_DISCARD_XPATHS),
        )
        _checked.append(shipped == tuple(tuple(map(_squeeze, group)) for group in EXPRESSIONS_READ))
    return _checked[0]
