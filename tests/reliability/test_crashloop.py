"""kill -9 at random points of `pixsearch ingest`, `crawl` and `serve`; the index survives each.

After every kill: the index opens at its last commit (generation and image count
no lower than a reader saw just before the kill), every SQLite file passes
`PRAGMA integrity_check`, and no process of the killed run is left (each run
carries a tag in its environment, which every descendant inherits: pool
workers, the forkserver, uvicorn's workers). A last uninterrupted run of ingest
and of crawl must then complete the set.

The points come from a seeded RNG; the seed is printed, and
PIXSEARCH_CRASH_SEED=<seed> replays a run. Bounded: twelve kills, under two
minutes on two cores.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pixsearch.index.embedded import EmbeddedStore
from tests.conftest import free_port
from tests.reliability.conftest import FiniteSite, picture

SEED = int(os.environ.get("PIXSEARCH_CRASH_SEED") or random.SystemRandom().randrange(2**32))
TAG = "PIXSEARCH_CRASHLOOP_RUN"
PICTURES = 60


@dataclass(frozen=True)
class Seen:
    images: int
    generation: int


@pytest.fixture(scope="module")
def rng() -> random.Random:
    print(f"crash loop seed {SEED} (replay: PIXSEARCH_CRASH_SEED={SEED})")
    return random.Random(SEED)


def visible(index_dir: Path) -> Seen:
    """What a reader opening the index now sees (as a freshly started server would)."""
    store = EmbeddedStore(index_dir)
    try:
        stats = store.stats()
    finally:
        store.close()
    return Seen(stats["images"], stats["generation"])


def seen_before_kill(index_dir: Path) -> Seen:
    """The committed state just before a kill; nothing yet while the first commit is pending."""
    if not (index_dir / "meta.db").exists():
        return Seen(0, 0)
    try:
        return visible(index_dir)
    except Exception:  # the writer is still laying the index out: nothing committed to keep
        return Seen(0, 0)


def tagged(tag: str) -> dict[int, str]:
    """pid -> command line of the live processes whose environment carries this run's tag."""
    marker = f"{TAG}={tag}".encode()
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if marker not in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                continue
            if Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue  # exited, not yet reaped
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # gone while we looked, or not ours to read
        found[int(entry)] = command
    return found


def left_behind(tag: str, seconds: float = 15.0) -> dict[int, str]:
    """Processes of a killed run still alive after `seconds`, then killed so none outlive the test.

    Not at once: a pool worker in the middle of a C extension's import (onnx, protobuf)
    holds the GIL, so its lifeline thread fires only when that import ends.
    """
    deadline = time.monotonic() + seconds
    alive = tagged(tag)
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = tagged(tag)
    for pid in alive:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return alive


def integrity_problems(index_dir: Path, scratch: Path) -> dict[str, str]:
    """PRAGMA integrity_check of every SQLite file, each checked on a copy (with its WAL).

    A copy, so that the check never recovers or checkpoints the index itself.
    """
    problems = {}
    for db in sorted(index_dir.glob("*.db")):
        copy = scratch / db.name
        shutil.copyfile(db, copy)
        wal = db.with_name(db.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        with sqlite3.connect(copy) as conn:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            problems[db.name] = result
        for leftover in scratch.glob(db.name + "*"):
            leftover.unlink()
    return problems


def environment(tag: str) -> dict[str, str]:
    return {**os.environ, TAG: tag, "PIXSEARCH_REFRESH_SECONDS": "0.1"}


@dataclass(frozen=True)
class Point:
    """Where to kill: once `share` of the images still to come are committed, `jitter` s later.

    A share of 0 kills during start-up (or before the first commit), `jitter` s in.
    """

    share: float
    jitter: float

    @classmethod
    def draw(cls, rng: random.Random) -> Point:
        if rng.random() < 0.25:
            return cls(0.0, rng.uniform(0.2, 2.5))
        return cls(rng.uniform(0.03, 0.25), rng.uniform(0.0, 0.5))


def kill_point(
    command: list[str], point: Point, index_dir: Path, total: int, *, log: Path
) -> tuple[Seen, str, int | None]:
    """Run `command`, kill -9 it at `point`; (seen just before, its tag, exit if it ended)."""
    tag = uuid.uuid4().hex
    start = seen_before_kill(index_dir).images
    target = start + round(point.share * (total - start))
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=environment(tag), stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            if seen_before_kill(index_dir).images >= target:
                break
            time.sleep(0.05)
        until = time.monotonic() + point.jitter
        while process.poll() is None and time.monotonic() < until:
            time.sleep(0.02)
        before = seen_before_kill(index_dir)
        ended = process.poll()
    finally:
        with suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
    return before, tag, ended


def check_survival(index_dir: Path, before: Seen, tag: str, scratch: Path, point: str) -> Seen:
    """The invariants after a kill; returns what the index holds now."""
    alive = left_behind(tag)
    assert not alive, f"{point}: processes outlived the kill: {alive}"
    assert not integrity_problems(index_dir, scratch), point
    after = visible(index_dir)
    assert after.generation >= before.generation, f"{point}: {before} then {after}"
    assert after.images >= before.images, f"{point}: committed images lost: {before} -> {after}"
    return after


def crash_loop(
    command: list[str], index_dir: Path, points: list[Point], total: int, tmp_path: Path
) -> None:
    name = command[3]  # the subcommand
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    for i, at in enumerate(points):
        point = f"{name} kill {i + 1}/{len(points)} at {at} (seed {SEED})"
        before, tag, ended = kill_point(command, at, index_dir, total, log=tmp_path / "run.log")
        after = check_survival(index_dir, before, tag, scratch, point)
        landed = "killed" if ended is None else f"had already exited with {ended}"
        print(f"{point}: {landed}; committed before {before}, after {after}")


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pixsearch.cli.main", *args]


def test_ingest_survives_kill_9(rng: random.Random, tmp_path: Path) -> None:
    folder = tmp_path / "pictures"
    folder.mkdir()
    for i in range(PICTURES):
        (folder / f"crash-picture-{i:03d}.jpg").write_bytes(picture(3000 + i, 480, 360))
    index_dir = tmp_path / "index"
    command = cli(
        "ingest", str(folder), "--index", str(index_dir), "--workers", "2",
        "--commit-every", "7", "--no-neural",
    )  # fmt: skip
    points = [Point.draw(rng) for _ in range(6)]
    crash_loop(command, index_dir, points, PICTURES, tmp_path)
    subprocess.run(command, env=environment("final"), check=True, capture_output=True, timeout=120)
    assert visible(index_dir).images == PICTURES


def test_crawl_survives_kill_9(rng: random.Random, finite_site: FiniteSite, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    command = cli(
        "crawl", f"{finite_site.base}/page/0", "--index", str(index_dir), "--allow-private",
        "--quiet", "--delay", "0.01", "--concurrency", "2", "--no-neural", "--max-depth", "1000",
    )  # fmt: skip
    points = [Point.draw(rng) for _ in range(4)]
    crash_loop(command, index_dir, points, finite_site.pages, tmp_path)
    subprocess.run(command, env=environment("final"), check=True, capture_output=True, timeout=120)
    assert visible(index_dir).images == finite_site.pages


@contextmanager
def searching(base: str) -> Iterator[list[int]]:
    """Eight threads searching `base` until the block ends; yields their status codes so far."""
    statuses: list[int] = []
    stop = threading.Event()

    def loop(n: int) -> None:
        with httpx.Client(base_url=base, timeout=5) as client:
            while not stop.is_set():
                try:
                    response = client.get("/v7.0/images/search", params={"q": f"picture {n}"})
                    statuses.append(response.status_code)
                except httpx.HTTPError:
                    statuses.append(0)  # the server is gone: the kill landed
                    time.sleep(0.05)

    threads = [threading.Thread(target=loop, args=(n,), daemon=True) for n in range(8)]
    for thread in threads:
        thread.start()
    try:
        yield statuses
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)


def wait_ready(base: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"server on {base} did not start")


def test_serve_survives_kill_9_under_searches(rng: random.Random, tmp_path: Path) -> None:
    folder = tmp_path / "pictures"
    folder.mkdir()
    for i in range(12):
        (folder / f"served-picture-{i}.jpg").write_bytes(picture(4000 + i))
    index_dir = tmp_path / "index"
    subprocess.run(
        cli("ingest", str(folder), "--index", str(index_dir), "--workers", "1", "--no-neural"),
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    for i in range(2):
        delay = rng.uniform(0.2, 2.0)
        point = f"serve kill {i + 1}/2 at {delay:.2f} s into the searches (seed {SEED})"
        port, tag = free_port(), uuid.uuid4().hex
        command = cli(
            "serve", "--index", str(index_dir), "--port", str(port), "--workers", "2", "--no-auth"
        )
        with (tmp_path / "serve.log").open("ab") as log:
            process = subprocess.Popen(command, env=environment(tag), stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base, process)
            with searching(base) as statuses:
                time.sleep(delay)
                before = visible(index_dir)
                os.kill(process.pid, signal.SIGKILL)
        finally:
            with suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)  # a server that never came up, too
            process.wait()
        assert 200 in statuses and not {s for s in statuses if s >= 500}, point
        after = check_survival(index_dir, before, tag, scratch, point)
        assert after.images == 12, point
        print(f"{point}: {statuses.count(200)} searches answered, index {after}")
