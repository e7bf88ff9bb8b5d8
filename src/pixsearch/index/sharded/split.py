"""Copy an index into N shards: each document to the shard of its near-duplicate group.

What tests and benchmarks use to get the same corpus as one index and as N
shards, and a way to reshard an existing index. Documents are read through
the ``ReadStore`` seam (with their thumbnails and visual embeddings) and
written through ``WriteStore``, in the source's doc_id order, so each shard
numbers its documents in the source's order and a group's members meet again
in the same order. (Building shards from feature files, ``pixsearch index
build --shards N``, routes by the same ``routing.shard_of``.)
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from pixsearch.index.sharded.routing import shard_of
from pixsearch.index.store import ReadStore, WriteStore

BATCH = 500  # documents read per get()


def split_store(
    source: ReadStore, targets: Sequence[WriteStore], *, commit_every: int = 5000
) -> list[int]:
    """Copy every visible document of `source` to `targets`; how many each shard got.

    A document's shard is ``shard_of(its group_id, len(targets))``: the source's
    group is the global group, so a group never spans shards. Targets are
    committed every `commit_every` documents and at the end; derived vectors
    (text, CLIP) are not copied: their writers rebuild them per shard.
    """
    n = len(targets)
    counts = [0] * n
    ids = source.changed_since(0)
    for start in range(0, len(ids), BATCH):
        for doc in source.get(ids[start : start + BATCH]):
            shard = shard_of(doc.group_id, n)
            thumbnail = source.thumbnail(doc.facts.sha256)
            embedding = source.vector(doc.doc_id)
            moved = copy.copy(doc)
            moved.doc_id, moved.group_id = 0, 0  # the shard numbers it anew
            doc_id = targets[shard].add(moved, thumbnail, embedding)
            if embedding is not None:
                targets[shard].add_vector(doc_id, embedding)
            counts[shard] += 1
            if counts[shard] % commit_every == 0:
                targets[shard].commit()
    for target in targets:
        target.commit()
    return counts
