"""Near-duplicate lookup for readers: every live perceptual hash in one numpy array.

The writer's multi-index table (dupes.py) is built for inserts; a server
worker only needs "which indexed images look like this upload", so it keeps
8 bytes of hash and 8 of doc id per image (16 MB at a million) and compares
them all at once with a vectorised XOR and popcount, a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from pixsearch.index.dupes import MAX_LAYOUT_DISTANCE, parse_layout


class NearScan:
    def __init__(self, rows: Iterable[tuple[int, int, int, str]]) -> None:
        hashes: list[int] = []
        doc_ids: list[int] = []
        layouts: list[tuple[int, ...]] = []
        for phash, doc_id, _group, layout in rows:
            hashes.append(phash)
            doc_ids.append(doc_id)
            layouts.append(parse_layout(layout) or _UNKNOWN)
        self.hashes = np.array(hashes, dtype=np.uint64)
        self.doc_ids = np.array(doc_ids, dtype=np.int64)
        self.layouts = np.array(layouts, dtype=np.int32).reshape(-1, 4, 3)

    def __len__(self) -> int:
        return int(self.hashes.size)

    def nearest(
        self, phash: int, layout: str, *, max_distance: int, limit: int = 50
    ) -> list[tuple[int, int]]:
        """(distance, doc_id) of duplicates: hash within max_distance, colour layout agreeing."""
        if not self.hashes.size:
            return []
        distances = np.bitwise_count(self.hashes ^ np.uint64(phash))
        close = np.flatnonzero(distances <= max_distance)
        wanted = parse_layout(layout)
        if wanted is not None and close.size:
            stored = self.layouts[close]
            spread = ((stored - np.array(wanted).reshape(4, 3)) ** 2).sum(axis=2).max(axis=1)
            unknown = (stored < 0).any(axis=(1, 2))
            close = close[unknown | (spread <= MAX_LAYOUT_DISTANCE**2)]
        order = close[np.argsort(distances[close], kind="stable")][:limit]
        return [(int(distances[i]), int(self.doc_ids[i])) for i in order]


_UNKNOWN = (-1,) * 12  # rows indexed before colour layouts existed: never excluded
