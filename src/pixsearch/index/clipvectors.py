"""The CLIP vectors' writer: each new picture's CLIP image vector, saved after every commit.

At ingest the "clip" analyzer (models/clip_analyzer.py) gives every new picture
a CLIP image vector; ``ClipVectorSync`` keeps them in ``clipvectors/`` (the
generation-named files of index/derived.py), saved right after each index commit
under that commit's generation. A query's CLIP text vector then searches them
(``ReadStore.neighbours("clip", ...)``), so "tomato" reaches a picture of one even
if no text says so.

Limit: vectors are held in memory until the commit. A crash between the index
commit and the vector save loses that batch's vectors (at most ``commit_every``
images), and re-ingesting the same files does not restore them: they are
"unchanged" to the indexer. Ingest them into a fresh index to get them back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pixsearch.index.derived import DerivedVectors, folder_of
from pixsearch.index.store import ReadStore


class ClipVectorSync:
    """``add`` for each new image (the Indexer calls it), then calling the object saves
    them under the store's generation, which the commit has just made visible: a file
    never names a generation that did not land."""

    def __init__(self, store: ReadStore, index_dir: Path) -> None:
        self.store = store
        self.vectors = DerivedVectors(folder_of(index_dir, "clip"), writable=True)

    def add(self, doc_id: int, vector: np.ndarray) -> None:
        self.vectors.add([doc_id], np.asarray(vector, dtype=np.float32)[None, :])

    def __call__(self) -> None:
        self.vectors.save(self.store.generation)  # no-op when nothing was added
