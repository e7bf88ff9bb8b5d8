"""Near-duplicate groups over all feature shards at once, before any index shard is built.

A sharded index keeps every group on one shard (``sharded.routing.shard_of`` of
the group's key), so collapsing, ``pagesIncludingCount`` and
``availableSizesCount`` stay exact per shard. That needs each image's group
before its shard is chosen: this pass reads only what grouping needs (hash,
colour layout, look over black, visual embedding; thumbnails when a pair must be
checked by its pixels) and applies the ingest's own rule in the ingest's order:
each image joins the group of its nearest earlier duplicate by hash
(``dupes.DuplicateIndex.nearest``), else of a transparent original or copy across
black (``_across``), else of the first verified match among its nearest earlier
embeddings, else starts a group of its own.

It runs in two phases, and gives exactly the groups of the ingest's walk:

1. Candidate pairs (features/pairs.py): every pair of images whose hashes (or a
   hash and a look over black) are within the distance, found by multi-index
   hashing over pHash chunks as a join split by chunk key. Its parts are
   independent; `mapper` runs them, in this process by default, or in other
   processes or Ray tasks. It keeps each image's best `pairs.KEEP` candidates of each
   class, so that a crowded cluster does not fill memory with the square of its size.
2. Resolution, here, in order: each image tries its precomputed candidates as the
   ingest tries what its tables give it (colour layouts, then nearest first,
   checked by pixels), then the embedding step over the embeddings of the images
   before it. Only this phase reads thumbnails, and it must be sequential: an
   image joins the group its duplicate got. An image whose kept candidates were cut
   and are all refused goes on with its further candidates, measured directly
   (features/direct.py), as the ingest would have.

A group's key is the sha256 of its first image: the same on any machine that
reads the same shards, whatever numbers a store later gives its documents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from usearch.index import Index

from pixsearch.index.alignment import Alignment, ThumbCache, Verify
from pixsearch.index.darklook import DarkLook
from pixsearch.index.dupes import (
    CHUNKS,
    DUP_NEIGHBOURS,
    Layout,
    is_near_duplicate,
    layouts_close,
    over_black_match,
    parse_layout,
)
from pixsearch.index.features.direct import Direct
from pixsearch.index.features.pairs import (
    DISTANCE,
    KIND,
    SAME,
    THEIRS_OVER_BLACK,
    FoundPairs,
    J,
    K,
    find_pairs,
    merge_pairs,
    pair_parts,
)
from pixsearch.index.features.schema import Look
from pixsearch.index.vectors import new_index, quantize

THUMB_CACHE = 256  # decoded thumbnails kept: a group's members are checked against its first

# Runs a function over items like list(map(fn, items)); the function is module-level
# and the items picklable, so a mapper may run them in processes or as Ray tasks.
Mapper = Callable[[Callable[[Any], Any], list[Any]], list[Any]]


def assign_groups(
    looks: Iterable[Look],
    thumbnail: Callable[[str], bytes | None],
    *,
    max_distance: int = 6,
    mapper: Mapper | None = None,
    parts: int = 16,
) -> dict[str, str]:
    """sha256 → its group's key (the sha256 of the group's first image), in `looks`' order.

    An image seen again (same sha256) keeps its first group. The candidate pairs are
    found in `parts` parts, run by `mapper` (default: one after another, here).
    """
    if max_distance > 2 * CHUNKS - 1:
        raise ValueError(f"max_distance above {2 * CHUNKS - 1} is not guaranteed")
    images = _Images.read(looks)
    inputs = pair_parts(
        np.array(images.hashes, dtype=np.uint64),
        np.array([d.phash if d is not None else 0 for d in images.darks], dtype=np.uint64),
        np.array([d is not None for d in images.darks], dtype=bool),
        max_distance,
        parts,
    )
    found = merge_pairs((mapper or _in_process)(find_pairs, inputs))
    return _Resolver(images, thumbnail, max_distance).run(found)


def _in_process(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    return list(map(fn, items))


@dataclass
class _Images:
    """The distinct images in reading order (the ingest's doc order), as grouping needs them."""

    shas: list[str] = field(default_factory=list)
    hashes: list[int] = field(default_factory=list)
    layouts: list[Layout] = field(default_factory=list)
    darks: list[DarkLook | None] = field(default_factory=list)
    dark_layouts: list[Layout] = field(default_factory=list)
    own_thumbs: list[str | None] = field(default_factory=list)  # sha256 when it has one
    # int8 as the vector index holds them: a quarter of float32's memory, the same values
    vectors: list[np.ndarray | None] = field(default_factory=list)

    @classmethod
    def read(cls, looks: Iterable[Look]) -> _Images:
        images = cls()
        seen: set[str] = set()
        for look in looks:
            if look.sha256 in seen:
                continue
            seen.add(look.sha256)
            dark = DarkLook.parse(look.dark_look)
            images.shas.append(look.sha256)
            images.hashes.append(look.phash)
            images.layouts.append(parse_layout(look.color_layout))
            images.darks.append(dark)
            images.dark_layouts.append(parse_layout(dark.layout) if dark is not None else None)
            images.own_thumbs.append(look.sha256 if look.has_thumbnail else None)
            vector = look.embedding
            images.vectors.append(quantize(vector)[0] if vector is not None else None)
        return images


class _Embeddings:
    """The visual embeddings seen so far, searched for an image's nearest earlier ones.

    Keys are the ingest's doc ids (image number + 1), as the ingest's walk gave them.
    """

    def __init__(self) -> None:
        self._index: Index | None = None

    def nearest(self, quantized: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(image number, cosine) of the nearest `k`."""
        if self._index is None or len(self._index) == 0:
            return []
        if quantized.shape[0] != self._index.ndim:
            return []
        found = self._index.search(quantized, min(k, len(self._index)))
        return [
            (int(key) - 1, 1.0 - float(distance))
            for key, distance in zip(found.keys, found.distances, strict=True)
        ]

    def add(self, image: int, quantized: np.ndarray) -> None:
        if self._index is None:
            self._index = new_index(quantized.shape[0])
        if quantized.shape[0] == self._index.ndim:
            self._index.add(image + 1, quantized)


class _Resolver:
    """Phase 2: each image's group, in order, from its candidate pairs and embeddings."""

    def __init__(
        self, images: _Images, thumbnail: Callable[[str], bytes | None], max_distance: int
    ) -> None:
        self.images = images
        self.max_distance = max_distance
        self.thumbs = ThumbCache(thumbnail, THUMB_CACHE)
        self.embeddings = _Embeddings()
        self.groups: list[int] = []  # by image number: its group's first image
        self.direct: Direct | None = None  # made when an image's kept candidates run out
        self.js: list[int] = []  # the rows' columns, as `run` reads them
        self.distances: list[int] = []
        self.kinds: list[int] = []
        self.cut_same: set[int] = set()  # images whose rows the pair finder cut
        self.cut_across: set[int] = set()

    def run(self, found: FoundPairs) -> dict[str, str]:
        images = self.images
        count = len(images.shas)
        pairs = found.rows
        bounds = np.searchsorted(pairs[:, K], np.arange(count + 1)).tolist()
        self.js, self.distances, self.kinds = (pairs[:, c].tolist() for c in (J, DISTANCE, KIND))
        self.cut_same = set(found.cut_same.tolist())
        self.cut_across = set(found.cut_across.tolist())
        for k in range(count):
            start, end = bounds[k], bounds[k + 1]
            match = self._match(k, start, end) if start < end else None
            vector = images.vectors[k]
            if match is None and vector is not None:
                match = self._by_embedding(k, vector)
            self.groups.append(self.groups[match] if match is not None else k)
            if vector is not None:
                self.embeddings.add(k, vector)
        return {sha: images.shas[g] for sha, g in zip(images.shas, self.groups, strict=True)}

    def _verify(self, k: int, j: int) -> Verify:
        return lambda: _aligned(self.thumbs, self.images.own_thumbs[k], self.images.shas[j])

    def _direct(self) -> Direct:
        if self.direct is None:
            images = self.images
            self.direct = Direct(images.hashes, images.layouts, images.darks, images.dark_layouts)
        return self.direct

    def _match(self, k: int, start: int, end: int) -> int | None:
        """The earlier image k joins by hash, else across black (`DuplicateIndex.nearest`),
        of k's rows [start, end): the same kind first, then across, each as tried."""
        across: list[tuple[int, int, np.ndarray, bool]] = []  # distance, j, alpha, mine
        js, distances, kinds = self.js, self.distances, self.kinds
        tried = start
        for row in range(start, end):
            j, kind = js[row], kinds[row]
            if kind == SAME:
                tried = row + 1
                if self._same(k, j):
                    return j
            else:
                entry = self._across_entry(k, j, distances[row], kind)
                if entry is not None:
                    across.append(entry)
        if k in self.cut_same:  # every kept candidate refused: on with the ones cut
            layout = self.images.layouts[k]
            done = np.array(js[start:tried], dtype=np.int64)
            further: list[int] = self._direct().same(k, layout, self.max_distance, done).tolist()
            for j in further:
                if self._same(k, j):
                    return j
        # The kept rows across black are the best of all by (distance, j, kind), and
        # over_black_match checks the first DUP_NEIGHBOURS whose layouts agree: unless
        # the rows were cut and fewer agree, those are among the kept rows.
        if k in self.cut_across and len(across) < DUP_NEIGHBOURS:
            images = self.images
            every = self._direct().across(
                k, images.layouts[k], images.dark_layouts[k], self.max_distance
            )
            across = [
                e for d, j, kind in every if (e := self._across_entry(k, j, d, kind)) is not None
            ]
        found = over_black_match(across, lambda j: self._verify(k, j)) if across else None
        return found[1] if found is not None else None

    def _same(self, k: int, j: int) -> bool:
        """Whether k is a duplicate of j by hash (colour layouts, then pixels)."""
        images = self.images
        layout, other = images.layouts[k], images.layouts[j]
        return layouts_close(layout, other) and is_near_duplicate(
            images.hashes[k],
            layout,
            images.hashes[j],
            other,
            self.max_distance,
            pixels=self._verify(k, j),
        )

    def _across_entry(
        self, k: int, j: int, distance: int, kind: int
    ) -> tuple[int, int, np.ndarray, bool] | None:
        """A pair across black as `over_black_match` takes it, if its layouts agree."""
        images = self.images
        if kind == THEIRS_OVER_BLACK:
            dark = images.darks[j]
            if dark is not None and layouts_close(images.layouts[k], images.dark_layouts[j]):
                return distance, j, dark.alpha, False
            return None
        dark = images.darks[k]
        if dark is not None and layouts_close(images.dark_layouts[k], images.layouts[j]):
            return distance, j, dark.alpha, True
        return None

    def _by_embedding(self, k: int, vector: np.ndarray) -> int | None:
        """The first of k's nearest earlier embeddings whose pixels confirm it (`group_for`)."""
        images = self.images
        for j, similarity in self.embeddings.nearest(vector, DUP_NEIGHBOURS):
            if is_near_duplicate(
                images.hashes[k],
                images.layouts[k],
                images.hashes[j],
                images.layouts[j],
                self.max_distance,
                similarity=similarity,
                pixels=self._verify(k, j),
            ):
                return j
        return None


def _aligned(thumbs: ThumbCache, mine: str | None, other: str) -> Alignment | None:
    a = thumbs.get(mine) if mine is not None else None
    b = thumbs.get(other) if a is not None else None
    return Alignment(a, b) if a is not None and b is not None else None
