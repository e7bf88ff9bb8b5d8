"""Bulk index build from feature shards: documents per second, and where the time goes.

    python bench/build_bench.py --docs 100000 [--dir .bench/build] [--shards 1]
        [--shard-size 10000] [--thumbnails] [--embedding-dim 0] [--profile 25]

Writes --docs synthetic feature records (search_bench's corpus: Zipf words, realistic
field lengths and attributes; a small real JPEG per image with --thumbnails, a random
unit vector per image with --embedding-dim) into a feature folder, reused when it
already holds them, then times, each in one process on one core:

* reading the records back (Parquet → FeatureRecord), the floor of any build;
* ``build_index`` into fresh embedded stores (--shards N: the global grouping pass
  first, then N shards), split into grouping and writing.

--profile N prints the N costliest functions of the build (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
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


def time_build(folder: FeatureFolder, out: Path, shards: int, profile: int) -> None:
    if out.exists():
        shutil.rmtree(out)
    dirs = [out] if shards == 1 else [out / f"shard-{i}" for i in range(shards)]
    targets = [Target(EmbeddedStore(d, writable=True)) for d in dirs]
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    summary = build_index(folder, targets, commit_every=50_000)
    if profiler is not None:
        profiler.disable()
    for target in targets:
        target.store.close()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"build     {summary.records:>8} records  {seconds:7.1f} s wall {cpu:7.1f} s CPU  "
        f"{summary.records / cpu:>9,.0f} docs/CPU-s  (grouping {summary.grouping_seconds:.1f} s, "
        f"writing {summary.writing_seconds:.1f} s, {shards} shard(s): {summary.indexed})"
    )
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=Path(".bench/build"))
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--shard-size", type=int, default=10_000)
    parser.add_argument("--thumbnails", action="store_true")
    parser.add_argument("--embedding-dim", type=int, default=0)
    parser.add_argument("--profile", type=int, default=0)
    args = parser.parse_args()
    kind = f"{args.docs}-t{int(args.thumbnails)}-e{args.embedding_dim}"
    folder = FeatureFolder(args.dir / f"features-{kind}")
    write_features(folder, args.docs, args.shard_size, args.thumbnails, args.embedding_dim)
    time_read(folder)
    time_build(folder, args.dir / "index", args.shards, args.profile)


if __name__ == "__main__":
    main()
