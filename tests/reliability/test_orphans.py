"""`kill -9` of a command leaves no process behind, and the index opens afterwards.

Before the fix an ingest killed mid-run left 4 processes (2 pool workers, the
forkserver, the resource tracker) and `serve --workers 2` left both workers,
still bound to the port; each kept running until rebooted.

The kills come once the workers watch their owner (pixsearch/lifeline.py). A
worker killed earlier, while it still imports the command's modules (seconds on
a loaded machine), notices when its initializer runs and exits then.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pixsearch.config import Settings
from pixsearch.index.features.folder import FeatureFolder
from pixsearch.index.features.schema import FeatureRecord
from pixsearch.wiring import build_indexer
from tests.conftest import start_server
from tests.index.helpers import make_doc
from tests.reliability.procs import descendants, pidfds_work, wait_until_gone, watching

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not pidfds_work(),
    reason="reads /proc; sees a watching worker by its pidfd (Linux 5.3+)",
)

GONE_WITHIN = 10.0  # seconds the killed command's children get to follow it


def busy_folder(folder: Path, count: int = 300) -> Path:
    """`count` 2-megapixel PNGs (hard links of one file): tens of seconds of work."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    blocks = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    original = folder.parent / "original.png"
    Image.fromarray(blocks).resize((1600, 1200), Image.Resampling.BICUBIC).save(original)
    for i in range(count):
        os.link(original, folder / f"picture-{i:03d}.png")
    return folder


def start(*args: str, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "pixsearch.cli.main", *args]
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def wait_for_tree(pid: int, size: int, workers: int, seconds: float) -> set[tuple[int, int]]:
    """The descendants of `pid` once there are `size` of them and `workers` of them watch
    their owner; what there is after `seconds` otherwise."""
    deadline = time.monotonic() + seconds
    while True:
        tree = descendants(pid)
        armed = sum(watching(child) for child, _ in tree)
        if (len(tree) >= size and armed >= workers) or time.monotonic() > deadline:
            return tree
        time.sleep(0.1)


def kill_9(
    process: subprocess.Popen[bytes], tree: set[tuple[int, int]], log: Path
) -> set[tuple[int, int]]:
    """SIGKILL the command; the processes of `tree` still running GONE_WITHIN seconds later."""
    output = log.read_text(errors="replace")[-3000:]
    assert process.poll() is None, f"the command ended before it could be killed:\n{output}"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=5)
    left = wait_until_gone(tree, GONE_WITHIN)
    for pid, _ in left:  # ours: do not let a failing run leak them into the next
        os.kill(pid, signal.SIGKILL)
    return left


def reopen(index_dir: Path) -> int:
    """Open the index for writing (its lock must be free) and count its images."""
    store, _ = build_indexer(Settings.load(index_dir=index_dir), ())
    try:
        return store.stats()["images"]
    finally:
        store.close()


def test_kill_9_ingest_leaves_no_worker(tmp_path: Path) -> None:
    folder = busy_folder(tmp_path / "pictures")
    index_dir, log = tmp_path / "index", tmp_path / "ingest.log"
    flags = ["--index", str(index_dir), "--no-neural", "--workers", "2"]
    process = start("ingest", str(folder), *flags, log=log)
    # The resource tracker, the forkserver and two workers, busy for a moment.
    tree = wait_for_tree(process.pid, 4, workers=2, seconds=25)
    assert len(tree) == 4, (tree, log.read_text(errors="replace")[-2000:])
    time.sleep(1.0)
    assert kill_9(process, tree, log) == set()
    assert reopen(index_dir) >= 0


def test_kill_9_crawl_leaves_no_process(tmp_path: Path, endless_site: str) -> None:
    index_dir, log = tmp_path / "index", tmp_path / "crawl.log"
    flags = ["--index", str(index_dir), "--allow-private", "--delay", "0", "--quiet"]
    flags += ["--concurrency", "4", "--max-depth", "100000", "--no-neural"]
    process = start("crawl", f"{endless_site}/page/0", *flags, log=log)
    deadline = time.monotonic() + 20
    while not (index_dir / "crawl.db").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2.0)  # pages and pictures in flight
    tree = descendants(process.pid)  # none today (threads only); any future one must follow
    assert kill_9(process, tree, log) == set()
    assert reopen(index_dir) >= 0


def test_kill_9_server_leaves_no_worker(small_index: Path, tmp_path: Path) -> None:
    process, _ = start_server(small_index, workers=2, extra=("--no-auth",))
    tree = wait_for_tree(process.pid, 3, workers=2, seconds=10)  # the tracker and two workers
    assert len(tree) == 3, tree
    log = tmp_path / "serve.log"
    log.write_text("")  # start_server keeps the output in a pipe
    assert kill_9(process, tree, log) == set()


def busy_features(folder: Path, count: int = 2000) -> Path:
    """`count` feature records with page-long captions: seconds of text vectors per shard."""
    features = FeatureFolder(folder).create()
    words = " ".join(f"word{i % 97}" for i in range(120))
    records = [
        FeatureRecord(doc.facts, doc.occurrences, has_thumbnail=False)
        for doc in (make_doc(n, f"picture {n} {words}") for n in range(count))
    ]
    for part in range(0, count, 500):
        features.write_shard(f"part-{part:05d}", records[part : part + 500], [])
    return folder


def test_kill_9_index_build_leaves_no_worker(tmp_path: Path) -> None:
    features = busy_features(tmp_path / "features")
    index_dir, log = tmp_path / "index", tmp_path / "build.log"
    flags = ["--index", str(index_dir), "--shards", "2", "--workers", "2"]
    process = start("index", "build", str(features), *flags, log=log)
    tree = wait_for_tree(process.pid, 3, workers=2, seconds=25)  # the tracker, two workers
    assert len(tree) == 3, (tree, log.read_text(errors="replace")[-2000:])
    assert kill_9(process, tree, log) == set()


# Where pidfds are missing (old kernels, macOS) the watchdog polls the owner's pid.
POLLING_CHILD = """
import os, sys, time
from pixsearch import lifeline
lifeline._pidfd = lambda pid: None  # as on a kernel without pidfd_open
lifeline._is_zombie = lambda pid: False  # as without /proc
owner = os.getpid()
if os.fork() == 0:
    lifeline.die_with(owner)
    print(os.getpid(), flush=True)
    time.sleep(60)  # the owner is gone long before
    os._exit(0)
time.sleep(1.0)  # the child has armed and printed its pid
os._exit(0)
"""


def test_the_polling_watchdog_also_follows_its_owner() -> None:
    """The child would sleep 60 s, holding the output pipe: run() returns once it has exited."""
    owner = subprocess.run(
        [sys.executable, "-c", POLLING_CHILD], capture_output=True, text=True, timeout=25
    )
    assert owner.stdout.strip().isdigit(), owner.stderr[-2000:]  # it armed, then ended
