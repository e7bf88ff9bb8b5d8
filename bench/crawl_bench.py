"""Crawl throughput, peak memory and kill -9 resume against a generated loopback site.

    python bench/crawl_bench.py [--pages 20000] [--images 2000] [--kill-after 0.4]

A threaded HTTP server in this process serves N pages (page i links to pages
2i+1 and 2i+2, and shows two images out of a pool of M distinct JPEGs, so every
image is on many pages). `pixsearch crawl` runs as a subprocess; it is killed
with SIGKILL once the given fraction of pages is done, then run again to the end.
Reports pages/s, images/s (fetched and processed), peak RSS of each run, and
checks that nothing done before the kill was fetched again and nothing was lost.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image

from pixsearch.index.embedded import EmbeddedStore


def jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
    image = Image.fromarray(blocks).resize((320, 240), Image.Resampling.BILINEAR)
    out = BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


class Site:
    def __init__(self, pages: int, images: list[bytes]) -> None:
        self.pages = pages
        self.images = images
        self.log: list[str] = []
        self.lock = threading.Lock()

    def respond(self, path: str) -> tuple[int, str, bytes]:
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nDisallow: /nowhere/\n"
        if path.startswith("/img/") and path.endswith(".jpg"):
            index = int(path[5:-4])
            if 0 <= index < len(self.images):
                return 200, "image/jpeg", self.images[index]
        if path.startswith("/p") and path.endswith(".html"):
            i = int(path[2:-5])
            if 0 <= i < self.pages:
                return 200, "text/html", self.page(i)
        return 404, "text/html", b"not found"

    def page(self, i: int) -> bytes:
        m = len(self.images)
        links = "".join(
            f'<a href="/p{j}.html">page {j}</a> ' for j in (2 * i + 1, 2 * i + 2) if j < self.pages
        )
        body = (
            f"<html lang=en><head><title>Page {i}</title></head><body><h1>Topic {i % 97}</h1>"
            f"<p>Some words about item {i} and its neighbours.</p>"
            f'<img src="/img/{i % m}.jpg" alt="picture {i % m}">'
            f'<figure><img src="/img/{(i * 7 + 3) % m}.jpg"><figcaption>caption {i}</figcaption>'
            f"</figure>{links}</body></html>"
        )
        return body.encode()


def serve(site: Site) -> str:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else delayed ACKs add 40 ms to every response

        def do_GET(self) -> None:
            with site.lock:
                site.log.append(self.path)
            status, kind, body = site.respond(self.path)
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # the killed crawler's connections reset: expected, not news

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def done_pages(index_dir: Path) -> set[str]:
    try:
        with sqlite3.connect(index_dir / "crawl.db", timeout=5) as conn:
            rows = conn.execute("SELECT url FROM urls WHERE kind='page' AND state='done'")
            return {url for (url,) in rows}
    except sqlite3.Error:
        return set()


def command(base: str, index_dir: Path, concurrency: int) -> list[str]:
    return [
        sys.executable, "-m", "pixsearch.cli.main", "crawl", f"{base}/p0.html",
        "--index", str(index_dir), "--allow-private", "--quiet", "--delay", "0",
        "--concurrency", str(concurrency), "--max-depth", "100",
    ]  # fmt: skip


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=20_000)
    parser.add_argument("--images", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--kill-after", type=float, default=0.4, help="Fraction of pages done.")
    args = parser.parse_args()
    site = Site(args.pages, [jpeg(i) for i in range(args.images)])
    base = serve(site)
    index_dir = Path(tempfile.mkdtemp(prefix="crawl-bench-")) / "index"

    started = time.perf_counter()
    first = subprocess.Popen(command(base, index_dir, args.concurrency), stderr=subprocess.DEVNULL)
    peak_first = 0.0
    while first.poll() is None and len(done_pages(index_dir)) < args.pages * args.kill_after:
        peak_first = max(peak_first, peak_rss_mb(first.pid))
        time.sleep(0.5)
    peak_first = max(peak_first, peak_rss_mb(first.pid))
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    first_seconds = time.perf_counter() - started
    done_at_kill = done_pages(index_dir)
    requests_at_kill = len(site.log)

    started = time.perf_counter()
    second = subprocess.run(command(base, index_dir, args.concurrency), stderr=subprocess.DEVNULL)
    second_seconds = time.perf_counter() - started
    peak_second = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    refetched = {base + p for p in site.log[requests_at_kill:]} & done_at_kill
    pages = len(done_pages(index_dir))
    with sqlite3.connect(index_dir / "crawl.db") as conn:
        images = conn.execute("SELECT count(*) FROM urls WHERE kind='image' AND state='done'")
        image_count = images.fetchone()[0]
        refs = conn.execute("SELECT count(*) FROM refs").fetchone()[0]
    total = first_seconds + second_seconds
    print(f"site: {args.pages} pages, {args.images} distinct images, {2 * args.pages} image refs")
    print(f"first run killed after {first_seconds:.1f}s with {len(done_at_kill)} pages done")
    print(f"second run: {second_seconds:.1f}s, exit {second.returncode}")
    print(f"pages done {pages}/{args.pages}, images done {image_count}/{args.images}, refs {refs}")
    print(f"pages/s {pages / total:.0f}, images/s {image_count / total:.1f} (both runs' wall time)")
    print(f"occurrences/s {refs / total:.0f}")
    print(f"peak RSS: first run {peak_first:.0f} MiB, largest child {peak_second:.0f} MiB")
    print(f"pages done before the kill fetched again: {len(refetched)}")
    print(f"HTTP requests: {len(site.log)} (ideal {args.pages + args.images + 1})")
    store = EmbeddedStore(index_dir)
    stats = store.stats()
    store.close()
    print(f"index: {stats['images']} images, {stats['occurrences']} occurrences")


if __name__ == "__main__":
    main()
