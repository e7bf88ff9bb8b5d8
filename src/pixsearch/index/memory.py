"""An in-memory ``ReadStore``: the seam's second implementation, for tests.

Pure Python and NumPy, no files: documents live in dicts, loaded with ``add``.
It mirrors the embedded store where the seam promises something (filters,
paging totals, groups, near-duplicates, vectors, term statistics, the change
feed) and stays simple where ranking is the backend's own business: a clause
matches when its words appear in a row in one of the indexed texts (no
stemming, no dropping of very common words), and the score is a term count
weighted like the fields, plus site boosts. Every ``add`` is a commit of its own.

It cannot be opened from an index directory, so it is not a storage backend
(index/backends.py): tests build one and hand it to the search side.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pixsearch.index import lookalike
from pixsearch.index.alignment import aligner, decode_thumb
from pixsearch.index.darklook import DarkLook
from pixsearch.index.dupes import DUP_NEIGHBOURS, DuplicateIndex, parse_layout
from pixsearch.index.memory_match import Entry, matches, passes, score
from pixsearch.index.nearscan import NearScan
from pixsearch.index.store import (
    Filters,
    Picture,
    ReadStore,
    StoreHit,
    StoreQuery,
    StoreResult,
    VectorSpace,
    analyzed_keys,
)
from pixsearch.index.words import tokens
from pixsearch.records import BODY_FIELDS, ImageDocument


@dataclass(slots=True)
class _Vectors:
    """Unit vectors by doc_id, scored exactly."""

    rows: dict[int, np.ndarray]

    def add(self, doc_id: int, vector: np.ndarray) -> None:
        row = np.asarray(vector, dtype=np.float32).reshape(-1)
        self.rows[doc_id] = row / max(float(np.linalg.norm(row)), 1e-12)

    def scored(
        self, vector: np.ndarray, among: Sequence[int] | None = None
    ) -> list[tuple[int, float]]:
        """(doc_id, cosine) of the stored vectors (of `among` only, if given), best first."""
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        query = query / max(float(np.linalg.norm(query)), 1e-12)
        ids = self.rows.keys() if among is None else [d for d in among if d in self.rows]
        found = [(d, float(self.rows[d] @ query)) for d in ids if self.rows[d].shape == query.shape]
        return sorted(found, key=lambda pair: (-pair[1], pair[0]))


class MemoryStore:
    """A ReadStore over documents held in memory; ``add`` loads them (tests only)."""

    def __init__(self, *, dup_distance: int = 6) -> None:
        self._entries: dict[int, Entry] = {}
        self._by_image_id: dict[str, int] = {}
        self._thumbnails: dict[str, bytes] = {}
        self._visual = _Vectors({})
        self._derived: dict[VectorSpace, _Vectors] = {"text": _Vectors({}), "clip": _Vectors({})}
        self._dupes = DuplicateIndex(dup_distance)
        self._near: NearScan | None = None
        self._generation = 0

    def add(
        self,
        doc: ImageDocument,
        thumbnail: bytes | None = None,
        vector: np.ndarray | None = None,
        text_vector: np.ndarray | None = None,
        clip_vector: np.ndarray | None = None,
    ) -> int:
        """Add an image, visible at once; its doc_id. Its group is joined as the ingest does."""
        doc_id = max(self._entries, default=0) + 1
        if thumbnail is not None:
            self._thumbnails[doc.facts.sha256] = thumbnail
        layout = parse_layout(doc.facts.color_layout)
        dark = DarkLook.parse(doc.facts.dark_look)
        group = self._dupes.group_for(
            doc.facts.phash,
            layout,
            verify=aligner(thumbnail, lambda doc_id: decode_thumb(self._thumbnail_of(doc_id))),
            neighbours=None
            if vector is None
            else lambda: self._visual.scored(vector)[:DUP_NEIGHBOURS],
            dark=dark,
        )
        doc.doc_id, doc.group_id = doc_id, group or doc_id
        self._dupes.add(doc.facts.phash, doc_id, doc.group_id, layout, dark)
        self._generation += 1
        self._entries[doc_id] = Entry.of(copy.deepcopy(doc), self._generation)
        self._by_image_id[doc.image_id.upper()] = doc_id
        if text_vector is not None:
            self._derived["text"].add(doc_id, text_vector)
        if clip_vector is not None:
            self._derived["clip"].add(doc_id, clip_vector)
        if vector is not None:
            self._visual.add(doc_id, vector)
        self._near = None
        return doc_id

    def _thumbnail_of(self, doc_id: int) -> bytes | None:
        entry = self._entries.get(doc_id)
        return self._thumbnails.get(entry.doc.facts.sha256) if entry else None

    # -- ReadStore -------------------------------------------------------------

    def search(self, query: StoreQuery) -> StoreResult:
        only = set(query.doc_ids)
        found = [
            (score(entry, query), doc_id)
            for doc_id, entry in self._entries.items()
            if (not only or doc_id in only)
            and matches(entry, query.text)
            and passes(entry, query.filters)
        ]
        found.sort(key=lambda pair: (-pair[0], pair[1]))
        page = found[query.offset : query.offset + query.limit]
        hits = [self._hit(doc_id, points) for points, doc_id in page]
        return StoreResult(hits=hits, total=len(found) if query.count else len(hits))

    def _hit(self, doc_id: int, points: float) -> StoreHit:
        entry = self._entries[doc_id]
        return StoreHit(
            doc_id,
            entry.doc.group_id,
            points,
            site=entry.site,
            published=entry.published,
            prior=entry.prior,
        )

    def get(self, doc_ids: Sequence[int]) -> list[ImageDocument]:
        return [copy.deepcopy(self._entries[d].doc) for d in doc_ids if d in self._entries]

    def get_by_image_id(self, image_id: str) -> ImageDocument | None:
        doc_id = self._by_image_id.get(image_id.upper())
        return self.get([doc_id])[0] if doc_id is not None else None

    def group_counts(self, group_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        out: dict[int, tuple[int, int]] = {}
        for group_id in set(group_ids):
            docs = [e.doc for e in self._entries.values() if e.doc.group_id == group_id]
            pages = {o.host_page_url or f"local:{d.doc_id}" for d in docs for o in d.occurrences}
            sizes = {(d.facts.width, d.facts.height) for d in docs if d.occurrences}
            if pages:
                out[group_id] = (len(sizes), len(pages))
        return out

    def group_members(self, group_id: int, *, limit: int = 50) -> list[int]:
        members = [e.doc for e in self._entries.values() if e.doc.group_id == group_id]
        members.sort(key=lambda d: (-d.facts.width * d.facts.height, d.doc_id))
        return [d.doc_id for d in members[:limit]]

    def page_image_counts(self, urls: Sequence[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for url in set(urls):
            n = sum(
                any(o.host_page_url == url for o in e.doc.occurrences)
                for e in self._entries.values()
            )
            if n:
                counts[url] = n
        return counts

    def near_duplicates(
        self, phash: int, color_layout: str, *, max_distance: int
    ) -> list[tuple[int, int]]:
        if self._near is None:
            rows = [
                (e.doc.facts.phash, d, e.doc.group_id, e.doc.facts.color_layout)
                for d, e in self._entries.items()
            ]
            self._near = NearScan(rows)
        return self._near.nearest(phash, color_layout, max_distance=max_distance)

    def duplicate_of(self, picture: Picture, *, max_distance: int) -> int | None:
        return lookalike.duplicate_of(self, picture, max_distance=max_distance)

    def thumbnail(self, sha256: str) -> bytes | None:
        return self._thumbnails.get(sha256)

    def similar(
        self,
        vector: np.ndarray,
        *,
        k: int,
        filters: Filters | None = None,
        exclude_group: int | None = None,
    ) -> list[StoreHit]:
        wanted = filters or Filters()
        passing = [d for d, e in self._entries.items() if passes(e, wanted)]
        hits: list[StoreHit] = []
        seen: set[int] = set() if exclude_group is None else {exclude_group}
        for doc_id, cosine in self._visual.scored(vector, passing):
            group = self._entries[doc_id].doc.group_id
            if group not in seen and len(hits) < k:
                seen.add(group)
                hits.append(StoreHit(doc_id=doc_id, group_id=group, score=cosine))
        return hits

    def vector(self, doc_id: int) -> np.ndarray | None:
        return self._visual.rows.get(doc_id)

    def neighbours(
        self, space: VectorSpace, vector: np.ndarray, *, k: int
    ) -> list[tuple[int, float]]:
        return self._derived[space].scored(vector)[:k]

    def vector_count(self, space: VectorSpace) -> int:
        return len(self._derived[space].rows)

    @property
    def generation(self) -> int:
        return self._generation

    def terms(self, *, adult: bool = False) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for entry in self._entries.values():
            if adult and not {"image", "text"} & entry.keywords["adult"]:
                continue
            words = {
                t
                for o in entry.doc.occurrences
                for name, text in o.text.items()
                if BODY_FIELDS.get(name, 0) > 0
                for t in tokens(text)
            }
            for word in words:
                counts[word] = counts.get(word, 0) + 1
        return sorted(counts.items())

    def changed_since(self, gen: int) -> list[int]:
        return sorted(d for d, e in self._entries.items() if e.gen > gen)

    def refresh(self) -> bool:
        return False  # every add is visible at once

    def stats(self) -> dict[str, int]:
        analyzed = Counter(n for e in self._entries.values() for n in e.doc.facts.analyzed)
        return {
            "images": len(self._entries),
            "occurrences": sum(len(e.doc.occurrences) for e in self._entries.values()),
            "documents": len(self._entries),
            "generation": self._generation,
            **analyzed_keys(analyzed),
        }


_: type[ReadStore] = MemoryStore  # mypy checks the memory store against the seam
