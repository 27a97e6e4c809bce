"""The plain data of the news side, named by where it comes from and where it goes.

All datetimes are timezone-aware UTC. Every model is immutable so that decisions over it stay
pure functions: a frozen dataclass, or a named tuple where one is built per fetch
(:class:`FetchedResource`, thousands per poll cycle; a frozen dataclass cost five times as much).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple


class FetchedResource(NamedTuple):
    """What the HTTP fetcher returns for one URL.

    ``content`` is ``None`` when the server answered 304 Not Modified.
    """

    url: str  # the final URL, after redirects
    status: int
    content: bytes | None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None  # digest of the (decoded) body, see digests.http_body

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry of a parsed feed, before its page is fetched."""

    entry_id: str  # stable identity: guid/id, else link, else a hash of title + content
    feed_url: str
    title: str
    link: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    author: str | None = None
    summary_html: str | None = None  # <description> / <summary>
    content_html: str | None = None  # <content:encoded> / Atom <content>: the fallback text
    categories: tuple[str, ...] = ()
    language: str | None = None  # the feed's <language> / xml:lang, as declared


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed document turned into entries. ``warning`` carries feedparser's bozo message."""

    url: str
    title: str | None
    site_url: str | None
    entries: tuple[FeedEntry, ...]
    ttl_minutes: int | None = None
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """The cleaned main text of a piece plus its metadata."""

    url: str  # canonical URL when the page declares one
    title: str
    text: str  # cleaned main text, paragraphs separated by blank lines, no editor's note
    source: str | None = None  # site name
    author: str | None = None
    published: datetime | None = None
    editors_note: str | None = None  # verbatim, without its label
    categories: tuple[str, ...] = ()  # the feed's own categories / page tags
    language: str | None = None  # primary subtag ("zh", "de"); None when it cannot be told


@dataclass(frozen=True, slots=True)
class Card:
    """A digest card: what subscribers read. Rendered by ``digests.render``."""

    title: str
    url: str
    source: str | None
    published: datetime | None
    summary: tuple[str, ...]
    key_facts: tuple[str, ...]
    editors_note: str | None
    topics: tuple[str, ...]
    reading_minutes: int
    text: str = ""
    categories: tuple[str, ...] = ()
    author: str | None = None
    entry_id: str | None = None
    feed_url: str | None = None
    language: str | None = None  # primary subtag ("zh", "de"); None when it cannot be told

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``published`` as ISO 8601 or ``None``."""
        return {
            "title": self.title,
            "url": self.url,
            "source": self.source,
            "published": self.published.isoformat() if self.published else None,
            "summary": list(self.summary),
            "key_facts": list(self.key_facts),
            "editors_note": self.editors_note,
            "topics": list(self.topics),
            "reading_minutes": self.reading_minutes,
            "text": self.text,
            "categories": list(self.categories),
            "author": self.author,
            "entry_id": self.entry_id,
            "feed_url": self.feed_url,
            "language": self.language,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Card:
        published = data.get("published")
        return cls(
            title=data["title"],
            url=data["url"],
            source=data.get("source"),
            published=datetime.fromisoformat(published) if published else None,
            summary=tuple(data.get("summary") or ()),
            key_facts=tuple(data.get("key_facts") or ()),
            editors_note=data.get("editors_note"),
            topics=tuple(data.get("topics") or ()),
            reading_minutes=int(data.get("reading_minutes", 1)),  # 0: page never read
            text=data.get("text") or "",
            categories=tuple(data.get("categories") or ()),
            author=data.get("author"),
            entry_id=data.get("entry_id"),
            feed_url=data.get("feed_url"),
            language=data.get("language"),  # cards stored before it was recorded have none
        )
