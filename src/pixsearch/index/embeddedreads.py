"""Serving from an embedded index: the ReadStore methods of the embedded store.

Every read sees the last generation that landed (``_visible``; ``refresh`` moves
it on): text search in Tantivy, documents and counts in SQLite as of that
generation, thumbnails, visual vectors of that generation's file, and the
derived text and CLIP vectors as their files appear.

``EmbeddedReads`` is the reading half of ``EmbeddedStore`` (index/embedded.py),
its base class: EmbeddedStore opens the parts declared here, and adds writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tantivy

from pixsearch.index import lookalike
from pixsearch.index.attributes import ADULT_MARKS
from pixsearch.index.derived import DerivedVectors, folder_of
from pixsearch.index.metadb import MetaDB
from pixsearch.index.nearscan import NearScan
from pixsearch.index.schema import BODY_FIELD
from pixsearch.index.store import (
    Filters,
    PagePlaces,
    Picture,
    StoreHit,
    StoreQuery,
    StoreResult,
    VectorSpace,
    analyzed_keys,
)
from pixsearch.index.textindex import TextIndex
from pixsearch.index.thumbs import ThumbnailStore
from pixsearch.index.vectors import VectorIndex, nearest
from pixsearch.records import ImageDocument


class EmbeddedReads:
    """The ReadStore of an embedded index (EmbeddedStore's base class)."""

    root: Path
    text: TextIndex
    meta: MetaDB
    thumbs: ThumbnailStore
    vectors: VectorIndex
    writable: bool
    _vectors_loaded: bool
    _near: NearScan | None
    _derived: dict[VectorSpace, DerivedVectors]
    _visible: int  # the generation readers see

    def search(self, query: StoreQuery) -> StoreResult:
        return self.text.search(query)

    def get(self, doc_ids: Sequence[int]) -> list[ImageDocument]:
        return self.meta.fetch(doc_ids, max_gen=self._visible)

    def pages_of(self, doc_ids: Sequence[int]) -> list[PagePlaces]:
        return self.meta.pages_of(doc_ids, max_gen=self._visible)

    def get_by_image_id(self, image_id: str) -> ImageDocument | None:
        doc_id = self.meta.doc_id_for("image_id", image_id.upper(), max_gen=self._visible)
        docs = self.get([doc_id]) if doc_id is not None else []
        return docs[0] if docs else None

    def group_counts(self, group_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        return self.meta.group_counts(group_ids, max_gen=self._visible)

    def group_members(self, group_id: int, *, limit: int = 50) -> list[int]:
        return self.meta.group_members(group_id, max_gen=self._visible, limit=limit)

    def page_image_counts(self, urls: Sequence[str]) -> dict[str, int]:
        return self.meta.page_image_counts(urls, max_gen=self._visible)

    def thumbnail(self, sha256: str) -> bytes | None:
        return self.thumbs.get(sha256)

    def similar(
        self,
        vector: np.ndarray,
        *,
        k: int,
        filters: Filters | None = None,
        exclude_group: int | None = None,
    ) -> list[StoreHit]:
        """Visually nearest images passing `filters`, one per near-duplicate group."""
        self._load_vectors()
        return nearest(
            self.vectors,
            self.text,
            vector,
            k=k,
            filters=filters or Filters(),
            exclude_group=exclude_group,
        )

    def vector(self, doc_id: int) -> np.ndarray | None:
        self._load_vectors()
        return self.vectors.vectors([doc_id]).get(doc_id)

    def _load_vectors(self) -> None:
        # A reader follows the visible generation; the writer loads once and then
        # owns the in-memory copy (its own adds are newer than any file).
        if not self.writable or not self._vectors_loaded:
            self.vectors.load(self._visible)
            self._vectors_loaded = True

    def refresh(self) -> bool:
        changed = self.text.refresh()
        if changed:
            self._visible = self._visible_gen()
            self._near = None
        return changed

    def near_duplicates(
        self, phash: int, color_layout: str, *, max_distance: int
    ) -> list[tuple[int, int]]:
        """(distance, doc_id) of visible images with this look: hash and colour layout."""
        if self._near is None:
            self._near = NearScan(self.meta.hashes(max_gen=self._visible))
        return self._near.nearest(phash, color_layout, max_distance=max_distance)

    def duplicate_of(self, picture: Picture, *, max_distance: int) -> int | None:
        return lookalike.duplicate_of(self, picture, max_distance=max_distance)

    def neighbours(
        self, space: VectorSpace, vector: np.ndarray, *, k: int
    ) -> list[tuple[int, float]]:
        return self._derived_vectors(space).search(vector, k)

    def vector_count(self, space: VectorSpace) -> int:
        return len(self._derived_vectors(space))

    def _derived_vectors(self, space: VectorSpace) -> DerivedVectors:
        # Opened on first use and then polled: their files land after the commits
        # they belong to, so refresh() cannot tell when one appears.
        if space not in self._derived:
            self._derived[space] = DerivedVectors(folder_of(self.root, space))
        return self._derived[space].refreshed()

    def stats(self) -> dict[str, int]:
        return {
            "images": self.meta.count_images(max_gen=self._visible),
            "occurrences": self.meta.count_occurrences(max_gen=self._visible),
            "documents": max(self.text.num_docs() - 1, 0),  # minus the commit marker
            "generation": self._visible,
            **analyzed_keys(self.meta.count_analyzed(max_gen=self._visible)),
        }

    def changed_since(self, gen: int) -> list[int]:
        """Visible images added, or given occurrences, after generation `gen` (for catch-ups)."""
        return self.meta.changed_since(gen, max_gen=self._visible)

    @property
    def generation(self) -> int:
        """The committed generation readers see (cheap: what refresh() last found)."""
        return self._visible

    def terms(self, *, adult: bool = False) -> list[tuple[str, int]]:
        """(word, documents) of the whole text, or of adult images and pages only.

        One walk of the term dictionary (about 0.4 s at 1M documents): what the
        vocabulary behind spelling and suggestions is made of.
        """
        searcher = self.text.index.searcher()
        only = None
        if adult:
            only = tantivy.Query.term_set_query(self.text.schema, "adult", list(ADULT_MARKS))
        return searcher.terms_with_prefix(BODY_FIELD, "", filter_query=only)

    def _visible_gen(self) -> int:
        committed = self.meta.committed_gen()
        return committed + 1 if self.text.has_generation(committed + 1) else committed
