"""The storage interface the search and API layers depend on.

Only this module's names cross the boundary. The embedded backend (Tantivy,
SQLite, files in one directory) implements it; a distributed engine can
implement it too without the API layer noticing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import numpy as np

from pixsearch.records import ImageDocument, Occurrence


@dataclass(frozen=True, slots=True)
class Clause:
    """A word (one element) or a phrase (several), as the user typed them.

    The store analyses the text with its own tokenizer, so a word that splits
    into several tokens ("wi-fi") becomes a phrase there.
    """

    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TextQuery:
    """A boolean text query: every group must match; within a group, any clause."""

    required: tuple[tuple[Clause, ...], ...] = ()
    excluded: tuple[Clause, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.required


@dataclass(frozen=True, slots=True)
class Range:
    low: int | None = None
    high: int | None = None  # inclusive


@dataclass(frozen=True, slots=True)
class Filters:
    """Attribute filters, all optional; values are the store's lower-case keys."""

    aspect: str | None = None  # square | wide | tall
    color: str | None = None  # a colour name, coloronly or monochrome
    published_since: datetime | None = None
    width: Range = field(default_factory=Range)
    height: Range = field(default_factory=Range)
    file_size: Range = field(default_factory=Range)
    image_content: str | None = None  # face | portrait | nonportrait
    image_type: str | None = None  # photo | clipart | line | graphics | transparent | ...
    license: str | None = None  # any | public | share | sharecommercially | modify | ...
    size: str | None = None  # small | medium | large | wallpaper
    exclude_adult: tuple[str, ...] = ()  # adult kinds to drop: "image", "text"
    # What those kinds mean on this server (search/adult.py AdultPolicy fills them):
    # "image" drops nudity scores at or above the threshold; "text" drops adult words
    # and images on these hosts or their subdomains.
    adult_threshold: float = 0.45
    adult_hosts: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()  # any of these hosts (or their subdomains)
    excluded_sites: tuple[str, ...] = ()
    url_prefixes: tuple[str, ...] = ()  # any of these page/image URL prefixes
    excluded_url_prefixes: tuple[str, ...] = ()
    # A custom instance's slice: a document must lie under any one of these hosts
    # (with subdomains) or URL prefixes ("host/" is exactly that host). One OR, so
    # mixing kinds widens the slice rather than intersecting it.
    scope_sites: tuple[str, ...] = ()
    scope_prefixes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SiteBoost:
    """Adds `weight` to the score of documents on `host` (or its subdomains); < 0 demotes."""

    host: str
    weight: float


@dataclass(frozen=True, slots=True)
class StoreQuery:
    text: TextQuery
    filters: Filters = field(default_factory=Filters)
    limit: int = 35
    offset: int = 0
    boosts: tuple[SiteBoost, ...] = ()
    language: str = "en"  # the market's language: which stemmed field the words also match
    doc_ids: tuple[int, ...] = ()  # only these documents (checking semantic candidates)
    # Counting every match defeats the top-k pruning of the text index: a query that
    # only asks "is there one?" (suggestion probes) says so and gets total 0 or 1.
    count: bool = True


@dataclass(frozen=True, slots=True)
class StoreHit:
    doc_id: int
    group_id: int
    score: float
    site: int = 0  # hash of the image's first host; 0 when unknown (diversity)
    published: int = 0  # discovery date, Unix seconds (freshness ties)
    prior: float = 1.0  # static score multiplier of the image, applied by the search service


@dataclass(frozen=True, slots=True)
class StoreResult:
    hits: list[StoreHit]
    total: int  # number of documents matching, before paging and collapsing


class IndexLockedError(RuntimeError):
    """Another process is writing this index."""

    def __init__(self, path: str) -> None:
        super().__init__(f"the index at {path} is being written by another process")


class ReadStore(Protocol):
    """What serving needs: search and fetch, over the last committed state."""

    def search(self, query: StoreQuery) -> StoreResult: ...

    def get(self, doc_ids: Sequence[int]) -> list[ImageDocument]: ...

    def get_by_image_id(self, image_id: str) -> ImageDocument | None: ...

    def group_counts(self, group_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """Per near-duplicate group: (distinct sizes, distinct pages)."""
        ...

    def group_members(self, group_id: int, *, limit: int = 50) -> list[int]: ...

    def page_image_counts(self, urls: Sequence[str]) -> dict[str, int]:
        """Distinct images on each of these host pages."""
        ...

    def near_duplicates(
        self, phash: int, color_layout: str, *, max_distance: int
    ) -> list[tuple[int, int]]: ...

    def thumbnail(self, sha256: str) -> bytes | None: ...

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

    def refresh(self) -> bool:
        """Pick up commits made since the last call; True if anything changed."""
        ...

    def stats(self) -> dict[str, int]: ...


class WriteStore(ReadStore, Protocol):
    """What ingestion needs. Nothing is visible to readers before commit()."""

    def find_by_sha(self, sha256: str) -> ImageDocument | None: ...

    def add(
        self, doc: ImageDocument, thumbnail: bytes | None, embedding: np.ndarray | None = None
    ) -> int: ...

    def add_occurrence(self, doc_id: int, occurrence: Occurrence) -> bool: ...

    def add_vector(self, doc_id: int, vector: np.ndarray) -> None: ...

    def delete(self, image_id: str) -> bool: ...

    def commit(self) -> int: ...

    def close(self) -> None: ...
