"""parse_feed over fixture documents in tests/news/data/feeds/ and small inline cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digests.errors import FeedError
from digests.feeds import entry_identity, neutralise_char_refs, parse_feed, safe_link

DATA = Path(__file__).parent / "data" / "feeds"


def _load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_rss2() -> None:
    feed = parse_feed(_load("rss2.xml"), "https://news.example.com/opinion/rss.xml")
    assert feed.title == "Opinion | Example News"
    assert feed.site_url == "https://news.example.com/opinion/"
    assert feed.ttl_minutes == 30
    assert feed.warning is None
    first, second, third = feed.entries
    assert first.entry_id == "cgtn-2025-11-01-china-rok"
    assert first.title == "Elevating the China-ROK Strategic Cooperative Partnership"
    assert first.link == "https://news.example.com/opinion/2025-11-01/china-rok.html"
    assert first.published == datetime(2025, 11, 1, 6, 30, tzinfo=UTC)
    assert first.author == "First Voice"
    assert first.categories == ("Opinion", "Asia-Pacific")
    assert first.summary_html == "A short teaser."
    assert first.content_html is not None
    assert "<p>Editor's note: the column.</p>" in first.content_html
    assert 'href="https://news.example.com/related"' in first.content_html
    assert first.feed_url == "https://news.example.com/opinion/rss.xml"
    assert second.entry_id == "https://news.example.com/opinion/no-guid.html"
    assert second.content_html is None
    assert second.summary_html == "<p>Only a description.</p>"
    assert third.entry_id.startswith("sha256:")
    assert third.link is None


def test_atom() -> None:
    feed = parse_feed(_load("atom.xml"), "https://blog.example.com/atom.xml")
    assert feed.title == "Example Blog"
    assert feed.site_url == "https://blog.example.com/"
    (entry,) = feed.entries
    assert entry.title == "Tariffs & trade"
    assert entry.entry_id == "tag:blog.example.com,2025:tariffs"
    assert entry.link == "https://blog.example.com/posts/tariffs"
    assert entry.published == datetime(2025, 11, 2, 7, 0, tzinfo=UTC)
    assert entry.updated == datetime(2025, 11, 2, 9, 30, tzinfo=UTC)
    assert entry.author == "Ada Writer"
    assert entry.categories == ("economy", "trade")
    assert entry.summary_html == "Why tariffs bite."
    assert entry.content_html is not None
    assert 'src="https://blog.example.com/img/chart.png"' in entry.content_html


def test_rss1() -> None:
    feed = parse_feed(_load("rss1.rdf"), "https://rdf.example.org/index.rdf")
    (entry,) = feed.entries
    assert feed.title == "RDF Site"
    assert entry.title == "An RDF item"
    assert entry.entry_id == "https://rdf.example.org/a"
    assert entry.published == datetime(2025, 10, 30, 11, 0, tzinfo=UTC)
    assert entry.categories == ("Science",)


def test_json_feed() -> None:
    feed = parse_feed(_load("feed.json"), "https://json.example.net/feed.json")
    assert feed.title == "JSON Opinions"
    assert feed.site_url == "https://json.example.net/"
    assert feed.warning is None
    first, second = feed.entries
    assert first.entry_id == "42"
    assert first.link == "https://json.example.net/posts/42"
    assert first.published == datetime(2025, 11, 1, 15, 0, tzinfo=UTC)
    assert first.updated == datetime(2025, 11, 1, 12, 0, tzinfo=UTC)
    assert first.content_html == "<p>JSON body</p>"
    assert first.summary_html == "Teaser &lt;plain&gt;"
    assert first.categories == ("policy", "climate")
    assert first.author == "Desk"
    assert first.title == "A JSON piece"
    assert second.content_html == "<p>First line.</p><p>Second &lt;line&gt;.</p>"
    assert second.author == "Sam, Kim"
    assert second.title == ""


def test_json_detected_by_content_type_and_invalid_json() -> None:
    with pytest.raises(FeedError, match="invalid JSON"):
        parse_feed(b"not json", "https://x.test/f", content_type="application/feed+json")
    with pytest.raises(FeedError, match="'items' list"):
        parse_feed(b'{"title": "x"}', "https://x.test/f")


def test_broken_but_usable_feed_carries_a_warning() -> None:
    feed = parse_feed(_load("broken.xml"), "https://broken.example.com/rss")
    assert [e.entry_id for e in feed.entries] == ["one", "two"]
    assert feed.warning


@pytest.mark.parametrize(
    "content",
    [
        _load("not-a-feed.html"),
        b"",
        b"\x00\x01\x02 binary junk",
        b"<rss version='2.0'><channel><title>cut off",
    ],
)
def test_unusable_documents_raise_feed_error(content: bytes) -> None:
    with pytest.raises(FeedError) as info:
        parse_feed(content, "https://x.test/feed")
    assert info.value.url == "https://x.test/feed"
    assert "no entries" in info.value.reason


def test_well_formed_empty_feed_is_not_an_error() -> None:
    doc = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    feed = parse_feed(doc, "https://x.test/feed")
    assert feed.entries == ()
    assert feed.title == "Quiet"


@pytest.mark.parametrize(
    "ref", ["&#xD800;", "&#x110000;", "&#99999999999999999999999;", "&#xDFFF;", "&#1114112;"]
)
def test_bad_character_references_never_crash(ref: str) -> None:
    doc = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        '<item><guid isPermaLink="false">g</guid>'
        f"<title>a {ref} b</title><description>d {ref}</description>"
        "</item></channel></rss>"
    ).encode()
    feed = parse_feed(doc, "https://x.test/feed")
    (entry,) = feed.entries
    assert entry.entry_id == "g"
    assert entry.title.startswith("a ") and entry.title.endswith(" b")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (b"&#xD800;", b"&#xFFFD;"),
        (b"&#x110000;", b"&#xFFFD;"),
        (b"&#123456789012;", b"&#xFFFD;"),
        (b"&#x41; &#65; &#x10FFFF;", b"&#x41; &#65; &#x10FFFF;"),
        (b"&amp; &#xZZ;", b"&amp; &#xZZ;"),
    ],
)
def test_neutralise_char_refs(before: bytes, after: bytes) -> None:
    assert neutralise_char_refs(before) == after


def _rss_item(updated: str, title: str = "Same piece") -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item>'
        f"<title>{title}</title><description>Body</description><pubDate>{updated}</pubDate>"
        "</item></channel></rss>"
    ).encode()


def test_identity_is_stable_when_dates_change() -> None:
    a = parse_feed(_rss_item("Sat, 01 Nov 2025 08:00:00 GMT"), "https://x.test/f").entries[0]
    b = parse_feed(_rss_item("Sun, 02 Nov 2025 09:00:00 GMT"), "https://x.test/f").entries[0]
    assert a.published != b.published
    assert a.entry_id == b.entry_id
    c = parse_feed(_rss_item("Sat, 01 Nov 2025 08:00:00 GMT", "Other"), "https://x.test/f")
    assert c.entries[0].entry_id != a.entry_id


def test_atom_entry_with_changed_updated_keeps_its_id() -> None:
    original = _load("atom.xml")
    edited = original.replace(b"2025-11-02T11:30:00+02:00", b"2025-11-05T08:00:00+02:00")
    a = parse_feed(original, "https://blog.example.com/atom.xml").entries[0]
    b = parse_feed(edited, "https://blog.example.com/atom.xml").entries[0]
    assert a.updated != b.updated
    assert a.entry_id == b.entry_id


@pytest.mark.parametrize(
    ("guid", "link", "title", "content", "expected"),
    [
        ("  g-1 ", "https://x/1", "t", "c", "g-1"),
        (None, "https://x/1", "t", "c", "https://x/1"),
        ("", " https://x/1 ", "t", "c", "https://x/1"),
        ("   ", None, "t", "c", None),
    ],
)
def test_entry_identity_table(
    guid: str | None, link: str | None, title: str, content: str, expected: str | None
) -> None:
    got = entry_identity(guid, link, title, content)
    if expected is None:
        assert got.startswith("sha256:") and len(got) == len("sha256:") + 64
    else:
        assert got == expected


def test_entry_identity_hash_depends_on_title_and_content_only() -> None:
    base = entry_identity(None, None, "Title", "Body")
    assert base == entry_identity(None, None, "Title", "Body")
    assert base != entry_identity(None, None, "Title", "Body, edited")
    assert base != entry_identity(None, None, "Title 2", "Body")


def test_permalink_guids_resolve_like_links_but_opaque_ones_stay_verbatim() -> None:
    doc = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><title>a</title><guid>/p/1</guid></item>"
        b'<item><title>b</title><guid isPermaLink="false">p-2</guid></item></channel></rss>'
    )
    a, b = parse_feed(doc, "https://site.test/rss.xml").entries
    assert a.entry_id == "https://site.test/p/1"
    assert b.entry_id == "p-2"


def test_rss_author_email_form_gives_the_name() -> None:
    doc = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><title>a</title><author>jane@example.com (Jane Doe)</author></item>"
        b"</channel></rss>"
    )
    assert parse_feed(doc, "https://x.test/rss").entries[0].author == "Jane Doe"


def test_relative_links_resolve_against_the_feed_url() -> None:
    doc = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>/</link>'
        b"<item><title>x</title><link>../posts/1.html</link></item></channel></rss>"
    )
    feed = parse_feed(doc, "https://site.test/feeds/main/rss.xml")
    assert feed.entries[0].link == "https://site.test/feeds/posts/1.html"
    assert feed.site_url == "https://site.test/"


@pytest.mark.parametrize(
    ("link", "feed_url", "expected"),
    [
        ("https://a.test/p", "https://a.test/rss", "https://a.test/p"),
        ("http://a.test/p", "/srv/feeds/local.xml", "http://a.test/p"),
        ("file:///etc/passwd", "https://evil.test/rss", None),
        ("file:/etc/passwd", "https://evil.test/rss", None),
        ("/etc/passwd", "https://evil.test/rss", None),
        ("javascript:alert(1)", "https://a.test/rss", None),
        ("mailto:x@a.test", "https://a.test/rss", None),
        ("ftp://a.test/file", "https://a.test/rss", None),
        ("", "https://a.test/rss", None),
        (None, "https://a.test/rss", None),
        ("config/samples/page.html", "config/samples/feed.xml", "config/samples/page.html"),
        ("file:///srv/page.html", "file:///srv/feed.xml", "file:///srv/page.html"),
    ],
)
def test_safe_link(link: str | None, feed_url: str, expected: str | None) -> None:
    assert safe_link(link, feed_url) == expected


def test_web_feed_cannot_point_entries_at_local_files() -> None:
    doc = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><title>a</title><link>file:///etc/passwd</link></item>"
        b"<item><title>b</title><link>file:////etc/passwd</link></item></channel></rss>"
    )
    assert [e.link for e in parse_feed(doc, "https://evil.test/rss").entries] == [None, None]
    json_doc = (
        b'{"version": "https://jsonfeed.org/version/1.1",'
        b' "items": [{"id": "1", "url": "file:///etc/passwd"}]}'
    )
    assert parse_feed(json_doc, "https://evil.test/feed.json").entries[0].link is None


def test_local_feed_links_resolve_to_local_pages(tmp_path: Path) -> None:
    doc = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><title>a</title><link>page.html</link></item></channel></rss>"
    )
    by_path = parse_feed(doc, str(tmp_path / "feed.xml")).entries[0]
    by_url = parse_feed(doc, (tmp_path / "feed.xml").as_uri()).entries[0]
    assert by_path.link == str(tmp_path / "page.html")
    assert by_url.link == str(tmp_path / "page.html")


def test_json_feed_tolerates_malformed_items() -> None:
    # Each of these once raised out of parse_feed, failing the whole feed on every poll.
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "T",
        "items": [
            {"id": "1", "title": "good", "url": "https://e.org/1", "content_text": "hello"},
            {"id": "2", "title": "bad tags", "tags": 5},
            {"id": "3", "title": "bad url", "url": "http://[bad"},
            {"id": "4", "title": "far date", "date_published": "9999-12-31T23:59:59-05:00"},
        ],
    }
    feed = parse_feed(json.dumps(doc).encode(), "https://e.org/feed.json")
    by_title = {e.title: e for e in feed.entries}
    assert list(by_title) == ["good", "bad tags", "bad url", "far date"]
    assert by_title["bad tags"].categories == ()
    assert by_title["bad url"].link is None
    assert by_title["far date"].published is None
