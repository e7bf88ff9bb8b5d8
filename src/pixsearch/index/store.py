"""The storage interface the search and API layers depend on.

Only this module's names cross the boundary: the query records, the result
records, the ``ReadStore`` (serving) and ``WriteStore`` (ingestion) protocols,
the ``Vocabulary`` built from a store's term statistics, and the few index-time
rules the query side must apply exactly as the index did (word folding, content
and adult words, the static prior), which are defined where indexing uses them
and passed on here. The embedded backend (Tantivy, SQLite, files in one
directory) implements the protocols, and so does the in-memory store of the
tests (index/memory.py); a distributed engine can implement them too without
the search and API layers noticing.

The query and result records (index/queries.py) and the ``Vocabulary``
(index/vocabrecord.py) are defined in modules of their own and re-exported here
on purpose: this stays the one module of index/ that search/ imports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from pixsearch.index.attributes import (
    LICENSE_PERMISSIONS,
    NUDENET,
    host_suffixes,
    normalize_prefix,
    url_prefixes,
)
from pixsearch.index.priors import multiplier as static_multiplier
from pixsearch.index.queries import (
    COMMON_TERM_SHARE,
    Clause,
    Filters,
    Range,
    SiteBoost,
    StoreHit,
    StoreQuery,
    StoreResult,
    TextQuery,
)
from pixsearch.index.vocabrecord import Vocabulary
from pixsearch.index.words import STOPWORDS, is_adult_text, is_content_word, tokens
from pixsearch.records import ImageDocument, Occurrence

__all__ = [
    "COMMON_TERM_SHARE",
    "LICENSE_PERMISSIONS",
    "NUDENET",
    "STOPWORDS",
    "BatchSearch",
    "Clause",
    "Filters",
    "IndexLockedError",
    "PagePlaces",
    "PageSource",
    "Picture",
    "Range",
    "ReadStore",
    "SiteBoost",
    "StoreHit",
    "StoreQuery",
    "StoreResult",
    "TextQuery",
    "VectorSpace",
    "Vocabulary",
    "WriteStore",
    "host_suffixes",
    "is_adult_text",
    "is_content_word",
    "normalize_prefix",
    "pages_of",
    "places_of",
    "search_many",
    "static_multiplier",
    "tokens",
    "url_prefixes",
]


@dataclass(frozen=True, slots=True, eq=False)
class Picture:
    """A picture that need not be indexed (an upload), as duplicate detection sees it."""

    phash: int
    color_layout: str = ""  # 24 hex digits, "" when unknown
    thumbnail: bytes | None = None  # lets pixels veto hash matches and confirm crops
    embedding: np.ndarray | None = None  # visual embedding: finds crops the hash misses


# Per-image vectors derived from committed images, searched by query vectors:
# "text" holds sentence embeddings of each image's text, "clip" CLIP image vectors.
VectorSpace = Literal["text", "clip"]


class IndexLockedError(RuntimeError):
    """Another process is writing this index."""

    def __init__(self, path: str) -> None:
        super().__init__(f"the index at {path} is being written by another process")


class ReadStore(Protocol):
    """What serving needs, over the last committed state (``refresh`` moves it on)."""

    def search(self, query: StoreQuery) -> StoreResult:
        """Documents matching the text and filters, best first, one page of them."""
        ...

    def get(self, doc_ids: Sequence[int]) -> list[ImageDocument]:
        """Visible documents by doc_id, in the order asked; unknown ids are left out."""
        ...

    def get_by_image_id(self, image_id: str) -> ImageDocument | None:
        """The visible document with this imageId, if any."""
        ...

    def group_counts(self, group_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """Per near-duplicate group: (distinct sizes, distinct pages)."""
        ...

    def group_members(self, group_id: int, *, limit: int = 50) -> list[int]:
        """Doc ids of a near-duplicate group, largest picture first."""
        ...

    def page_image_counts(self, urls: Sequence[str]) -> dict[str, int]:
        """Distinct images on each of these host pages."""
        ...

    def near_duplicates(
        self, phash: int, color_layout: str, *, max_distance: int
    ) -> list[tuple[int, int]]:
        """(hash distance, doc_id) of images with this hash and colour layout, closest first."""
        ...

    def duplicate_of(self, picture: Picture, *, max_distance: int) -> int | None:
        """The indexed image `picture` is a near-duplicate of, by the ingest's rule, if any."""
        ...

    def thumbnail(self, sha256: str) -> bytes | None:
        """The stored thumbnail of the image with these bytes, if any."""
        ...

    def similar(
        self,
        vector: np.ndarray,
        *,
        k: int,
        filters: Filters | None = None,
        exclude_group: int | None = None,
    ) -> list[StoreHit]:
        """Visually nearest images passing `filters` (score: cosine), one per group,
        none from `exclude_group`."""
        ...

    def vector(self, doc_id: int) -> np.ndarray | None:
        """The stored visual embedding of an image, if it has one."""
        ...

    def neighbours(
        self, space: VectorSpace, vector: np.ndarray, *, k: int
    ) -> list[tuple[int, float]]:
        """(doc_id, cosine) of the k images nearest `vector` in `space`, best first."""
        ...

    def vector_count(self, space: VectorSpace) -> int:
        """Images with a vector in `space`: 0 means no query needs embedding."""
        ...

    @property
    def generation(self) -> int:
        """The committed generation readers see (cheap: what refresh() last found)."""
        ...

    def terms(self, *, adult: bool = False) -> list[tuple[str, int]]:
        """(word, documents) of the whole body text, or of adult images and pages only."""
        ...

    def changed_since(self, gen: int) -> list[int]:
        """Visible images added, or given occurrences, after generation `gen`, by doc_id."""
        ...

    def refresh(self) -> bool:
        """Pick up commits made since the last call; True if anything changed."""
        ...

    def stats(self) -> dict[str, int]:
        """Counts of images, occurrences, documents and the generation served.

        Also, under `analyzed_keys`' names, how many images each analyzer ran on:
        flat counts, so a sharded store adds its shards' up like the others.
        """
        ...


@runtime_checkable
class BatchSearch(Protocol):
    """A store that answers several searches in one go, cheaper than one by one (a
    sharded store over remote shards asks each shard once for all of them)."""

    def search_many(self, queries: Sequence[StoreQuery]) -> list[StoreResult]:
        """Each query's ``search`` answer, in order."""
        ...


def search_many(store: ReadStore, queries: Sequence[StoreQuery]) -> list[StoreResult]:
    """Each query's ``store.search`` answer: in one go where the store can, else in turn."""
    if isinstance(store, BatchSearch):
        return store.search_many(queries)
    return [store.search(query) for query in queries]


# An image's group and the (page URL, page title) of each of its places.
PagePlaces = tuple[int, list[tuple[str, str]]]


@runtime_checkable
class PageSource(Protocol):
    """A store that reads an image's group and pages alone, far cheaper than the whole
    document (counting site chrome reads every image of the index when a server starts)."""

    def pages_of(self, doc_ids: Sequence[int]) -> list[PagePlaces]:
        """Each visible image's group and places, in no particular order."""
        ...


def pages_of(store: ReadStore, doc_ids: Sequence[int]) -> list[PagePlaces]:
    """Each visible image's group and (page URL, page title) places: from the store's own
    light reader where it has one, else from its documents."""
    if isinstance(store, PageSource):
        return store.pages_of(doc_ids)
    return [places_of(doc) for doc in store.get(doc_ids)]


def places_of(doc: ImageDocument) -> PagePlaces:
    """A document's group and the (page URL, page title) of each of its places."""
    return doc.group_id, [
        (o.host_page_url or "", o.text.get("page_title", "")) for o in doc.occurrences
    ]


ANALYZED_PREFIX = "analyzed:"


def analyzed_keys(counts: Mapping[str, int]) -> dict[str, int]:
    """Images analysed, by analyzer, as stats() keys: {"analyzed:nudenet": 12, ...}."""
    return {ANALYZED_PREFIX + name: n for name, n in counts.items()}


class WriteStore(ReadStore, Protocol):
    """What ingestion needs. Nothing is visible to readers before commit()."""

    def find_by_sha(self, sha256: str) -> ImageDocument | None:
        """The image with these bytes, committed or pending, if any."""
        ...

    def add(
        self,
        doc: ImageDocument,
        thumbnail: bytes | None,
        embedding: np.ndarray | None = None,
        *,
        grouped: bool = False,
    ) -> int:
        """Add a new image with its occurrences; its doc_id (its group joined by look).

        `grouped`: the caller already chose its group (``doc.group_id``; 0 for a group
        of its own), as a sharded build's global grouping does, and none is looked up.
        """
        ...

    def add_occurrence(self, doc_id: int, occurrence: Occurrence) -> bool:
        """Attach another place to an indexed image; False if nothing changed."""
        ...

    def add_vector(self, doc_id: int, vector: np.ndarray) -> None:
        """Attach an image's visual embedding."""
        ...

    def delete(self, image_id: str) -> bool:
        """Remove an image; False if it is not indexed."""
        ...

    def commit(self) -> int:
        """Make everything written since the last commit visible at once; the new generation."""
        ...

    def close(self) -> None:
        """Release the files and the writer lock."""
        ...
