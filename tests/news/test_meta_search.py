"""digests.meta_search finds the bylines, categories and tags trafilatura's own searches find,
on any page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from trafilatura import metadata
from trafilatura.utils import load_html

from digests import meta_search

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(
    [
        *(ROOT / "config" / "samples").glob("*.html"),
        *(ROOT / "tests/news/data/pages").rglob("*.htm*"),
    ]
)

# Attribute values and texts around every condition of trafilatura's expressions, near misses
# included (a class that only contains "author", a one-letter text, a 120-character one, a
# link instead of a name), so that generated pages exercise each branch.
CLASSES = [
    "author", "byline", "Byline", "author-name", "authorname", "AuthorName", "authorName",
    "post-author", "username", "byl", "BBL", "writer", "screenname", "channel-name",
    "submitted-by", "posted-by", "journalist-name", "comments", "Comments", "commentlist",
    "comments-list", "title", "date", "sidebar", "is-hidden", "quote", "print", "category",
    "meta-date", "meta-reviewer", "article-share", "article-support", "embedly-instagram",
    "my-comments", "story", "x",
    # categories and tags
    "postinfo", "post-info", "postmeta", "post-meta", "meta", "metadata", "entry-meta",
    "entry-info", "entry-utility", "entry-categories", "entry-tags", "entry-footer", "tag",
    "tags", "tagcloud", "post-category", "postcategory", "entry-category", "cat-links",
    "my-cat-links", "entry-header", "row", "jp-relatedposts", "topics", "hot-topics",
    "tags-links", "x-meta",
]  # fmt: skip
IDS = [
    "author", "Author", "authors", "comments", "comments-2", "comment-list", "commentlist",
    "ProductReviews", "zuozhe", "bianji", "xiaobian", "main", "my-comments", "postpath",
    "postpath-2", "filedunder",
]  # fmt: skip
ATTRIBUTES = {
    "class": CLASSES,
    "id": IDS,
    "rel": ["author", "me", "nofollow"],
    "itemprop": ["author", "author name", "name", "authorship"],
    "data-testid": ["AuthorCard", "AuthorURL", "Card"],
    "data-component": ["Byline", "Figure", "Body"],
    "href": ["/category/world/", "/categories/asia/", "/tag/trade/", "/tags/ports/", "/news/", ""],
}
TAGS = [
    "a", "address", "div", "link", "p", "span", "strong", "h3", "h4", "section", "author",
    "rel", "time", "figure", "li", "em", "footer", "header",
]  # fmt: skip
TEXTS = [
    "Jane Doe", "By John Smith", "me", "", "ab", "Anna Li and Bo Chen", "x" * 130,
    "http://example.com/jane", "jane@example.com", "Posted by Sam Roe | 3 min read",
    "y" * 119, "z" * 120,
]  # fmt: skip


@st.composite
def elements(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(st.sampled_from(TAGS))
    names = draw(st.lists(st.sampled_from(sorted(ATTRIBUTES)), max_size=3, unique=True))
    attributes = "".join(f' {n}="{draw(st.sampled_from(ATTRIBUTES[n]))}"' for n in names)
    text = draw(st.sampled_from(TEXTS))
    children = draw(st.lists(elements(depth + 1), max_size=3)) if depth < 3 else []
    tail = draw(st.sampled_from(["", " and ", "Jane"]))
    return f"<{tag}{attributes}>{text}{''.join(children)}</{tag}>{tail}"


def _page(body: str, head: str = "") -> Any:
    return load_html(f"<html><head><title>t</title>{head}</head><body>{body}</body></html>")


SECTION_META = '<meta property="article:section" content="Opinion">'
LINKS = '<a href="/category/world/">World</a> <a href="/tag/trade/">Trade</a><a>no href</a>'


def _same_as_trafilatura(tree: Any, context: str = "") -> None:
    assert meta_search.extract_author(tree) == metadata.extract_author(tree), context
    theirs = (metadata.extract_catstags("category", tree), metadata.extract_catstags("tag", tree))
    assert meta_search.categories_and_tags(tree) == theirs, context
    assert meta_search.extract_catstags("tag", tree) == theirs[1], context


@settings(max_examples=300, deadline=None)
@given(st.lists(elements(), min_size=1, max_size=6), st.sampled_from(["", SECTION_META]))
def test_same_as_trafilatura_on_generated_pages(parts: list[str], head: str) -> None:
    _same_as_trafilatura(_page("".join(parts), head))


def test_same_as_trafilatura_for_every_tag_and_attribute_value() -> None:
    # Each condition of each expression on its own: one element with one attribute, as a
    # byline (a name, and names too long by one character and just short enough), inside a
    # discarded section, around a byline that may be discarded with it, and around links to a
    # category and a tag (with and without the page's section in its tags).
    for tag in TAGS:
        for name, values in ATTRIBUTES.items():
            for value in values:
                for text in ("Jane Doe", "z" * 120, "y" * 119):
                    element = f'<{tag} {name}="{value}">{text}</{tag}>'
                    bodies = [
                        element,
                        f'<div class="sidebar">{element}</div>',
                        f'<{tag} {name}="{value}"><span class="byline">{text}</span></{tag}>',
                    ]
                    for body in bodies:
                        tree = _page(body)
                        assert meta_search.extract_author(tree) == metadata.extract_author(tree), (
                            body
                        )
                links = f'<{tag} {name}="{value}">{LINKS}</{tag}>'
                # a link that is itself the section: only the links under it count
                itself = f'<{tag} {name}="{value}" href="/tag/self/">Self {LINKS}</{tag}>'
                for body in (links, f'<div class="row">{links}</div>', itself):
                    for head in ("", SECTION_META):
                        _same_as_trafilatura(_page(body, head), body)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_same_as_trafilatura_on_real_pages(path: Path) -> None:
    _same_as_trafilatura(load_html(path.read_bytes()), path.name)


def test_the_page_is_left_as_it_was() -> None:
    tree = _page('<div class="comments">Reader</div><time>today</time><p class="byline">Jo Ma</p>')
    before = len(list(tree.iter()))
    assert meta_search.extract_author(tree) == "Jo Ma"
    assert len(list(tree.iter())) == before


@pytest.mark.parametrize(
    ("body", "author"),
    [
        ('<span class="byline">By Jane Doe</span>', "Jane Doe"),
        # a byline inside comments, or only as a date, is not the piece's author
        ('<div id="comments"><span class="author">Troll Kim</span></div>', None),
        ('<time class="author">12 May</time><a rel="author">Ann Lee</a>', "Ann Lee"),
        # the first expression wins over the later ones, whatever the order in the page
        ('<div class="writer">Bo Wu</div><a rel="author">Cy Tan</a>', "Cy Tan"),
    ],
)
def test_bylines(body: str, author: str | None) -> None:
    assert meta_search.extract_author(_page(body)) == author


def test_a_trafilatura_with_other_expressions_is_asked_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(meta_search, "_checked", [])
    monkeypatch.setattr(metadata, "AUTHOR_XPATHS", metadata.AUTHOR_XPATHS[:1])
    calls: list[Any] = []
    monkeypatch.setattr(metadata, "extract_author", lambda tree: calls.append(tree) or "Their Pick")
    tree = _page('<span class="byline">By Jane Doe</span>')
    assert meta_search.extract_author(tree) == "Their Pick"
    assert calls == [tree]


def test_categories_from_a_trafilatura_with_other_expressions_are_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(meta_search, "_checked", [])
    monkeypatch.setattr(metadata, "TAGS_XPATHS", metadata.TAGS_XPATHS[1:])
    monkeypatch.setattr(metadata, "extract_catstags", lambda kind, tree: [f"their {kind}"])
    tree = _page(f'<div class="tags">{LINKS}</div>')
    assert meta_search.categories_and_tags(tree) == (["their category"], ["their tag"])
