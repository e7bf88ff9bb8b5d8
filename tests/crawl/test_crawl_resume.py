"""kill -9 in the middle of `pixsearch crawl`, run it again: nothing done is fetched again,
nothing fetched is lost."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from pixsearch.index.embedded import EmbeddedStore

PAGES = 120


def build(site, tools) -> None:
    site.routes["/robots.txt"] = (404, {}, b"")
    for i in range(PAGES):
        nxt = " ".join(f'<a href="/p{j}.html">p{j}</a>' for j in (i + 1, i + 2) if j < PAGES)
        site.page(f"/p{i}.html", f'<img src="/img/{i}.jpg" alt="picture {i}">{nxt}')
        site.image(f"/img/{i}.jpg", tools.jpeg(1000 + i, 64))


def _command(site, index_dir: Path) -> list[str]:
    return [
        sys.executable, "-m", "pixsearch.cli.main", "crawl", f"{site.base}/p0.html",
        "--index", str(index_dir), "--allow-private", "--quiet", "--delay", "0.02",
        "--concurrency", "2", "--max-depth", "1000",
    ]  # fmt: skip


def _pages_so_far(index_dir: Path) -> set[str]:
    """The pages done while the crawl runs: none while it creates crawl.db or holds a lock."""
    try:
        return _done_pages(index_dir)
    except sqlite3.OperationalError:  # no table yet, or locked for a moment
        return set()


def _done_pages(index_dir: Path) -> set[str]:
    with sqlite3.connect(index_dir / "crawl.db") as conn:
        rows = conn.execute("SELECT url FROM urls WHERE kind='page' AND state='done'")
        return {url for (url,) in rows}


def test_kill_9_then_resume(site, tools, tmp_path: Path) -> None:
    build(site, tools)
    index_dir = tmp_path / "index"
    process = subprocess.Popen(_command(site, index_dir), stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        if (index_dir / "crawl.db").exists() and len(_pages_so_far(index_dir)) >= PAGES // 4:
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done_at_kill = _done_pages(index_dir)
    assert 0 < len(done_at_kill) < PAGES
    log_at_kill = len(site.log)
    subprocess.run(_command(site, index_dir), check=True, stderr=subprocess.DEVNULL, timeout=60)
    second_run = site.log[log_at_kill:]
    refetched = {site.base + path for path in second_run} & done_at_kill
    assert not refetched  # what crawl.db called done was not fetched again
    store = EmbeddedStore(index_dir)
    assert store.stats()["images"] == PAGES  # and nothing fetched was lost
    store.close()
    assert len(_done_pages(index_dir)) == PAGES
