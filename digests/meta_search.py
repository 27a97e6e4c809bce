"""trafilatura's byline and category searches (``trafilatura.metadata.extract_author`` and
``extract_catstags``), same answers, less CPU.

Both run only when the page's tags do not say (:mod:`digests.page_meta`), and between them they
cost a quarter of a whole card on such a page (``bench/pipeline.py``): trafilatura's XPath
expressions call ``re:test``, which lxml runs as a Python callback once for every element of the
page, and each expression walks the whole tree again. Here one XPath in plain XPath 1.0 picks
the elements that carry any attribute the byline expressions look at, and the expressions' own
conditions are tested on those few in Python, with the same patterns, so each expression's
matches come out as the same elements in the same (document) order. The category and tag
expressions select links under a container: the search starts from the few links whose
address names such a section and tests their ancestors. The rest is trafilatura's
own: for bylines, the copy of the tree, the deletion of comment sections, dates and figures
before searching (``delete_element``), the first match of a plausible length and
``normalize_authors``; for categories and tags, the links' addresses, texts and clean-up.
``tests/news/test_meta_search.py`` holds each search beside trafilatura's on generated pages,
on every tag and attribute value the expressions name, and on the bundled sample pages.

When a new trafilatura changes its expressions, :data:`EXPRESSIONS_READ` no longer matches what
it ships and the search is handed back to trafilatura unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any

from lxml import etree
from trafilatura import metadata as _metadata
from trafilatura.baseline import block_text
from trafilatura.utils import line_processing, trim
from trafilatura.xml import delete_element

__all__ = ["categories_and_tags", "extract_author", "extract_catstags"]

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


# --- categories and tags -------------------------------------------------------------------

# Links whose address could name a category or a tag section (see _SECTION_ADDRESS): the
# searches start from these few and look up at their ancestors, rather than testing every
# element of the page as a container (~2 ms a page, most of it Python per element).
_SECTION_LINKS = etree.XPath("//a[contains(@href, '/categor') or contains(@href, '/tag')]")
# trafilatura's own test of a link's address: "/" + metatype.rstrip("y") + "(?:y|ies|s)?/".
_SECTION_ADDRESS = {
    "category": re.compile("/categor(?:y|ies|s)?/"),
    "tag": re.compile("/tag(?:y|ies|s)?/"),
}
_SECTION_META = etree.XPath(
    './/head//meta[@property="article:section" or contains(@name, "subject")][@content]'
)
_C1_CLASS = re.compile("^(?:post-?info|post-?meta|meta|entry-meta|entry-info|entry-utility)")
_T3_CLASS = re.compile("^(?:tag|postmeta|meta)")


def _c1(tag: str, css: str, ident: str) -> bool:
    return tag == "div" and (_C1_CLASS.search(css) is not None or ident.startswith("postpath"))


def _c2(tag: str, css: str, ident: str) -> bool:
    return tag == "p" and (
        css.startswith(("postmeta", "entry-categories"))
        or css == "postinfo"
        or ident == "filedunder"
    )


def _c3(tag: str, css: str, ident: str) -> bool:
    return tag == "footer" and css.startswith(("entry-meta", "entry-footer"))


def _c4(tag: str, css: str, ident: str) -> bool:
    return tag in ("li", "span") and (
        css in ("post-category", "postcategory", "entry-category") or "cat-links" in css
    )


def _c5(tag: str, css: str, ident: str) -> bool:
    return tag == "header" and css == "entry-header"


def _c6(tag: str, css: str, ident: str) -> bool:
    return tag == "div" and css in ("row", "tags")


def _t1(tag: str, css: str, ident: str) -> bool:
    return tag == "div" and css == "tags"


def _t2(tag: str, css: str, ident: str) -> bool:
    return tag == "p" and css.startswith("entry-tags")


def _t3(tag: str, css: str, ident: str) -> bool:
    return tag == "div" and (
        css in ("row", "jp-relatedposts", "entry-utility") or _T3_CLASS.search(css) is not None
    )


def _t4(tag: str, css: str, ident: str) -> bool:
    return css == "entry-meta" or "topics" in css or "tags-links" in css


Container = Callable[[str, str, str], bool]
_CATEGORY_CONTAINERS: tuple[Container, ...] = (_c1, _c2, _c3, _c4, _c5, _c6)
_TAG_CONTAINERS: tuple[Container, ...] = (_t1, _t2, _t3, _t4)


def extract_catstags(metatype: str, tree: Any) -> list[str]:
    """The page's categories (``"category"``) or tags (``"tag"``) as
    ``trafilatura.metadata.extract_catstags`` finds them."""
    categories, tags = categories_and_tags(
        tree, categories=metatype == "category", tags=metatype != "category"
    )
    return categories if metatype == "category" else tags


def categories_and_tags(
    tree: Any, *, categories: bool = True, tags: bool = True
) -> tuple[list[str], list[str]]:
    """Both searches of :func:`extract_catstags` over one walk of the page (an empty list for
    the one not asked for)."""
    if not _expressions_unchanged():
        return (
            _metadata.extract_catstags("category", tree) if categories else [],
            _metadata.extract_catstags("tag", tree) if tags else [],
        )
    links = _SECTION_LINKS(tree)
    return (
        _catstags("category", tree, links) if categories else [],
        _catstags("tag", tree, links) if tags else [],
    )


def _catstags(metatype: str, tree: Any, links: list[Any]) -> list[str]:
    # trafilatura's loop: the first expression whose links name such a section wins. An
    # expression ``<container>//a[@href]`` selects, in document order, each link that has a
    # container among its ancestors (the link itself excluded), which is what is tested here.
    section = _SECTION_ADDRESS[metatype]
    named = [
        (link, [(e.tag, e.get("class") or "", e.get("id") or "") for e in link.iterancestors()])
        for link in links
        if section.search(link.attrib["href"])
    ]
    results: list[str] = []
    for rule in _CATEGORY_CONTAINERS if metatype == "category" else _TAG_CONTAINERS:
        results.extend(
            block_text(link) for link, ancestors in named if any(rule(*a) for a in ancestors)
        )
        if results:
            break
    if metatype == "category" and not results:
        results.extend(element.attrib["content"] for element in _SECTION_META(tree))
    return [r for r in dict.fromkeys(line_processing(x) for x in results if x) if r]


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
    (
        "//div[ re:test(@class, '^(?:post-?info|post-?meta|meta|entry-meta|entry-info|"
        "entry-utility)') or starts-with(@id, 'postpath')]//a[@href]",
        "//p[starts-with(@class, 'postmeta') or starts-with(@class, 'entry-categories') or "
        "@class='postinfo' or @id='filedunder']//a[@href]",
        "//footer[starts-with(@class, 'entry-meta') or starts-with(@class, 'entry-footer')]"
        "//a[@href]",
        "//*[self::li or self::span][@class='post-category' or @class='postcategory' or "
        "@class='entry-category' or contains(@class, 'cat-links')]//a[@href]",
        "//header[@class='entry-header']//a[@href]",
        "//div[@class='row' or @class='tags']//a[@href]",
    ),
    (
        "//div[@class='tags']//a[@href]",
        "//p[starts-with(@class, 'entry-tags')]//a[@href]",
        "//div[@class='row' or @class='jp-relatedposts' or @class='entry-utility' or "
        "re:test(@class, '^(?:tag|postmeta|meta)')]//a[@href]",
        "//*[@class='entry-meta' or contains(@class, 'topics') or contains(@class, 'tags-links')]"
        "//a[@href]",
    ),
)
_checked: list[bool] = []


def _expressions_unchanged() -> bool:
    if not _checked:
        shipped = tuple(
            tuple(_squeeze(x.path) for x in group)
            for group in (
                _metadata.AUTHOR_XPATHS,
                _metadata.AUTHOR_DISCARD_XPATHS,
                _metadata.CATEGORIES_XPATHS,
                _metadata.TAGS_XPATHS,
            )
        )
        _checked.append(shipped == tuple(tuple(map(_squeeze, group)) for group in EXPRESSIONS_READ))
    return _checked[0]
