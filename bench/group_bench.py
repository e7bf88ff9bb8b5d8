"""The grouping pass of a sharded build: the ingest's sequential walk against two phases.

    python bench/group_bench.py [--docs 100000] [--distance 6] [--parts 16] [--workers 2]
        [--embeddings 0] [--embedded-share 0.5] [--transparent-share 0.02]
        [--blank-share 0.001] [--cluster 0] [--cluster-colours 100] [--seed 1]
        [--no-sequential] [--memory]

Synthetic looks, no pictures: families of one random 64-bit pHash and its copies
(most images alone; a copy within 0..distance+1 bits of its original, its colour
layout a few units off), transparent pictures with a look over black and copies
flattened over black near it, a share of near-blank pictures (hashes within 3 bits
of 0, as flat images hash), and, with --embeddings D, a share with D-d visual
embeddings (copies' a little noisy). With --cluster N, a crowded cluster too: N
more images whose hashes are within 2 bits of one (as a site's placeholders or flat
colour fills hash), each in one of --cluster-colours flat colours, so that an image
joins the first earlier one of its colour; their pairs are N^2/2. No thumbnails: every
pair a hash finds stands without a pixel check, so the times are the grouping
machinery's, not the pixel checks' (those are the same calls in both ways).

Times, wall and CPU seconds (this process, and the pool's processes where there are):
the reference (tests/index/features/sequential.py: every image through
``DuplicateIndex.group_for``, as before the two phases), ``assign_groups`` in this
process, and with its pairs found in a spawned process pool of --workers; then the
two phases apart (reading the looks, phase 1's pairs by chunk key, phase 2's
resolution in order). Every way must give the reference's groups, or the bench fails.

With --memory, the reference and ``assign_groups`` in this process instead each run
in a fresh process, which reports its peak resident memory (ru_maxrss) before and
after the grouping, and its times.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.index.features.sequential import sequential_groups

from pixsearch.index.darklook import SIDE, DarkLook
from pixsearch.index.features.groups import _Images, _Resolver, assign_groups
from pixsearch.index.features.pairs import find_pairs, merge_pairs, pair_parts
from pixsearch.index.features.schema import Look

FULL = np.uint64((1 << 64) - 1)


@dataclass
class Clock:
    wall: float = 0.0
    cpu: float = 0.0  # this process's, and its finished children's


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


@contextmanager
def timed() -> Iterator[Clock]:
    clock = Clock()
    wall, cpu = time.perf_counter(), _cpu()
    yield clock
    clock.wall, clock.cpu = time.perf_counter() - wall, _cpu() - cpu


def _flip(hashes: np.ndarray, bits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each hash with `bits` of its bits (at random places) flipped."""
    masks = np.zeros(len(hashes), dtype=np.uint64)
    for b in range(int(bits.max(initial=0))):
        place = rng.integers(0, 64, len(hashes)).astype(np.uint64)
        masks ^= np.where(b < bits, np.uint64(1) << place, np.uint64(0))
    return np.asarray(hashes ^ masks, dtype=np.uint64)


def _layouts(count: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, (count, 12)).astype(np.int64)


def _hex(layouts: np.ndarray) -> list[str]:
    return [bytes(row).hex() for row in np.clip(layouts, 0, 255).astype(np.uint8)]


def make_looks(args: argparse.Namespace) -> list[Look]:
    """--docs looks in a random order (see the module's description)."""
    rng = np.random.default_rng(args.seed)
    n = args.docs
    sizes = rng.geometric(0.6, n)  # images of a family: mostly 1, a long tail
    family = np.repeat(np.arange(n), sizes)[:n]
    first = np.r_[True, family[1:] != family[:-1]]
    base = rng.integers(0, FULL, n, dtype=np.uint64, endpoint=True)[family]
    hashes = np.where(first, base, _flip(base, rng.integers(0, args.distance + 2, n), rng))
    blank = rng.random(n) < args.blank_share
    hashes[blank] = _flip(
        np.zeros(int(blank.sum()), dtype=np.uint64), rng.integers(0, 4, int(blank.sum())), rng
    )
    layouts = _layouts(n, rng)[family] + np.where(first[:, None], 0, rng.integers(-3, 4, (n, 12)))
    darks = _darks(first, family, hashes, layouts, args, rng)
    vectors = _vectors(first, family, args, rng)
    looks = [
        Look(f"{i:064x}", int(h), text, False, vectors[i], darks[i])
        for i, (h, text) in enumerate(zip(hashes.tolist(), _hex(layouts), strict=True))
    ]
    if args.cluster:  # drawn only then: without, the same looks as before the option
        looks += _cluster(args, rng)
    return [looks[i] for i in rng.permutation(len(looks))]


def _cluster(args: argparse.Namespace, rng: np.random.Generator) -> list[Look]:
    """--cluster looks within 2 bits of one hash, in --cluster-colours flat colours."""
    n = args.cluster
    base = np.full(n, rng.integers(0, FULL, dtype=np.uint64, endpoint=True), dtype=np.uint64)
    hashes = _flip(base, rng.integers(0, 3, n), rng)
    colours = rng.integers(0, 256, (args.cluster_colours, 3))
    layouts = np.tile(colours[rng.integers(0, args.cluster_colours, n)], 4)
    return [
        Look(f"c{i:063x}", int(h), text, False, None, "")
        for i, (h, text) in enumerate(zip(hashes.tolist(), _hex(layouts), strict=True))
    ]


def _darks(
    first: np.ndarray,
    family: np.ndarray,
    hashes: np.ndarray,
    layouts: np.ndarray,
    args: argparse.Namespace,
    rng: np.random.Generator,
) -> list[str]:
    """Looks over black: transparent originals get one; a share of their copies are
    flattened over black instead (their hash near the look over black)."""
    n = len(first)
    transparent_family = rng.random(n) < args.transparent_share
    dark_hash = rng.integers(0, FULL, n, dtype=np.uint64, endpoint=True)[family]
    transparent = transparent_family[family]
    over_black = transparent & ~first & (rng.random(n) < 0.5)
    near = _flip(dark_hash, rng.integers(0, args.distance + 1, n), rng)
    hashes[over_black] = near[over_black]
    alpha = rng.integers(0, 256, (SIDE, SIDE), dtype=np.uint8)
    texts = [""] * n
    dark_layouts = _hex(layouts)  # as over white: pairs across black pass the layout filter
    for i in np.flatnonzero(transparent & ~over_black).tolist():
        texts[i] = DarkLook(int(dark_hash[i]), dark_layouts[i], alpha).encode()
    return texts


def _vectors(
    first: np.ndarray, family: np.ndarray, args: argparse.Namespace, rng: np.random.Generator
) -> list[np.ndarray | None]:
    n = len(first)
    if not args.embeddings:
        return [None] * n
    vectors: list[np.ndarray | None] = [None] * n
    bases: dict[int, np.ndarray] = {}
    for i in np.flatnonzero(rng.random(n) < args.embedded_share).tolist():
        base = bases.setdefault(int(family[i]), rng.normal(size=args.embeddings))
        vectors[i] = (base + rng.normal(scale=0.1, size=args.embeddings)).astype(np.float32)
    return vectors


def in_pool(workers: int) -> tuple[ProcessPoolExecutor, Callable[..., list[Any]]]:
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
    return pool, lambda fn, items: list(pool.map(fn, items))


def run(args: argparse.Namespace) -> None:
    with timed() as making:
        looks = make_looks(args)
    print(f"{len(looks):,} looks made in {making.wall:.1f} s")
    rows: list[tuple[str, Clock]] = []
    expected: dict[str, str] | None = None
    nothing: Callable[[str], bytes | None] = lambda sha: None  # noqa: E731
    if args.sequential:
        with timed() as clock:
            expected = sequential_groups(looks, nothing, max_distance=args.distance)
        rows.append(("sequential (the ingest's walk)", clock))
    with timed() as clock:
        groups = assign_groups(looks, nothing, max_distance=args.distance, parts=args.parts)
    rows.append((f"two phases, {args.parts} parts in this process", clock))
    expected = expected or groups
    assert groups == expected, "two phases in this process: other groups"
    with timed() as clock:
        pool, mapper = in_pool(args.workers)
        with pool:
            pooled = assign_groups(
                looks, nothing, max_distance=args.distance, parts=args.parts, mapper=mapper
            )
    rows.append((f"two phases, {args.parts} parts in a pool of {args.workers}", clock))
    assert pooled == expected, "two phases in a pool: other groups"
    rows += phases(looks, args)
    print(f"{'':44} {'wall s':>8} {'CPU s':>8}")
    for name, clock in rows:
        print(f"{name:44} {clock.wall:8.2f} {clock.cpu:8.2f}")
    sizes = np.unique(list(expected.values()), return_counts=True)[1]
    print(f"{len(expected):,} images, {len(sizes):,} groups, the largest {sizes.max():,}")


def phases(looks: list[Look], args: argparse.Namespace) -> list[tuple[str, Clock]]:
    """The two phases of `assign_groups` timed apart, as it runs them in this process."""
    with timed() as reading:
        images = _Images.read(looks)
    with timed() as finding:
        inputs = pair_parts(
            np.array(images.hashes, dtype=np.uint64),
            np.array([d.phash if d is not None else 0 for d in images.darks], dtype=np.uint64),
            np.array([d is not None for d in images.darks], dtype=bool),
            args.distance,
            args.parts,
        )
        found = merge_pairs(map(find_pairs, inputs))
    with timed() as resolving:
        _Resolver(images, lambda sha: None, args.distance).run(found)
    cut = f"{len(found.cut_same):,} images cut by hash, {len(found.cut_across):,} across black"
    print(f"{len(found.rows):,} candidate pairs kept; {cut}")
    return [
        ("  reading the looks", reading),
        ("  phase 1: pairs by chunk key", finding),
        ("  phase 2: resolution in order", resolving),
    ]


def memory(args: argparse.Namespace) -> None:
    """Each way in a fresh process: its peak memory and times (--memory)."""
    ways = ["sequential", "two phases"] if args.sequential else ["two phases"]
    print(f"{'':36} {'MB before':>10} {'MB peak':>10} {'wall s':>8} {'CPU s':>8}")
    expected: dict[str, str] | None = None
    for way in ways:
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            before, peak, clock, groups = pool.submit(measured, way, args).result()
        print(f"{way:36} {before:10,.0f} {peak:10,.0f} {clock.wall:8.2f} {clock.cpu:8.2f}")
        expected = expected or groups
        assert groups == expected, f"{way}: other groups"
    sizes = np.unique(list(groups.values()), return_counts=True)[1]
    print(f"{len(groups):,} images, {len(sizes):,} groups, the largest {sizes.max():,}")


def measured(way: str, args: argparse.Namespace) -> tuple[float, float, Clock, dict[str, str]]:
    """(peak MB once the looks are made, peak MB after `way`, its times, its groups)."""
    looks = make_looks(args)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    nothing: Callable[[str], bytes | None] = lambda sha: None  # noqa: E731
    with timed() as clock:
        if way == "sequential":
            groups = sequential_groups(looks, nothing, max_distance=args.distance)
        else:
            groups = assign_groups(looks, nothing, max_distance=args.distance, parts=args.parts)
    return before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, clock, groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--distance", type=int, default=6)
    parser.add_argument("--parts", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--embeddings", type=int, default=0, help="dimensions; 0: none")
    parser.add_argument("--embedded-share", type=float, default=0.5)
    parser.add_argument("--transparent-share", type=float, default=0.02)
    parser.add_argument("--blank-share", type=float, default=0.001)
    parser.add_argument("--cluster", type=int, default=0, help="images in a crowded cluster")
    parser.add_argument("--cluster-colours", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-sequential", dest="sequential", action="store_false")
    parser.add_argument("--memory", action="store_true", help="peak memory, each way alone")
    args = parser.parse_args()
    if args.memory:
        memory(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
