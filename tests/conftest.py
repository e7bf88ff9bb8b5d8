"""Shared fixtures: a real index built from real images, and a real server process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from pixsearch.cli.main import cli
from pixsearch.demo.samples import write_samples
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.indexer import Indexer
from pixsearch.ingest.parallel import process_many
from pixsearch.ingest.sources import iter_files
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.debian import apt_install

OPENCLIPART = Path("/usr/share/openclipart/png")

# No image analyzers (models) in CLI runs and subprocesses unless a test names them with
# --analyzers: loading models for every ingest would make the whole suite slow.
os.environ["PIXSEARCH_ANALYZERS"] = ""
# Likewise no sentence embeddings of image text unless a test switches them on.
os.environ["PIXSEARCH_SEMANTIC"] = "0"


@dataclass(frozen=True)
class Server:
    base: str
    key: str
    index_dir: Path
    samples: Path


def ingest_folder(folder: Path, index_dir: Path, *, workers: int = 1) -> Indexer:
    """Ingest like the CLI does, in-process."""
    store = EmbeddedStore(index_dir, writable=True)
    indexer = Indexer(store)
    found = list(iter_files([folder]))
    for item in found:
        if not isinstance(item, Path):
            indexer.handle(item)
    files = [p for p in found if isinstance(p, Path)]
    for outcome in process_many(files, PipelineConfig(), workers=workers):
        indexer.handle(outcome)
    indexer.commit()
    store.close()
    return indexer


def write_paging_set(folder: Path, count: int = 60) -> None:
    """Many distinct pictures sharing the word 'pattern', to exercise paging.

    Random 6x6 block mosaics: each has its own structure, so no two are
    near-duplicates the way one shape on two backgrounds would be.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    for i in range(count):
        blocks = rng.integers(0, 256, size=(6, 6, 3), dtype=np.uint8)
        image = Image.fromarray(blocks).resize((300 + i, 200 + i), Image.Resampling.NEAREST)
        image.save(folder / f"pattern-number-{i:03d}.png")
    tiny = Image.new("RGB", (120, 90), (200, 30, 30))
    tiny.save(folder / "tiny-red-icon-small.png")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


OWNED = Path(__file__).with_name("owned.py")


def start_server(
    index_dir: Path,
    *,
    workers: int = 1,
    extra: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [
        sys.executable,
        str(OWNED),  # `pixsearch serve ...` that ends when this process ends
        str(os.getpid()),
        "serve",
        "--index",
        str(index_dir),
        "--port",
        str(port),
        "--workers",
        str(workers),
        *extra,
    ]
    environment = {**os.environ, "PIXSEARCH_REFRESH_SECONDS": "0.1", **(env or {})}
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"server exited early:\n{output}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start in 30 s")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(samples folder, index dir): the demo samples plus a paging set, ingested."""
    root = tmp_path_factory.mktemp("corpus")
    samples = root / "samples"
    write_samples(samples)
    write_paging_set(samples / "patterns")
    with Image.open(samples / "shapes" / "red-circle-on-white.png") as image:
        copy = samples / "copies"
        copy.mkdir()
        image.save(copy / "red-circle-reencoded.png", compress_level=1)  # other bytes
    (copy / "same-bytes-red-circle.png").write_bytes(
        (samples / "shapes" / "red-circle-on-white.png").read_bytes()
    )
    index_dir = root / "index"
    ingest_folder(samples, index_dir, workers=2)
    return samples, index_dir


@pytest.fixture(scope="session")
def server(corpus: tuple[Path, Path]) -> Iterator[Server]:
    samples, index_dir = corpus
    key = SqliteKeyStore(ServiceDb(index_dir / "service.db")).create("tests")
    process, base = start_server(index_dir)
    try:
        yield Server(base=base, key=key, index_dir=index_dir, samples=samples)
    finally:
        stop_server(process)


@pytest.fixture()
def api(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.base, headers={"Ocp-Apim-Subscription-Key": server.key}, timeout=30
    ) as client:
        yield client


@pytest.fixture(scope="session")
def openclipart() -> Path:
    """Debian's openclipart-png drawings, installed if missing (skipped where apt cannot)."""
    reason = apt_install("openclipart-png")
    if reason:
        pytest.skip(reason)
    return OPENCLIPART


@contextmanager
def ingested_and_served(pics: Path, index: Path, *, analyzers: str) -> Iterator[tuple[str, str]]:
    """`pixsearch ingest` of `pics` into `index` with `analyzers`, served: (base URL, key)."""
    done = subprocess.run(
        [sys.executable, "-m", "pixsearch", "ingest", str(pics), "--index", str(index),
         "--analyzers", analyzers],
        capture_output=True, text=True, timeout=600, env=dict(os.environ),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    key = SqliteKeyStore(ServiceDb(index / "service.db")).create("tests")
    process, base = start_server(index)
    try:
        yield base, key
    finally:
        stop_server(process)


Routes = dict[str, tuple[str, bytes]]  # path → (content type, body)


@contextmanager
def loopback_site(routes: Routes) -> Iterator[str]:
    """A static site on 127.0.0.1 answering `routes` (404 elsewhere): its base URL."""

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            kind, body = routes.get(self.path, ("text/html", b"<h1>not found</h1>"))
            self.answer(200 if self.path in routes else 404, kind, body)

    with serving(Handler) as base:
        yield base


class QuietHandler(BaseHTTPRequestHandler):
    """A test site's request handler: whole answers in one call, no access log on stderr."""

    def answer(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 with `handler`, in a thread: its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def crawled_and_served(routes: Routes, index: Path) -> Iterator[httpx.Client]:
    """`routes` crawled with `pixsearch crawl` (no image models) into `index`, then served:
    a client holding a key."""
    with loopback_site(routes) as seed:
        args = ["crawl", f"{seed}/", "--index", str(index), "--allow-private"]
        result = CliRunner().invoke(cli, [*args, "--delay", "0", "--quiet", "--no-neural"])
        assert result.exit_code == 0, result.output
    key = SqliteKeyStore(ServiceDb(index / "service.db")).create("tests")
    process, base = start_server(index)
    try:
        headers = {"Ocp-Apim-Subscription-Key": key}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            yield client
    finally:
        stop_server(process)
