"""Fixtures for the reliability tests: process trees, loopback listeners, a small served index.

Everything runs on loopback and in bounded time: servers are real `pixsearch serve`
processes (tests/conftest.py starts them), pictures are generated, and the
"canary" is a TCP listener that records every connection, so a test can assert
that something was never contacted.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
import pytest
from PIL import Image

from pixsearch.tenancy.instances import Instance, SqliteInstanceStore
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import QuietHandler, ingest_folder, serving, start_server, stop_server


def picture(seed: int, width: int = 320, height: int = 240, kind: str = "JPEG") -> bytes:
    """A distinct smooth picture (random blocks blown up), encoded."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    image = Image.fromarray(blocks).resize((width, height), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


@dataclass
class Canary:
    """A loopback TCP listener that counts connections and answers each with `reply`."""

    reply: bytes = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    port: int = 0
    connections: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.connections)


def _accept_loop(listener: socket.socket, canary: Canary) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return  # closed: the test is over
        with conn:
            conn.settimeout(2)
            try:
                head = conn.recv(4096)
                conn.sendall(canary.reply)
            except OSError:
                head = b""
            with canary.lock:
                canary.connections.append(head)


@pytest.fixture
def canary() -> Iterator[Canary]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    found = Canary(port=listener.getsockname()[1])
    thread = threading.Thread(target=_accept_loop, args=(listener, found), daemon=True)
    thread.start()
    try:
        yield found
    finally:
        listener.close()


@dataclass
class PictureSite:
    """A loopback HTTP server with one picture at /cat.jpg; records the Host of every request."""

    base: str
    port: int
    body: bytes
    hosts: list[str]


@pytest.fixture
def picture_site() -> Iterator[PictureSite]:
    body = picture(1)
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hosts.append(self.headers.get("Host", ""))
            found = self.path == "/cat.jpg"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body) if found else 0))
            self.end_headers()
            if found:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield PictureSite(f"http://127.0.0.1:{port}", port, body, hosts)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of five generated pictures, ingested in-process."""
    root = tmp_path_factory.mktemp("reliability")
    folder = root / "pictures"
    folder.mkdir()
    for i in range(5):
        (folder / f"red-picture-{i}.jpg").write_bytes(picture(100 + i))
    ingest_folder(folder, root / "index")
    return root / "index"


def serve(index_dir: Path, **env: str) -> tuple[object, str]:
    """`pixsearch serve --no-auth` over `index_dir`, with extra environment."""
    return start_server(index_dir, extra=("--no-auth",), env=env)


@pytest.fixture(scope="session")
def public_only_server(small_index: Path) -> Iterator[str]:
    """The default: fetches of imgUrl never reach a private address."""
    process, base = serve(small_index, PIXSEARCH_FETCH_PRIVATE="0")
    try:
        yield base
    finally:
        stop_server(process)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def private_ok_server(small_index: Path) -> Iterator[str]:
    """fetch_private on: loopback pictures may be fetched."""
    process, base = serve(small_index, PIXSEARCH_FETCH_PRIVATE="1")
    try:
        yield base
    finally:
        stop_server(process)  # type: ignore[arg-type]


@pytest.fixture
def endless_site() -> Iterator[str]:
    """A loopback website that never runs out: /page/N links N+1 and N+2 and shows /img/N.jpg.

    Every answer takes 50 ms, so a crawl of it is still busy when a test kills it.
    """

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            time.sleep(0.05)
            kind, _, number = self.path.strip("/").partition("/")
            n = int(number.split(".")[0]) if number.split(".")[0].isdigit() else 0
            if kind == "img":
                body, content_type = picture(n, 160, 120), "image/jpeg"
            else:
                links = f'<a href="/page/{n + 1}">next</a> <a href="/page/{n + 2}">skip</a>'
                image = f'<img src="/img/{n}.jpg" alt="picture {n}">'
                body = f"<html><body>{links}{image}</body></html>".encode()
                content_type = "text/html"
            self.answer(200, content_type, body)

    with serving(Handler) as base:
        yield base


@dataclass(frozen=True)
class KeyedServer:
    """A served index that requires keys, with the ids a fuzzer cannot guess."""

    base: str
    key: str
    index_dir: Path
    image_id: str
    token: str
    thumbnail_id: str  # "OIP.<hex>", the id of a thumbnailUrl
    config_id: str  # a custom instance holding the whole index


@pytest.fixture(scope="session")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyedServer]:
    """`pixsearch serve` with keys required over eight pictures and one custom instance."""
    root = tmp_path_factory.mktemp("keyed")
    folder = root / "pictures"
    folder.mkdir()
    for i in range(8):
        (folder / f"red-picture-{i}.jpg").write_bytes(picture(200 + i))
    index_dir = root / "index"
    ingest_folder(folder, index_dir)
    db = ServiceDb(index_dir / "service.db")
    key = SqliteKeyStore(db).create("fuzz")
    SqliteInstanceStore(db).put(Instance(config_id="fuzz1", name="everything"))
    process, base = start_server(index_dir)
    try:
        answer = httpx.get(
            base + "/v7.0/images/search",
            params={"q": "picture"},
            headers={"Ocp-Apim-Subscription-Key": key},
            timeout=30,
        ).json()
        first = answer["value"][0]
        thumbnail = parse_qs(urlsplit(first["thumbnailUrl"]).query)["id"][0]
        yield KeyedServer(
            base=base,
            key=key,
            index_dir=index_dir,
            image_id=first["imageId"],
            token=first["imageInsightsToken"],
            thumbnail_id=thumbnail,
            config_id="fuzz1",
        )
    finally:
        stop_server(process)


@dataclass(frozen=True)
class FiniteSite:
    base: str
    pages: int  # /page/0 .. /page/{pages-1}, each showing its own /img/N.jpg


@pytest.fixture
def finite_site() -> Iterator[FiniteSite]:
    """A loopback website of 80 pages, each with one picture, linking the next two; 20 ms a hit.

    Unlike endless_site a crawl of it ends, so a last uninterrupted run can be held to
    "every picture is in the index".
    """
    pages = 80

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(0.02)
            kind, _, rest = self.path.strip("/").partition("/")
            stem = rest.split(".")[0]
            n = int(stem) if stem.isdigit() else -1
            if kind == "img" and 0 <= n < pages:
                body, content_type = picture(500 + n, 200, 150), "image/jpeg"
            elif kind == "page" and 0 <= n < pages:
                links = "".join(
                    f'<a href="/page/{m}">page {m}</a> ' for m in (n + 1, n + 2) if m < pages
                )
                picture_tag = f'<img src="/img/{n}.jpg" alt="crawled picture {n}">'
                body = f"<html><body>{picture_tag}{links}</body></html>".encode()
                content_type = "text/html"
            else:
                self.send_error(404)
                return
            try:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the crawler was killed mid-answer: what these tests do

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield FiniteSite(f"http://127.0.0.1:{server.server_address[1]}", pages)
    finally:
        server.shutdown()
        server.server_close()
