"""One corpus as one store and as N shards, for the sharded store's tests and benches.

Shards are made as a sharded index is: every document goes to the shard of its
near-duplicate group in the whole corpus (``routing.shard_of``), in corpus order.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from pixsearch.index.memory import MemoryStore
from pixsearch.index.sharded.routing import shard_of
from pixsearch.records import ImageDocument
from tests.index.helpers import make_doc

WORDS = (  # noqa: SIM905 - a word list reads better as one string
    "red blue green kite car barn sunset sea hill cat dog bird city night beach "
    "mountain river tree flower house boat train bridge snow rain sky cloud star moon"
).split()
LICENSES = (None, None, None, "cc0", "cc-by", "cc-by-nc")


def corpus(count: int = 240, *, seed: int = 3) -> list[ImageDocument]:
    """`count` pictures with 2-6 words from a small vocabulary (many ties and shared words),
    assorted sizes, licences and hosts; every tenth one is a resized copy of the one before."""
    rng = np.random.default_rng(seed)
    docs: list[ImageDocument] = []
    for n in range(count):
        words = " ".join(rng.choice(WORDS, size=int(rng.integers(2, 7))))
        host = f"site{int(rng.integers(12))}.example"
        doc = make_doc(
            n,
            words,
            width=int(rng.choice([120, 400, 800, 1600])),
            height=int(rng.choice([90, 300, 600, 1200])),
            license=LICENSES[int(rng.integers(len(LICENSES)))],
            page=f"https://{host}/page-{n // 3}.html",
        )
        if n % 10 == 9:  # a copy of the previous picture: same look, one group
            doc = replace(doc, facts=replace(doc.facts, phash=docs[-1].facts.phash))
        docs.append(doc)
    return docs


def vectors(count: int, dim: int = 16, *, seed: int = 5) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(count, dim)).astype(np.float32)
    unit: np.ndarray = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return unit


def memory_split(
    docs: Sequence[ImageDocument], n: int, *, with_vectors: bool = True
) -> tuple[MemoryStore, list[MemoryStore]]:
    """(one store of `docs`, `n` shards of them), vectors for visual, text and CLIP spaces."""
    rows = vectors(len(docs))
    single = MemoryStore()
    groups = []
    for doc, row in zip(docs, rows, strict=True):
        added = copy.deepcopy(doc)
        extra = {"vector": row, "text_vector": row, "clip_vector": row} if with_vectors else {}
        single.add(added, b"thumb-" + _digest(doc), **extra)
        groups.append(added.group_id)
    shards = [MemoryStore() for _ in range(n)]
    for doc, row, group in zip(docs, rows, groups, strict=True):
        extra = {"vector": row, "text_vector": row, "clip_vector": row} if with_vectors else {}
        shards[shard_of(group, n)].add(copy.deepcopy(doc), b"thumb-" + _digest(doc), **extra)
    return single, shards


def _digest(doc: ImageDocument) -> bytes:
    return hashlib.sha256(doc.facts.sha256.encode()).digest()[:8]
