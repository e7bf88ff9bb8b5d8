"""Writing the index: documents per second, and where the time goes.

    python bench/build_bench.py --docs 100000 [--dir .bench/build] [--shards 1]
        [--shard-size 10000] [--thumbnails] [--embedding-dim 0] [--profile 25]
        [--workers 1] [--distributor local|ray]
    python bench/build_bench.py --mode ingest --docs 1000000 [--window 100000]
        [--commit-every 2000] [--thumbnails] [--profile 25] [--start N]

``--mode build`` (the default) measures the bulk build from feature shards:

Writes --docs synthetic feature records (search_bench's corpus: Zipf words, realistic
field lengths and attributes; a small real JPEG per image with --thumbnails, a random
unit vector per image with --embedding-dim) into a feature folder, reused when it
already holds them, then times, each in one process on one core:

* reading the records back (Parquet → FeatureRecord), the floor of any build;
* ``build_index`` into fresh embedded stores (--shards N: the global grouping pass
  first, then N shards), split into grouping and writing.

With --workers W over 1 the N shards are written side by side by W spawned processes
(parallel.py); with --distributor ray each is a Ray task on a local Ray of W CPUs,
started first (its start timed apart: a cluster joined has none). CPU then counts
every process of the build: this one, its reaped children (the pool) and its live
descendants (Ray's daemons and workers, read from /proc before and after).

``--mode ingest`` measures the incremental writer the ingest uses: search_bench's
documents added one by one to a fresh EmbeddedStore (``add`` with its near-duplicate
probe, a commit every --commit-every), reporting the rate of each --window of
documents, so a rate that falls as the index grows shows (the target: >= 3,000/s
all the way to 1M). Each window also says which threads its CPU went to and how much
of its wall and main-thread CPU was spent inside ``commit``. With --start N the index in
--dir already holds documents 0..N-1 (a ``cp -a`` of an earlier run's), so the windows
past N can be timed again, old code against new, without rebuilding what precedes them.

CPU figures: ``CPU`` is the process (the Tantivy indexing thread included),
``main`` the Python thread alone. --profile N prints the N costliest functions of
the main thread (cProfile on the thread's CPU clock, so other load on the machine
does not inflate it; Tantivy's own thread is not in it).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import os
import pstats
import resource
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.features.build import Target, build_index
from pixsearch.index.features.folder import FeatureFolder
from pixsearch.index.features.parallel import build_shards_side_by_side
from pixsearch.index.features.schema import FeatureRecord
from search_bench import Corpus


def thumbnail_bytes(n: int) -> bytes:
    """A small, distinct JPEG (a few hundred bytes): the store's write path, not its size."""
    rng = np.random.default_rng(n)
    pixels = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).resize((64, 48), Image.Resampling.NEAREST).save(out, "JPEG")
    return out.getvalue()


def write_features(
    folder: FeatureFolder, docs: int, shard_size: int, thumbnails: bool, dim: int
) -> None:
    if sum(1 for _ in folder.names()) * shard_size >= docs:
        print(f"reusing {folder.location}: {len(folder.names())} shards")
        return
    corpus = Corpus()
    rng = np.random.default_rng(3)
    now = datetime.now(UTC)
    started = time.perf_counter()
    for shard, first in enumerate(range(0, docs, shard_size)):
        records, thumbs = [], []
        for n in range(first, min(first + shard_size, docs)):
            doc = corpus.document(n, now)
            vector = None
            if dim:
                vector = rng.normal(size=dim).astype(np.float32)
                vector /= np.linalg.norm(vector)
            records.append(
                FeatureRecord(doc.facts, doc.occurrences, doc.first_seen, vector, None, thumbnails)
            )
            if thumbnails:
                thumbs.append((doc.facts.sha256, thumbnail_bytes(n)))
        folder.write_shard(f"{shard:06d}", records, thumbs)
    print(f"wrote {docs} feature records in {time.perf_counter() - started:.1f} s")


def time_read(folder: FeatureFolder) -> float:
    started, cpu = time.perf_counter(), time.process_time()
    count = sum(1 for _ in folder.records())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"read      {count:>8} records  {seconds:7.1f} s wall {cpu:7.1f} s CPU  "
        f"{count / cpu:>9,.0f} records/CPU-s"
    )
    return seconds


class Clocks:
    """Wall, process CPU and main-thread CPU seconds since the last reading."""

    def __init__(self) -> None:
        self.last = self.now()

    @staticmethod
    def now() -> tuple[float, float, float]:
        return time.perf_counter(), time.process_time(), time.thread_time()

    def lap(self) -> tuple[float, float, float]:
        now = self.now()
        wall, cpu, main = (b - a for a, b in zip(self.last, now, strict=True))
        self.last = now
        return wall, cpu, main


def rates(what: str, count: int, lap: tuple[float, float, float]) -> str:
    wall, cpu, main = lap
    return (
        f"{what} {count:>8} docs  {wall:7.1f} s wall {cpu:7.1f} s CPU {main:7.1f} s main  "
        f"{count / wall:>7,.0f} docs/s  {count / cpu:>7,.0f} docs/CPU-s"
    )


def thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads so far, by thread name (Linux; else empty).

    Tantivy's indexing and merging threads are native, so cProfile never sees them:
    this says which of them the process CPU went to.
    """
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for task in Path("/proc/self/task").glob("*"):
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rpartition(")")[2].split()
        except OSError:  # the thread ended meanwhile
            continue
        # utime and stime are fields 14 and 15 of stat, 12 and 13 after the name
        name = name.rstrip("0123456789") or name
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def thread_report(before: dict[str, float], after: dict[str, float], cpu: float) -> str:
    """Each live thread's share of `cpu` seconds; the rest went to threads that ended."""
    spent = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    spent["(ended threads)"] = cpu - sum(spent.values())
    busy = sorted(((v, k) for k, v in spent.items() if v >= 0.05), reverse=True)
    return "  threads: " + ", ".join(f"{k} {v:.1f} s" for v, k in busy)


def profiled(top: int) -> cProfile.Profile | None:
    return cProfile.Profile(time.thread_time) if top else None


def report(profiler: cProfile.Profile | None, top: int) -> None:
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def time_build(folder: FeatureFolder, out: Path, shards: int, profile: int) -> None:
    if out.exists():
        shutil.rmtree(out)
    dirs = [out] if shards == 1 else [out / f"shard-{i}" for i in range(shards)]
    targets = [Target(EmbeddedStore(d, writable=True)) for d in dirs]
    profiler = profiled(profile)
    clocks = Clocks()
    if profiler is not None:
        profiler.enable()
    summary = build_index(folder, targets, commit_every=50_000)
    for target in targets:
        target.store.close()
    if profiler is not None:
        profiler.disable()
    print(
        rates("build    ", summary.records, clocks.lap()),
        f" (grouping {summary.grouping_seconds:.1f} s, writing {summary.writing_seconds:.1f} s, "
        f"{shards} shard(s): {summary.indexed})",
    )
    report(profiler, profile)


def embedded_target(folder: Path) -> Target:
    """A bare embedded store, as time_build's: picklable for the pool and for Ray."""
    return Target(EmbeddedStore(folder, writable=True))


def descendants_cpu() -> float:
    """CPU seconds so far of this process's live descendants, from /proc (Linux)."""
    parents: dict[int, int] = {}
    spent: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # ended meanwhile
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        spent[pid] = (int(fields[11]) + int(fields[12])) / tick
    mine, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - mine
        mine |= frontier
    return sum(spent[pid] for pid in mine)


def all_cpu() -> float:
    """This process, its reaped children and its live descendants: CPU seconds so far."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime + descendants_cpu()


def time_build_spread(
    folder: FeatureFolder, out: Path, shards: int, workers: int, distributor: str
) -> None:
    """The shards written side by side: W processes here, or Ray tasks on a local Ray."""
    if out.exists():
        shutil.rmtree(out)
    dirs = [out / f"shard-{i}" for i in range(shards)]
    options = {"commit_every": 50_000}
    if distributor == "ray":
        import ray

        from pixsearch.index.features.ray_build import build_on_ray

        started = time.perf_counter()
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        print(f"ray start {time.perf_counter() - started:7.1f} s wall ({workers} CPUs)")
        build = functools.partial(build_on_ray, features=folder, folders=dirs, **options)
    else:
        build = functools.partial(
            build_shards_side_by_side, features=folder, folders=dirs, workers=workers, **options
        )
    wall, cpu = time.perf_counter(), all_cpu()
    summary = build(open_target=embedded_target)
    wall, cpu = time.perf_counter() - wall, all_cpu() - cpu
    print(
        f"build     {summary.records:>8} docs  {wall:7.1f} s wall {cpu:7.1f} s CPU (all "
        f"processes)  {summary.records / wall:>7,.0f} docs/s  "
        f"{summary.records / cpu:>7,.0f} docs/CPU-s  (grouping {summary.grouping_seconds:.1f} "
        f"s, writing {summary.writing_seconds:.1f} s; {distributor}, {workers} workers, "
        f"{shards} shards: {summary.indexed})"
    )
    if distributor == "ray":
        ray.shutdown()


def time_ingest(
    out: Path,
    docs: int,
    window: int,
    commit_every: int,
    thumbnails: bool,
    profile: int,
    start: int = 0,
) -> None:
    """search_bench's documents through EmbeddedStore.add, as the ingest's Indexer writes.

    Each window's documents (and thumbnails) are made first, off the clock. With ``start``
    the index at ``out`` already holds the first ``start`` documents (a copy of an earlier
    run's), so the windows past it can be timed again without rebuilding what precedes them.
    """
    if start == 0 and out.exists():
        shutil.rmtree(out)
    store = EmbeddedStore(out, writable=True)
    corpus = Corpus()
    now = datetime.now(UTC)
    profiler = profiled(profile)
    total = (0.0, 0.0, 0.0)
    for first in range(start, docs, window):
        batch = [
            (corpus.document(n, now), thumbnail_bytes(n) if thumbnails else None)
            for n in range(first, min(first + window, docs))
        ]
        clocks, threads = Clocks(), thread_cpu()
        if profiler is not None:
            profiler.enable()
        in_commit = [0.0, 0.0]  # wall and main-thread CPU seconds inside commit()
        for n, (doc, thumb) in enumerate(batch, first + 1):
            store.add(doc, thumb)
            if n % commit_every == 0 or n == docs:
                wall, main = time.perf_counter(), time.thread_time()
                store.commit()
                in_commit[0] += time.perf_counter() - wall
                in_commit[1] += time.thread_time() - main
        if profiler is not None:
            profiler.disable()
        lap = clocks.lap()
        total = tuple(t + x for t, x in zip(total, lap, strict=True))  # type: ignore[assignment]
        print(rates(f"ingest to {first + len(batch):>8}:", len(batch), lap), flush=True)
        print(
            thread_report(threads, thread_cpu(), lap[1]),
            f"; in commit: {in_commit[0]:.1f} s wall {in_commit[1]:.1f} s main",
            flush=True,
        )
    store.close()
    print(rates("ingest all        ", docs - start, total))
    report(profiler, profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=Path(".bench/build"))
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--shard-size", type=int, default=10_000)
    parser.add_argument("--thumbnails", action="store_true")
    parser.add_argument("--embedding-dim", type=int, default=0)
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--mode", choices=("build", "ingest"), default="build")
    parser.add_argument(
        "--workers", type=int, default=1, help="build: shards written at once (--shards over 1)"
    )
    parser.add_argument("--distributor", choices=("local", "ray"), default="local")
    parser.add_argument("--window", type=int, default=100_000)
    parser.add_argument("--commit-every", type=int, default=2000)
    parser.add_argument(
        "--start", type=int, default=0, help="ingest: the index in --dir already holds this many"
    )
    args = parser.parse_args()
    if args.mode == "ingest":
        out = args.dir / "ingest-index"
        time_ingest(
            out,
            args.docs,
            args.window,
            args.commit_every,
            args.thumbnails,
            args.profile,
            args.start,
        )
        return
    kind = f"{args.docs}-t{int(args.thumbnails)}-e{args.embedding_dim}"
    folder = FeatureFolder(args.dir / f"features-{kind}")
    write_features(folder, args.docs, args.shard_size, args.thumbnails, args.embedding_dim)
    time_read(folder)
    if args.shards > 1 and (args.workers > 1 or args.distributor == "ray"):
        spread = (args.shards, args.workers, args.distributor)
        time_build_spread(folder, args.dir / "index", *spread)
    else:
        time_build(folder, args.dir / "index", args.shards, args.profile)


if __name__ == "__main__":
    main()
