"""Near-duplicate groups as the grouping pass gave them before it had two phases: one
sequential walk through ``DuplicateIndex.group_for``, the ingest's online rule itself.

The reference that ``features/groups.py`` must match group for group
(tests/index/features/test_groups.py, bench/group_bench.py). Kept as it was, bar names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
from usearch.index import Index

from pixsearch.index.alignment import Alignment, ThumbCache, Verify
from pixsearch.index.darklook import DarkLook
from pixsearch.index.dupes import DUP_NEIGHBOURS, DuplicateIndex, parse_layout
from pixsearch.index.features.schema import Look
from pixsearch.index.vectors import new_index, quantize

THUMB_CACHE = 256  # decoded thumbnails kept: a group's members are checked against its first


class _Embeddings:
    """The visual embeddings seen so far, searched for an image's nearest earlier ones."""

    def __init__(self) -> None:
        self._index: Index | None = None

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self._index is None or len(self._index) == 0:
            return []
        query = quantize(vector)[0]
        if query.shape[0] != self._index.ndim:
            return []
        found = self._index.search(query, min(k, len(self._index)))
        return [
            (int(key), 1.0 - float(distance))
            for key, distance in zip(found.keys, found.distances, strict=True)
        ]

    def add(self, key: int, vector: np.ndarray) -> None:
        quantized = quantize(vector)[0]
        if self._index is None:
            self._index = new_index(quantized.shape[0])
        if quantized.shape[0] == self._index.ndim:
            self._index.add(key, quantized)


def sequential_groups(
    looks: Iterable[Look],
    thumbnail: Callable[[str], bytes | None],
    *,
    max_distance: int = 6,
) -> dict[str, str]:
    """sha256 → its group's key (the sha256 of the group's first image), in `looks`' order.

    An image seen again (same sha256) keeps its first group.
    """
    dupes = DuplicateIndex(max_distance)
    embeddings = _Embeddings()
    thumbs = ThumbCache(thumbnail, THUMB_CACHE)
    shas: list[str] = [""]  # key → sha256; keys start at 1 as doc_ids do
    groups: dict[str, str] = {}
    for look in looks:
        if look.sha256 in groups:
            continue
        key = len(shas)
        shas.append(look.sha256)
        layout = parse_layout(look.color_layout)
        dark = DarkLook.parse(look.dark_look)
        mine = look.sha256 if look.has_thumbnail else None
        vector = look.embedding

        def verify(other: int, mine: str | None = mine) -> Verify:
            return lambda: _aligned(thumbs, mine, shas[other])

        def neighbours(vector: np.ndarray | None = vector) -> list[tuple[int, float]]:
            return embeddings.nearest(vector, DUP_NEIGHBOURS) if vector is not None else []

        group = dupes.group_for(
            look.phash,
            layout,
            verify=verify,
            neighbours=neighbours if vector is not None else None,
            dark=dark,
        )
        group = group or key
        dupes.add(look.phash, key, group, layout, dark)
        if vector is not None:
            embeddings.add(key, vector)
        groups[look.sha256] = shas[group]
    return groups


def _aligned(thumbs: ThumbCache, mine: str | None, other: str) -> Alignment | None:
    a = thumbs.get(mine) if mine is not None else None
    b = thumbs.get(other) if a is not None else None
    return Alignment(a, b) if a is not None and b is not None else None
