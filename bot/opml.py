"""OPML subscription lists, read and written: ``digestbot feeds import|export`` and the chat's
``/import`` and ``/export``. Read with defusedxml (no entity expansion, no external DTDs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from defusedxml import ElementTree as SafeET

from bot.errors import FeedsFileError
from bot.models import FeedRecord

__all__ = ["FeedConfig", "parse_opml", "render_opml"]


@dataclass(frozen=True, slots=True)
class FeedConfig:
    url: str
    name: str | None = None
    topics: tuple[str, ...] = ()


def parse_opml(data: bytes) -> list[FeedConfig]:
    """Feeds of an OPML subscription list (nested outlines flattened; the ``category``
    attribute becomes the feed's topics)."""
    try:
        root = SafeET.fromstring(data)
    except Exception as exc:  # defusedxml raises ParseError or its own DefusedXmlException
        raise FeedsFileError(f"not a readable OPML file: {exc}") from exc
    if root.tag.lower() != "opml":
        raise FeedsFileError(f"not an OPML file (root element <{root.tag}>)")
    feeds = []
    seen: set[str] = set()
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url or url in seen:
            continue
        seen.add(url)
        name = outline.get("title") or outline.get("text")
        categories = outline.get("category") or ""
        topics = tuple(
            c.strip().strip("/").rsplit("/", 1)[-1].lower()
            for c in categories.split(",")
            if c.strip().strip("/")
        )
        feeds.append(FeedConfig(url=url, name=name or None, topics=topics))
    return feeds


def render_opml(feeds: Sequence[FeedRecord], *, title: str = "digestbot feeds") -> str:
    """An OPML 2.0 subscription list of ``feeds`` (their names, topics as categories)."""
    opml = Element("opml", version="2.0")
    head = SubElement(opml, "head")
    SubElement(head, "title").text = title
    body = SubElement(opml, "body")
    for feed in feeds:
        attrs = {"type": "rss", "text": feed.name or feed.url, "xmlUrl": feed.url}
        if feed.name:
            attrs["title"] = feed.name
        if feed.topics:
            attrs["category"] = ",".join(feed.topics)
        SubElement(body, "outline", attrs)
    indent(opml)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(opml, encoding="unicode") + "\n"
