"""An image's earlier candidates measured directly, past the ones the pair finder kept.

The pair finder (features/pairs.py) keeps only each image's best `KEEP` pairs of each
class, so that a crowded cluster's pairs (by the square of its size) never sit in
memory. The resolution needs more only for an image whose kept candidates are all
refused, and then measures them here: every earlier image at once in numpy, in the
order the ingest tries them. What ``DuplicateIndex.nearest`` finds through its chunk
tables is exactly every stored hash within max_distance (at most 7: two hashes within
7 bits have some 16-bit chunk within one bit, and each table is probed with the chunk
and its 16 one-bit flips; the probe's hits are then filtered by distance), so a direct
measure over all earlier hashes finds the same candidates.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pixsearch.index.darklook import DarkLook
from pixsearch.index.dupes import DUP_NEIGHBOURS, MAX_LAYOUT_DISTANCE, Layout, bit_counts
from pixsearch.index.features.pairs import MINE_OVER_BLACK, THEIRS_OVER_BLACK

_UNKNOWN = bytes(12)  # a missing layout's place in the array (`known` says it is missing)


class Direct:
    """Every image's hash, look over black and colour layouts as arrays (made once, the
    first time an image needs them)."""

    def __init__(
        self,
        hashes: Sequence[int],
        layouts: Sequence[Layout],
        darks: Sequence[DarkLook | None],
        dark_layouts: Sequence[Layout],
    ) -> None:
        self.hashes = np.array(hashes, dtype=np.uint64)
        self.layouts, self.known = _layout_array(layouts)
        self.has_dark = np.array([d is not None for d in darks], dtype=bool)
        self.dark = np.array([d.phash if d is not None else 0 for d in darks], dtype=np.uint64)
        self.dark_layouts, self.dark_known = _layout_array(dark_layouts)

    def same(self, k: int, layout: Layout, max_distance: int, tried: np.ndarray) -> np.ndarray:
        """The earlier images whose hash is within max_distance of k's and whose colour
        layout agrees with `layout` (k's), by (distance, j) as ``DuplicateIndex.nearest``
        tries them, less those in `tried`."""
        distance = bit_counts(self.hashes[:k] ^ self.hashes[k])
        near = np.flatnonzero(distance <= max_distance)
        near = near[~np.isin(near, tried)]
        near = near[_close(layout, self.layouts[near], self.known[near])]
        order = np.argsort(distance[near], kind="stable")  # near is by j: stable keeps it
        found: np.ndarray = near[order]
        return found

    def across(
        self, k: int, layout: Layout, dark_layout: Layout, max_distance: int
    ) -> list[tuple[int, int, int]]:
        """(distance, j, kind) of the closest DUP_NEIGHBOURS pairs across black of k and an
        earlier image whose layouts agree, by (distance, j, kind): the ones
        ``dupes.over_black_match`` checks (stored looks over black before k's own)."""
        earlier = np.flatnonzero(self.has_dark[:k])  # k's hash, their looks over black
        distance = bit_counts(self.dark[earlier] ^ self.hashes[k])
        close = distance <= max_distance
        earlier, distance = earlier[close], distance[close]
        theirs = _close(layout, self.dark_layouts[earlier], self.dark_known[earlier])
        found = [(earlier[theirs], distance[theirs], THEIRS_OVER_BLACK)]
        if self.has_dark[k]:  # k's look over black, their hashes
            distance = bit_counts(self.hashes[:k] ^ self.dark[k])
            near = np.flatnonzero(distance <= max_distance)
            mine = _close(dark_layout, self.layouts[near], self.known[near])
            found.append((near[mine], distance[near][mine], MINE_OVER_BLACK))
        js = np.concatenate([j for j, _, _ in found]).astype(np.int64)
        distances = np.concatenate([d for _, d, _ in found]).astype(np.int64)
        kinds = np.concatenate([np.full(len(j), kind) for j, _, kind in found])
        best = np.lexsort((kinds, js, distances))[:DUP_NEIGHBOURS]
        return list(
            zip(distances[best].tolist(), js[best].tolist(), kinds[best].tolist(), strict=True)
        )


def _layout_array(layouts: Sequence[Layout]) -> tuple[np.ndarray, np.ndarray]:
    """(n, 12) uint8 channel means (zeros where unknown), and whether each is known;
    joined as bytes, a third of the time numpy takes to read tuples."""
    known = np.array([layout is not None for layout in layouts], dtype=bool)
    joined = b"".join([bytes(layout) if layout is not None else _UNKNOWN for layout in layouts])
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(layouts), 12), known


def _close(layout: Layout, layouts: np.ndarray, known: np.ndarray) -> np.ndarray:
    """``dupes.layouts_close`` of `layout` with each of `layouts`, at once."""
    if layout is None:
        return np.ones(len(layouts), dtype=bool)
    apart = layouts.astype(np.int32) - np.array(layout, dtype=np.int32)
    far = (apart * apart).reshape(-1, 4, 3).sum(axis=2) > MAX_LAYOUT_DISTANCE**2
    result: np.ndarray = ~known | ~far.any(axis=1)
    return result
