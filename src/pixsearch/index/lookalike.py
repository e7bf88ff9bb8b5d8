"""Which indexed image an outside picture (an upload) duplicates: the ingest's rule, for reads.

Any ``ReadStore`` answers ``duplicate_of`` with this function: it needs only
the store's hash lookup, similar-image search, group members and thumbnails.
Hash matches come first, checked against the pixels when the picture's
thumbnail is given; then, with its visual embedding, the crops the hash misses
(index/dupes.py says why both), and copies of a transparent picture flattened
over black (index/darklook.py).
"""

from __future__ import annotations

import numpy as np

from pixsearch.index.alignment import Thumb, Verify, aligner, decode_thumb
from pixsearch.index.darklook import DarkLook
from pixsearch.index.dupes import (
    COPY_MAX_MISMATCH,
    COPY_MIN_SIMILARITY,
    DUP_NEIGHBOURS,
    is_near_duplicate,
    parse_layout,
)
from pixsearch.index.store import Picture, ReadStore
from pixsearch.records import ImageFacts

GROUP_TRIES = 4  # members of a visually close group compared with the picture


def duplicate_of(store: ReadStore, picture: Picture, *, max_distance: int) -> int | None:
    """The doc_id `picture` is a near-duplicate of; without a thumbnail, the closest hash."""
    near = store.near_duplicates(picture.phash, picture.color_layout, max_distance=max_distance)
    doc_id = near[0][1] if near else None
    if picture.thumbnail:  # hash matches verified by pixels, then crops
        hashed: list[tuple[int, float | None]] = [(d, None) for _, d in near[:GROUP_TRIES]]
        doc_id = _verified(store, picture, hashed, max_distance)
        if doc_id is None and picture.embedding is not None:
            crops = _visual_candidates(store, picture.embedding)
            doc_id = _verified(store, picture, crops, max_distance)
    return doc_id


def _visual_candidates(store: ReadStore, embedding: np.ndarray) -> list[tuple[int, float | None]]:
    """(doc_id, cosine) of images this picture may be a crop of (or a crop of it).

    Similar-image hits are one per group, so each close group's other members are
    tried too (a crop of the original may not contain the group's other crop).
    """
    candidates: list[tuple[int, float | None]] = []
    for hit in store.similar(embedding, k=DUP_NEIGHBOURS):
        if hit.score >= COPY_MIN_SIMILARITY:  # is_near_duplicate decides on the rest
            members = store.group_members(hit.group_id, limit=GROUP_TRIES)
            ids = [hit.doc_id, *(m for m in members if m != hit.doc_id)]
            candidates += [(doc_id, hit.score) for doc_id in ids[:GROUP_TRIES]]
    return candidates


def _verified(
    store: ReadStore,
    picture: Picture,
    candidates: list[tuple[int, float | None]],
    max_distance: int,
) -> int | None:
    """The first candidate (doc_id, cosine or None) that is_near_duplicate accepts."""
    docs = {d.doc_id: d for d in store.get([doc_id for doc_id, _ in candidates])}

    def thumb_of(doc_id: int) -> Thumb | None:
        return decode_thumb(store.thumbnail(docs[doc_id].facts.sha256))

    verify = aligner(picture.thumbnail, thumb_of)
    layout = parse_layout(picture.color_layout)
    for doc_id, similarity in candidates:
        doc = docs.get(doc_id)
        if doc is None:
            continue
        if is_near_duplicate(
            picture.phash,
            layout,
            doc.facts.phash,
            parse_layout(doc.facts.color_layout),
            max_distance,
            similarity=similarity,
            pixels=verify(doc_id),
        ) or (similarity is not None and _over_black(doc.facts, verify(doc_id))):
            return doc_id
    return None


def _over_black(facts: ImageFacts, pixels: Verify) -> bool:
    """The picture is a copy of this transparent image flattened over black (visual
    candidates only: an upload's hash is not probed against looks over black)."""
    dark = DarkLook.parse(facts.dark_look)
    seen = pixels() if dark is not None else None
    if dark is None or seen is None:
        return False
    return seen.over_black_mismatch(dark.alpha, transparent=seen.b) <= COPY_MAX_MISMATCH
