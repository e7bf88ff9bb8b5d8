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
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from pixsearch.index.attributes import (
    LICENSE_PERMISSIONS,
    host_suffixes,
    normalize_prefix,
    url_prefixes,
)
from pixsearch.index.priors import multiplier as static_multiplier
from pixsearch.index.words import STOPWORDS, is_adult_text, is_content_word, tokens
from pixsearch.records import ImageDocument, Occurrence

__all__ = [
    "LICENSE_PERMISSIONS",
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


@dataclass(frozen=True, slots=True)
class Clause:
    """A word (one element) or a phrase (several), as the user typed them.

    The store analyses the text with its own tokenizer, so a word that splits
    into several tokens ("wi-fi") becomes a phrase there. `weight` multiplies the
    clause's score: how callers weigh a word up or down (a site's template words,
    a shard's idf brought to the whole index's) without changing what matches.
    """

    words: tuple[str, ...]
    weight: float = 1.0


COMMON_TERM_SHARE = 0.5  # a required word in more than this share of documents is 'common'


@dataclass(frozen=True, slots=True)
class TextQuery:
    """A boolean text query: every group must match; within a group, any clause."""

    required: tuple[tuple[Clause, ...], ...] = ()
    excluded: tuple[Clause, ...] = ()
    # A store drops required words found in most of its documents (they cost much and
    # score nearly nothing). Set when the caller already did, with better counts: a
    # sharded store decides once with the whole index's, so every shard matches alike.
    keep_common: bool = False

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


@dataclass(slots=True)  # not frozen: a search makes 100, and frozen ones cost 4x (1.3 µs)
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


@dataclass(slots=True)
class Vocabulary:
    """A store's words of one committed generation: frequencies and nearest words.

    Built from ``ReadStore.terms`` and a sample of documents (index/vocabulary.py);
    spelling, suggestions and trending read it.
    """

    generation: int
    num_docs: int
    terms: list[str]  # by document frequency, most frequent first
    df: np.ndarray  # int64, aligned with terms
    adult: frozenset[str]  # words mostly seen on adult images or pages
    near: np.ndarray  # (k, NEAR) int32: for terms[:k], the words with the closest contexts
    near_score: np.ndarray  # (k, NEAR) float32: their cosine similarities
    ids: dict[str, int] = field(default_factory=dict)
    adult_df: dict[str, int] = field(default_factory=dict)  # documents that are adult, per word
    # Of `sampled` documents: how many hold a word, or two words side by side ("a b"), as
    # whole words of their captions, titles, keywords or page text (URL and file-name
    # words only for an image with no other text).
    seen: dict[str, int] = field(default_factory=dict)
    pairs: dict[str, int] = field(default_factory=dict)
    sampled: int = 0
    _df: dict[str, int] = field(default_factory=dict)  # df as a dict: cheaper per lookup

    def __post_init__(self) -> None:
        self.near_score = self.near_score.astype(np.float32)  # float16 on disk
        if not self.ids:
            self.ids = {t: i for i, t in enumerate(self.terms)}

    def freq(self, term: str) -> int:
        if not self._df:
            self._df = dict(zip(self.terms, self.df.tolist(), strict=True))
        return self._df.get(term, 0)

    def clean_freq(self, term: str) -> int:
        """Documents holding `term` that are not adult: > 0 proves it finds images under any
        safe-search level (as of this vocabulary's generation)."""
        return self.freq(term) - self.adult_df.get(term, 0)

    def idf(self, term: str) -> float:
        return math.log((self.num_docs + 1) / (self.freq(term) + 1))

    def neighbours(self, weights: dict[str, float], *, k: int, exclude: set[str]) -> list[str]:
        """Words whose contexts are closest to those of the weighted words, best first."""
        scores: dict[int, float] = {}
        for word, weight in weights.items():
            i = self.ids.get(word, len(self.near))
            if i >= len(self.near):
                continue
            for j, score in zip(self.near[i], self.near_score[i], strict=True):
                scores[int(j)] = scores.get(int(j), 0.0) + weight * float(score)
        ranked = sorted(scores.items(), key=lambda js: -js[1])
        out = []
        for j, score in ranked:
            term = self.terms[j]
            if score > 0 and term not in exclude and term not in weights:
                out.append(term)
                if len(out) == k:
                    break
        return out


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
