"""``digestbot feeds add URL`` checks the address as ``/addfeed`` does: fetched once through the
guarded fetcher, a web page searched for its feed, and one line saying which URL was stored.
The site is a stdlib HTTP server on 127.0.0.1 in a thread (the command runs its own loop)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.cli import main

PAGE = (
    "<!doctype html><html><head><title>Post</title>"
    '<link rel="alternate" type="application/rss+xml" title="Blog - Comments Feed" '
    'href="/comments/feed/">'
    '<link rel="alternate" type="application/rss+xml" title="Blog - Feed" href="/feed/">'
    "</head><body>text</body></html>"
)
RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title><link>http://x.org/'
    "</link><description>d</description><item><title>One</title><guid>1</guid></item>"
    "</channel></rss>"
)
ROUTES = {
    "/post.html": ("text/html", PAGE),
    "/feed/": ("application/rss+xml", RSS),
    "/plain.html": ("text/html", "<html><body>nothing here</body></html>"),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        kind, body = ROUTES.get(self.path, ("text/plain", ""))
        self.send_response(200 if self.path in ROUTES else 404)
        self.send_header("Content-Type", kind)
        data = body.encode()
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'f.sqlite3'}")
    monkeypatch.setenv("DIGESTBOT_FEEDS_FILE", str(tmp_path / "none.toml"))
    monkeypatch.setenv("DIGESTBOT_ALLOW_PRIVATE_ADDRESSES", "true")


@pytest.mark.usefixtures("env")
def test_a_page_stores_the_feed_it_links(site: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["feeds", "add", f"{site}/post.html"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"added: {site}/feed/ (the feed 'Blog', 1 entry, linked from the page {site}/post.html)"
        "  (the worker picks it up at its next poll)",
        f"  the page also links: {site}/comments/feed/  (Blog - Comments Feed)",
    ]
    assert main(["feeds", "add", f"{site}/feed/"]) == 0
    assert "already there, updated" in capsys.readouterr().out
    assert main(["feeds", "list"]) == 0
    assert f"{site}/post.html" not in capsys.readouterr().out


@pytest.mark.usefixtures("env")
def test_not_a_feed_is_refused_unless_no_check(
    site: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["feeds", "add", f"{site}/plain.html"]) == 1
    err = capsys.readouterr().err
    assert "not a feed, and no feed found" in err and "--no-check" in err
    assert main(["feeds", "add", f"{site}/missing.xml"]) == 1
    assert "HTTP 404" in capsys.readouterr().err
    assert main(["feeds", "add", "--no-check", f"{site}/plain.html"]) == 0
    assert "(not checked)" in capsys.readouterr().out


@pytest.mark.usefixtures("env")
def test_private_addresses_refused_when_not_allowed(
    site: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DIGESTBOT_ALLOW_PRIVATE_ADDRESSES", "false")
    assert main(["feeds", "add", f"{site}/post.html"]) == 1
    err = capsys.readouterr().err
    assert "private or local network address (127.0.0.1)" in err
