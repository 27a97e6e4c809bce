"""A local HTTP server on 127.0.0.1 that misbehaves on purpose: it trickles a body one byte at a
time, redirects anywhere, and records each request's path and ``Host`` header."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html"
    location: str | None = None
    trickle: float = 0.0  # seconds between bytes; 0 sends the body at once


@dataclass
class HostileSite:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)
    port: int = 0
    closing: threading.Event = field(default_factory=threading.Event)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.base + path

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


@pytest.fixture
def hostile() -> Iterator[HostileSite]:
    state = HostileSite()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, self.headers.get("Host", "")))
            route = state.routes.get(self.path, Route(b"not found", status=404))
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            if route.location:
                self.send_header("Location", route.location)
            if not route.trickle:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            if not route.trickle:
                self.wfile.write(route.body)
                return
            for index in range(len(route.body)):
                if state.closing.wait(route.trickle):
                    return
                try:
                    self.wfile.write(route.body[index : index + 1])
                    self.wfile.flush()
                except OSError:  # the client gave up: that is the point
                    return

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.closing.set()
        time.sleep(0.01)
        server.shutdown()
        server.server_close()
        thread.join()
