"""A generated website served on loopback by a real HTTP server in a thread.

Routes are plain data (status, headers, body) or callables for hostile behaviour
(slow, endless redirects). Every request is logged so tests can assert what was
never fetched. Helpers reach tests through fixtures (no conftest imports).
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO

import numpy as np
import pytest
from PIL import Image

Route = tuple[int, dict[str, str], bytes] | Callable[["Handler"], tuple[int, dict[str, str], bytes]]


def jpeg(seed: int, size: int = 96) -> bytes:
    """A distinct little picture: random 4x4 colour blocks blown up (distinct phash too)."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
    image = Image.fromarray(blocks).resize((size, size), Image.Resampling.NEAREST)
    out = BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def html(body: str, head: str = "", lang: str = "en") -> bytes:
    return (
        f"<!doctype html><html lang={lang}><head>{head}</head><body>{body}</body></html>".encode()
    )


@dataclass
class Site:
    routes: dict[str, Route] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    base: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def page(self, path: str, body: str, head: str = "", **headers: str) -> None:
        self.routes[path] = (
            200,
            {"Content-Type": "text/html; charset=utf-8", **headers},
            html(body, head),
        )

    def image(self, path: str, data: bytes, kind: str = "image/jpeg") -> None:
        self.routes[path] = (200, {"Content-Type": kind}, data)

    def hits(self, path: str) -> int:
        with self.lock:
            return self.log.count(path)


class Handler(BaseHTTPRequestHandler):
    site: Site

    def do_GET(self) -> None:
        with self.site.lock:
            self.site.log.append(self.path)
        route = self.site.routes.get(self.path)
        if route is None:
            status, headers, body = 404, {"Content-Type": "text/html"}, b"<h1>not found</h1>"
        elif callable(route):
            status, headers, body = route(self)
        else:
            status, headers, body = route
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler hung up on purpose (size cap, timeout)

    def log_message(self, *args: object) -> None:
        pass


def serve(site: Site) -> Iterator[Site]:
    handler = type("SiteHandler", (Handler,), {"site": site})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def site() -> Iterator[Site]:
    yield from serve(Site())


@pytest.fixture
def tools() -> object:
    """Helpers for tests: jpeg(), html(), gzip, sleep-based slow routes."""

    class Tools:
        jpeg = staticmethod(jpeg)
        html = staticmethod(html)
        gzip = staticmethod(gzip.compress)
        serve = staticmethod(serve)
        Site = Site

        @staticmethod
        def slow(
            seconds: float, body: bytes
        ) -> Callable[[Handler], tuple[int, dict[str, str], bytes]]:
            def route(_: Handler) -> tuple[int, dict[str, str], bytes]:
                time.sleep(seconds)
                return 200, {"Content-Type": "text/html"}, body

            return route

    return Tools
