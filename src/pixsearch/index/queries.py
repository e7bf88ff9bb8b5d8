"""What a search asks of a store and what it gets back: the query and result records.

A text query (groups of word and phrase clauses), the attribute filters, site
boosts, and the hits and totals a store answers with. Every store reads these and
the query side builds them. They are imported through ``pixsearch.index.store``,
which re-exports them on purpose: search/ and api/ see storage only through that
seam, so what the seam's protocols speak lives here but is named there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
    limit: int = 35  # 0: no hits, only the total (of a count): whether given documents match
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
