"""Candidate near-duplicate pairs of a whole build, found by pHash chunk key (the map).

The ingest finds an image's earlier duplicates by multi-index hashing
(``dupes.DuplicateIndex``): four 16-bit chunk tables, each probed with the chunk as is
and with every one-bit flip, which finds every hash within 7 bits. Over a whole build
the same guarantee is a join: two hashes within 7 bits have a chunk equal or one bit
apart, so every such pair meets in a bucket (table, chunk value), the smaller of the
two chunk values (their bitwise and). Buckets are independent, so the join splits by
chunk value: part p of P takes the buckets whose value is p modulo P (and reads the
buckets one bit above them). A pair whose chunks meet in several tables is kept by
the first only, so the parts together give each pair exactly once: no part's output
repeats another's, and none is larger than it must be.

The same join pairs an image's hash with the look over black of a transparent picture
(``darklook``): the ingest's second table, probed both ways (``DuplicateIndex._across``).

Everything here works on plain numpy arrays and module-level functions, so that parts
can run in other processes or as Ray tasks: `pair_parts` makes the inputs,
`find_pairs` is the map, `merge_pairs` the reduce. Images are numbered by their order
in the build (the ingest's order), and a pair is (k, j, distance, kind) with j < k:
the later image k meets the earlier j, as the ingest would when adding k.

A crowded cluster (thousands of placeholder or flat-colour files whose hashes are all
within the distance) has pairs by the square of its size, more than memory holds.
The ingest tries an image's candidates nearest first and stops at the first that
passes, so a part keeps only each image's best `keep` (`KEEP`) of each class (the
same kind; across black), cutting as the rows pile up, and says which images it cut:
a part's best `keep` of an image hold the global best `keep` found in that part, so
`merge_pairs`, cutting the union again, keeps exactly the global best `keep`. The
resolution measures a cut image's further candidates directly, in the rare case it
needs them (features/direct.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np

from pixsearch.index.dupes import CHUNK_BITS, CHUNKS, bit_counts, chunk_values

# What a pair compares (the column `kind`); across black the ingest meets stored looks
# over black before its own look over black, and so do sorted pairs.
SAME = 0  # k's hash with j's hash
THEIRS_OVER_BLACK = 1  # k's hash with j's look over black (j is transparent)
MINE_OVER_BLACK = 2  # k's look over black with j's hash (k is transparent)

K, J, DISTANCE, KIND = range(4)  # the columns of a pairs array
_VALUES = 1 << CHUNK_BITS
_BITS = [1 << bit for bit in range(CHUNK_BITS)]
# Candidates measured at once (~40 bytes each in flight): a few MB, near the CPU's
# caches, ran 1.6 times faster than 2 M at a time (1M hashes, 16 parts), and still
# large next to numpy's cost per call.
BATCH = 1 << 17
# The rows kept of one image and class, the best by (distance, j, kind). Memory: at most
# 2 x KEEP rows of 32 bytes an image (4 KB) in a part's output and in the merged pairs,
# whatever the clusters (the merge's input, all parts' outputs, at worst `parts` times
# that, when one image's pairs spread evenly over every part); a normal image has a
# handful of candidates and is never cut. A cut image costs a direct scan over the
# earlier images (features/direct.py, a few ms per million images) only when its kept
# candidates are all refused (the same kind: by colour layout or pixels; across black:
# fewer than DUP_NEIGHBOURS = 8 agree in colour layout): at 64, only after 64 nearer
# look-alikes were refused, which real copies rarely meet (one pixel check costs about
# as much as a scan over a million hashes).
KEEP = 64
# Rows a part piles up before it first cuts them to the best `keep` (then: as many as it
# kept, so that each cut reads at most twice what it is given): 32 MB, and a cut needs
# about three times the rows it reads; small next to the kept rows' bound.
COMPACT_ROWS = 1 << 20


class PairPart(NamedTuple):
    """One part's input: every image's hashes and the share of buckets it joins."""

    hashes: np.ndarray  # uint64, one per image in build order
    dark: np.ndarray  # uint64: the image's look over black's hash; 0 where it has none
    has_dark: np.ndarray  # bool: the image is transparent and has a look over black
    max_distance: int
    part: int
    parts: int
    keep: int  # rows kept of an image and class (`KEEP`)


class FoundPairs(NamedTuple):
    """Pairs found (by a part, or merged), and the images whose rows were cut to `keep`."""

    rows: np.ndarray  # (m, 4) int64 rows (k, j, distance, kind)
    cut_same: np.ndarray  # int64, sorted: images k with more than `keep` SAME pairs
    cut_across: np.ndarray  # int64, sorted: images k with more than `keep` across black
    keep: int


class _Buckets(NamedTuple):
    """One side's images sorted by chunk value (by number within a value)."""

    chunks: np.ndarray  # chunk values, sorted
    ids: np.ndarray  # image numbers, in the same order
    hashes: np.ndarray  # their hashes, in the same order
    starts: np.ndarray  # (_VALUES + 1,): where each chunk value's bucket starts
    owned: np.ndarray  # positions of the images in the buckets this part owns


class _Probes(NamedTuple):
    """Images (`left`, with hash `left_hashes`) each meeting a run [lo, hi) of a side."""

    left: np.ndarray
    left_hashes: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def pair_parts(
    hashes: np.ndarray,
    dark: np.ndarray,
    has_dark: np.ndarray,
    max_distance: int,
    parts: int,
    keep: int | None = None,
) -> list[PairPart]:
    """The inputs of `find_pairs` for `parts` parts: together they find every pair (the
    best `keep` of each image and class; default `KEEP`, read now)."""
    keep = KEEP if keep is None else keep
    if parts < 1 or keep < 1:
        raise ValueError("parts and keep must be at least 1")
    if max_distance > 2 * CHUNKS - 1:  # some chunk within one bit: the join's guarantee
        raise ValueError(f"max_distance above {2 * CHUNKS - 1} is not guaranteed")
    hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
    dark = np.where(has_dark, np.asarray(dark, dtype=np.uint64), np.uint64(0))
    has_dark = np.asarray(has_dark, dtype=bool)
    return [PairPart(hashes, dark, has_dark, max_distance, p, parts, keep) for p in range(parts)]


def find_pairs(part: PairPart) -> FoundPairs:
    """The pairs within max_distance that meet in this part's buckets, each once (by the
    first table where they meet), the best `part.keep` of each image and class."""
    kept = _Kept(len(part.hashes), part.keep)
    everyone = np.arange(len(part.hashes), dtype=np.int64)
    transparent = np.flatnonzero(part.has_dark)
    chunks = chunk_values(part.hashes)
    dark_hashes = part.dark[transparent]
    dark_chunks = chunk_values(dark_hashes)
    mine, needed = _values_of(part)
    for table in range(CHUNKS):
        side = _buckets(chunks[table], everyone, part.hashes, mine, needed)
        for rows in _same_pairs(side, part, table):
            kept.add(rows)
        if len(transparent):
            darks = _buckets(dark_chunks[table], transparent, dark_hashes, mine, needed)
            for rows in _across_pairs(side, darks, part, table):
                kept.add(rows)
    return kept.found()


def merge_pairs(found: Iterable[FoundPairs]) -> FoundPairs:
    """The parts' pairs by image k, then the same kind before across black, then
    (distance, j, kind): the order in which the ingest tries them; of each image and
    class the best `keep` (the parts' least), cut part by part as they are read. A row
    given twice (a part run twice by a mapper) is kept once."""
    found = list(found)
    keep = min((f.keep for f in found), default=KEEP)
    images = max((int(f.rows[:, K].max()) + 1 for f in found if len(f.rows)), default=0)
    kept = _Kept(images, keep)
    for part in found:
        kept.add(part.rows)
    merged = kept.found()
    pairs = merged.rows
    first, second = _sort_keys(pairs)
    order = np.lexsort((second, first))
    first, second = first[order], second[order]
    fresh = np.ones(len(pairs), dtype=bool)
    fresh[1:] = (first[1:] != first[:-1]) | (second[1:] != second[:-1])
    cut = [_groups_of(f) for f in (merged, *found)]
    return _found(pairs[order[fresh]], np.concatenate(cut), keep)


def _sort_keys(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two keys that sort rows by (k, across, distance) then (j, kind): two keys sort
    faster than five; a distance is under 8 bits (`pair_parts` checks)."""
    across = (pairs[:, KIND] != SAME).astype(np.int64)
    return pairs[:, K] * 16 + across * 8 + pairs[:, DISTANCE], pairs[:, J] * 3 + pairs[:, KIND]


def _groups_of(found: FoundPairs) -> np.ndarray:
    return np.concatenate([found.cut_same * 2, found.cut_across * 2 + 1])


def _found(rows: np.ndarray, cut_groups: np.ndarray, keep: int) -> FoundPairs:
    """`FoundPairs` of rows and the groups (k * 2 + across) cut."""
    cut_groups = np.unique(cut_groups.astype(np.int64))
    across = (cut_groups & 1).astype(bool)
    return FoundPairs(rows, cut_groups[~across] >> 1, cut_groups[across] >> 1, keep)


class _Kept:
    """Rows as they come (a part's, or in the merge the parts'), cut to the best `keep` of
    each group (an image and a class: k * 2 + across) whenever they pile up: memory
    bounded by the kept rows and COMPACT_ROWS, not by the pairs of a crowded cluster."""

    def __init__(self, images: int, keep: int) -> None:
        self.images, self.keep = images, keep
        self.rows: list[np.ndarray] = [np.empty((0, 4), dtype=np.int64)]
        self.piled = 0  # rows added since the last cut
        self.kept = 0  # rows the last cut kept
        self.cut = np.zeros(2 * images, dtype=bool)  # by group
        # by group: the rank key of the worst row kept when it was cut; a later row of
        # the group ranking after it can never be among its best
        self.worst = np.full(2 * images, np.iinfo(np.int64).max, dtype=np.int64)

    def add(self, rows: np.ndarray) -> None:
        group, rank = self._keys(rows)
        rows = rows[rank < self.worst[group]]
        self.rows.append(rows)
        self.piled += len(rows)
        if self.piled >= max(COMPACT_ROWS, self.kept):
            self._compact()

    def found(self) -> FoundPairs:
        self._compact()
        return _found(self.rows[0], np.flatnonzero(self.cut), self.keep)

    def _keys(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's group, and its rank key in its group: (distance, j, kind)."""
        group = rows[:, K] * 2 + (rows[:, KIND] != SAME)
        return group, (rows[:, DISTANCE] * self.images + rows[:, J]) * 3 + rows[:, KIND]

    def _compact(self) -> None:
        rows = np.concatenate(self.rows)
        self.rows = []
        group, rank = self._keys(rows)
        counts = np.bincount(group, minlength=2 * self.images)
        crowded = counts[group] > self.keep
        if crowded.any():  # sort only the rows of the groups that may be cut
            many = np.flatnonzero(crowded)
            many = many[np.lexsort((rank[many], group[many]))]
            group, rank = group[many], rank[many]
            fresh = np.ones(len(many), dtype=bool)  # a row given twice (`merge_pairs`)
            fresh[1:] = (group[1:] != group[:-1]) | (rank[1:] != rank[:-1])
            many, group, rank = many[fresh], group[fresh], rank[fresh]
            place = np.arange(len(many)) - np.searchsorted(group, group)
            worst = np.flatnonzero(place == self.keep) - 1  # the last kept of those cut
            self.worst[group[worst]] = rank[worst]
            self.cut[group[worst]] = True
            rows = rows[np.concatenate([np.flatnonzero(~crowded), many[place < self.keep]])]
        self.rows, self.piled, self.kept = [rows], 0, len(rows)


def _values_of(part: PairPart) -> tuple[np.ndarray, np.ndarray]:
    """By chunk value: whether this part owns its bucket, and whether it reads it (owns
    it or the bucket one bit below it)."""
    values = np.arange(_VALUES)
    mine = values % part.parts == part.part
    needed = mine.copy()
    for bit in _BITS:
        needed |= ((values & bit) != 0) & mine[values ^ bit]
    return mine, needed


def _buckets(
    chunks: np.ndarray, ids: np.ndarray, hashes: np.ndarray, mine: np.ndarray, needed: np.ndarray
) -> _Buckets:
    """The buckets a part reads (`_values_of`), sorted; with 16 parts, a fifth of them."""
    keep = np.flatnonzero(needed[chunks]) if not needed.all() else np.arange(len(chunks))
    # 16-bit keys sort stably by radix in numpy: every part sorts every table, so fast
    by_chunk = keep[np.argsort(chunks[keep].astype(np.uint16), kind="stable")]
    chunks = chunks[by_chunk]
    starts = np.searchsorted(chunks, np.arange(_VALUES + 1))
    owned = np.flatnonzero(np.repeat(mine, np.diff(starts)))
    return _Buckets(chunks, ids[by_chunk], hashes[by_chunk], starts, owned)


def _same_pairs(side: _Buckets, part: PairPart, table: int) -> Iterator[np.ndarray]:
    """Hash with hash: later images of an owned bucket, and every image of each
    bucket one bit above it (their bitwise and is the owned value)."""
    owned = side.owned
    left, left_hashes, values = side.ids[owned], side.hashes[owned], side.chunks[owned]
    same_bucket = _Probes(left, left_hashes, owned + 1, side.starts[values + 1])
    probe = _joined([same_bucket, *_one_bit_up(left, left_hashes, values, side.starts)])
    for left, right, distance in _within(probe, side, part.max_distance, table):
        yield _rows(np.maximum(left, right), np.minimum(left, right), distance, SAME)


def _across_pairs(
    side: _Buckets, darks: _Buckets, part: PairPart, table: int
) -> Iterator[np.ndarray]:
    """Hash with look over black, in both directions, each bucket joined once."""
    dark_ids, dark_hashes = darks.ids[darks.owned], darks.hashes[darks.owned]
    dark_values = darks.chunks[darks.owned]
    # transparent images against images of their own bucket and one bit above it
    same_bucket = _Probes(
        dark_ids, dark_hashes, side.starts[dark_values], side.starts[dark_values + 1]
    )
    to_images = _joined(
        [same_bucket, *_one_bit_up(dark_ids, dark_hashes, dark_values, side.starts)]
    )
    # images against looks over black one bit above them
    owned = side.owned
    to_darks = _joined(
        _one_bit_up(side.ids[owned], side.hashes[owned], side.chunks[owned], darks.starts)
    )
    for probe, meets, dark_left in ((to_images, side, True), (to_darks, darks, False)):
        for left, right, distance in _within(probe, meets, part.max_distance, table):
            image, transparent = (right, left) if dark_left else (left, right)
            yield _across_rows(image, transparent, distance)


def _one_bit_up(
    left: np.ndarray, left_hashes: np.ndarray, values: np.ndarray, starts: np.ndarray
) -> list[_Probes]:
    probes = []
    for bit in _BITS:
        clear = (values & bit) == 0
        above = values[clear] | bit
        probes.append(_Probes(left[clear], left_hashes[clear], starts[above], starts[above + 1]))
    return probes


def _joined(probes: list[_Probes]) -> _Probes:
    """Several probes as one: fewer, larger numpy calls."""
    return _Probes(*(np.concatenate(field) for field in zip(*probes, strict=True)))


def _within(
    probe: _Probes, meets: _Buckets, max_distance: int, table: int
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(left, right, distance) of the probe's pairs within max_distance that meet in no
    table before `table`, measured BATCH candidates at a time (a probe's run is never
    cut: a run is one bucket)."""
    counts = np.maximum(probe.hi - probe.lo, 0)
    busy = np.flatnonzero(counts)
    if not len(busy):
        return
    counts, lo = counts[busy], probe.lo[busy]
    ends = np.cumsum(counts)
    cuts = np.searchsorted(ends, np.arange(BATCH, int(ends[-1]), BATCH), side="right")
    for first, last in zip([0, *cuts.tolist()], [*cuts.tolist(), len(busy)], strict=True):
        if first == last:
            continue
        run_counts = counts[first:last]
        before = ends[first] - counts[first]  # candidates in earlier batches
        starts_here = ends[first:last] - run_counts - before
        positions = np.arange(int(ends[last - 1] - before), dtype=np.int64)
        positions += np.repeat(lo[first:last] - starts_here, run_counts)
        lefts = np.repeat(probe.left_hashes[busy[first:last]], run_counts)
        apart = meets.hashes[positions] ^ lefts
        distance = bit_counts(apart)
        near = np.flatnonzero(distance <= max_distance)
        near = near[_first_met(apart[near], table)]  # a close pair meets in up to four
        which = np.searchsorted(ends[first:last] - before, near, side="right")
        yield (
            probe.left[busy[first:last][which]],
            meets.ids[positions[near]],
            distance[near].astype(np.int64),
        )


def _first_met(apart: np.ndarray, table: int) -> np.ndarray:
    """Whether `table` is the first whose chunks of a pair are within one bit (`apart`:
    their xor). Every pair measured in `table`'s join has its chunks there within one
    bit (same bucket, or one bit up), so only the tables before it are measured: none
    for the first table, where most close pairs meet."""
    first = np.ones(len(apart), dtype=bool)
    for earlier in range(table):
        chunk = (apart >> np.uint64(CHUNK_BITS * earlier)) & np.uint64(_VALUES - 1)
        first &= bit_counts(chunk) > 1
    return first


def _rows(k: np.ndarray, j: np.ndarray, distance: np.ndarray, kind: int) -> np.ndarray:
    return np.column_stack([k, j, distance, np.full(len(k), kind, dtype=np.int64)])


def _across_rows(image: np.ndarray, transparent: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Rows for (image's hash, transparent's look over black) pairs, the later as k."""
    later = image > transparent
    earlier = image < transparent  # an image never meets its own look over black
    return np.concatenate(
        [
            _rows(image[later], transparent[later], distance[later], THEIRS_OVER_BLACK),
            _rows(transparent[earlier], image[earlier], distance[earlier], MINE_OVER_BLACK),
        ]
    )
