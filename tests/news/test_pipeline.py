"""NewsPipeline over real HTTP: a local server on 127.0.0.1 serves feeds and pages."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from digests.config import PipelineConfig
from digests.errors import ExtractionError, FetchError
from digests.http import Fetcher
from digests.models import Card, FeedEntry
from digests.pipeline import FeedFetch, NewsPipeline, newest_entries
from digests.topics import Taxonomy

PARAGRAPHS = [
    "The city council approved a budget of 4.2 billion dollars on Tuesday, the largest in its "
    "history, after a debate that lasted more than nine hours.",
    "Council members said the money would go to schools, public transport and housing, with "
    "housing alone receiving 1.1 billion dollars over the next three years.",
    "Critics argued that the plan raises property taxes by 3.5 percent and leaves the city "
    "exposed if the economy slows down next year.",
    "The mayor defended the budget, saying the investment in transport would cut commuting "
    "times and attract new businesses to the region.",
    "A final vote on the housing programme is expected in March, when the council will also "
    "review the transport plan and its costs.",
]


def article_page(title: str, paragraphs: list[str] = PARAGRAPHS) -> bytes:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title><meta property='og:title' content='{title}'>"
        "<meta property='og:site_name' content='Local Times'></head><body>"
        "<nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<article><h1>{title}</h1>{body}</article>"
        "<footer>Copyright Local Times. All rights reserved.</footer></body></html>"
    ).encode()


@dataclass
class Site:
    """Routes for the local server: path -> (status, content type, body)."""

    routes: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    base: str = ""
    hits: list[str] = field(default_factory=list)

    def add(
        self, path: str, body: bytes, content_type: str = "text/html", status: int = 200
    ) -> str:
        self.routes[path] = (status, content_type, body)
        return self.base + path


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits.append(self.path)
            status, content_type, body = state.routes.get(
                self.path, (404, "text/html", b"<html><body>Not found</body></html>")
            )
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def rss(items: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<channel><title>Local Times</title><link>http://127.0.0.1/</link>"
        "<description>News</description>" + "".join(items) + "</channel></rss>"
    ).encode()


def rss_item(
    title: str, link: str, *, date: str, content: str | None = None, category: str = "Politics"
) -> str:
    encoded = f"<content:encoded><![CDATA[{content}]]></content:encoded>" if content else ""
    return (
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>{date}</pubDate><category>{category}</category>{encoded}</item>"
    )


@pytest.fixture
def config() -> PipelineConfig:
    return PipelineConfig(connect_timeout=2, read_timeout=2, total_timeout=5)


@pytest.fixture
def taxonomy(config: PipelineConfig) -> Taxonomy:
    return Taxonomy.load(config.topics_path)


def entry(link: str | None, **changes: object) -> FeedEntry:
    values: dict[str, object] = {
        "entry_id": link or "id-1",
        "feed_url": "http://127.0.0.1/feed.xml",
        "title": "City council passes record budget",
        "link": link,
        "published": datetime(2026, 11, 27, 8, tzinfo=UTC),
        "categories": ("Politics",),
    }
    values.update(changes)
    return FeedEntry(**values)  # type: ignore[arg-type]


async def test_card_for_entry_reads_the_page(
    site: Site, config: PipelineConfig, taxonomy: Taxonomy
) -> None:
    link = site.add("/budget", article_page("City council passes record budget"))
    async with Fetcher(config) as fetcher:
        card = await NewsPipeline(fetcher, taxonomy, config).card_for_entry(entry(link))
    assert card.title == "City council passes record budget"
    assert card.url == link
    assert card.entry_id == link and card.feed_url == "http://127.0.0.1/feed.xml"
    assert 1 <= len(card.summary) <= 3
    assert "4.2 billion dollars" in " ".join(card.summary + card.key_facts)
    assert "All rights reserved" not in card.text
    assert "politics" in card.topics
    assert card.published == datetime(2026, 11, 27, 8, tzinfo=UTC)
    assert card.reading_minutes == 1


async def test_page_404_falls_back_to_feed_content(
    site: Site, config: PipelineConfig, taxonomy: Taxonomy, caplog: pytest.LogCaptureFixture
) -> None:
    link = site.base + "/gone"
    content = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    async with Fetcher(config) as fetcher:
        pipeline = NewsPipeline(fetcher, taxonomy, config)
        with caplog.at_level(logging.WARNING, logger="digests.pipeline"):
            card = await pipeline.card_for_entry(entry(link, content_html=content))
    assert site.hits == ["/gone"]
    assert card.title == "City council passes record budget"
    assert "council" in " ".join(card.summary)
    warning = " ".join(r.getMessage() for r in caplog.records)
    assert link in warning and "404" in warning


async def test_page_without_text_falls_back_to_feed_content(
    site: Site, config: PipelineConfig, taxonomy: Taxonomy, caplog: pytest.LogCaptureFixture
) -> None:
    link = site.add("/empty", b"<html><body><nav><a href='/'>Home</a></nav></body></html>")
    content = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    async with Fetcher(config) as fetcher:
        pipeline = NewsPipeline(fetcher, taxonomy, config)
        with caplog.at_level(logging.WARNING, logger="digests.pipeline"):
            card = await pipeline.card_for_entry(entry(link, content_html=content))
    assert "4.2 billion dollars" in card.text
    assert card.entry_id == link
    (record,) = caplog.records
    assert link in record.getMessage() and "feed's own content" in record.getMessage()


async def test_no_page_and_no_feed_content_is_an_extraction_error(
    site: Site, config: PipelineConfig, taxonomy: Taxonomy
) -> None:
    link = site.base + "/gone"
    async with Fetcher(config) as fetcher:
        pipeline = NewsPipeline(fetcher, taxonomy, config)
        with pytest.raises(ExtractionError) as caught:
            await pipeline.card_for_entry(entry(link, title=""))
    assert caught.value.url == link
    assert "404" in caught.value.reason


async def test_cards_for_entries_keeps_order_and_isolates_failures(
    site: Site, config: PipelineConfig, taxonomy: Taxonomy
) -> None:
    entries = [
        entry(site.add(f"/p{i}", article_page(f"Budget story {i}")), title=f"Budget story {i}")
        for i in range(5)
    ]
    entries.insert(2, entry(site.base + "/missing", title=""))
    async with Fetcher(config) as fetcher:
        outcomes = await NewsPipeline(fetcher, taxonomy, config).cards_for_entries(
            entries, concurrency=2
        )
    assert len(outcomes) == 6
    assert isinstance(outcomes[2], ExtractionError)
    cards = [o for o in outcomes if isinstance(o, Card)]
    assert [c.title for c in cards] == [f"Budget story {i}" for i in range(5)]


async def test_unexpected_error_in_one_entry_is_logged_and_isolated(
    site: Site, config: PipelineConfig, taxonomy: Taxonomy, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenOnce:  # an injected taxonomy that trips over one particular piece
        def tag(self, *, title: str, text: str, categories: object = ()) -> tuple[str, ...]:
            if title == "Poison":
                raise ValueError("All strings must be XML compatible")
            return taxonomy.tag(title=title, text=text)

        def names(self) -> tuple[str, ...]:
            return taxonomy.names()

    entries = [
        entry(site.add("/ok1", article_page("Fine one")), title="Fine one"),
        entry(site.add("/bad", article_page("Poison")), title="Poison"),
        entry(site.add("/ok2", article_page("Fine two")), title="Fine two"),
    ]
    async with Fetcher(config) as fetcher:
        pipeline = NewsPipeline(fetcher, BrokenOnce(), config)  # type: ignore[arg-type]
        with caplog.at_level(logging.ERROR, logger="digests.pipeline"):
            outcomes = await pipeline.cards_for_entries(entries)
    assert [o.title for o in outcomes if isinstance(o, Card)] == ["Fine one", "Fine two"]
    failure = outcomes[1]
    assert isinstance(failure, ExtractionError)
    assert failure.url == site.base + "/bad" and "ValueError" in failure.reason
    assert isinstance(failure.__cause__, ValueError)
    (record,) = caplog.records
    assert record.exc_info is not None and site.base + "/bad" in record.getMessage()


async def test_fetch_feed_and_not_modified(
    site: Site, config: PipelineConfig, taxonomy: Taxonomy
) -> None:
    feed_url = site.add(
        "/feed.xml",
        rss([rss_item("One", site.base + "/one", date="Fri, 27 Nov 2026 08:00:00 GMT")]),
        content_type="application/rss+xml",
    )
    async with Fetcher(config) as fetcher:
        fetched = await NewsPipeline(fetcher, taxonomy, config).fetch_feed(feed_url)
    assert isinstance(fetched, FeedFetch) and not fetched.not_modified
    assert fetched.feed is not None
    assert [e.title for e in fetched.feed.entries] == ["One"]


async def test_card_for_page_from_a_path(
    tmp_path: pytest.TempPathFactory, config: PipelineConfig, taxonomy: Taxonomy
) -> None:
    page = tmp_path / "page.html"  # type: ignore[operator]
    page.write_bytes(article_page("Saved page"))
    async with Fetcher(config) as fetcher:
        pipeline = NewsPipeline(fetcher, taxonomy, config)
        card = await pipeline.card_for_page(str(page))
        with pytest.raises(FetchError):
            await pipeline.card_for_page(str(page) + ".missing")
    assert card.title == "Saved page"


async def test_cpu_work_runs_off_the_event_loop(
    site: Site, config: PipelineConfig, taxonomy: Taxonomy
) -> None:
    # The taxonomy is injected, so it can tell us which thread builds each card.
    threads: list[threading.Thread] = []

    class RecordingTaxonomy:
        def tag(self, **kwargs: object) -> tuple[str, ...]:
            threads.append(threading.current_thread())
            return taxonomy.tag(**kwargs)  # type: ignore[arg-type]

        def names(self) -> tuple[str, ...]:
            return taxonomy.names()

    entries = [entry(site.add(f"/q{i}", article_page(f"Story {i}"))) for i in range(3)]
    async with Fetcher(config) as fetcher:
        pipeline = NewsPipeline(fetcher, RecordingTaxonomy(), config)  # type: ignore[arg-type]
        outcomes = await pipeline.cards_for_entries(entries)
    assert all(isinstance(o, Card) for o in outcomes)
    assert len(threads) == 3
    assert threading.main_thread() not in threads


def test_newest_entries() -> None:
    def e(name: str, day: int | None) -> FeedEntry:
        when = datetime(2026, 11, day, tzinfo=UTC) if day else None
        return entry(f"http://x/{name}", title=name, published=when)

    entries = [e("old", 1), e("undated", None), e("new", 20), e("mid", 10), e("mid2", 10)]
    assert [x.title for x in newest_entries(entries, 3)] == ["new", "mid", "mid2"]
    assert [x.title for x in newest_entries(entries, 10)][-1] == "undated"
    assert newest_entries(entries, 0) == []
