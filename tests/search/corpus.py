"""In-memory corpora for the search tests: pictures, a MemoryStore over them, a query log.

Nothing here opens Tantivy, SQLite or an index directory: the search side is
exercised through the ReadStore seam alone (index/memory.py). Tests describe
each picture by what a crawl would have found (caption, size, host, licence,
nudity score) and compute what they expect from those descriptions, not from
the store's answers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import numpy as np

from pixsearch.index.memory import MemoryStore
from pixsearch.index.vocabulary import VocabularyCache
from pixsearch.records import ImageDocument, ImageFacts, Occurrence
from pixsearch.search.adult import AdultPolicy
from pixsearch.search.querylog import QueryLog, normalise
from pixsearch.search.vocabulary import VocabularyHolder
from tests.index.helpers import make_doc

FIRST_SEEN = datetime(2024, 5, 1, tzinfo=UTC)


def _hash64(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:16], 16)


def picture(
    n: int,
    caption: str,
    *,
    width: int = 640,
    height: int = 480,
    host: str | None = None,
    folder: str = "",
    page: str | None = None,
    license: str | None = None,
    color: str = "Blue",
    phash: int | None = None,
    adult_score: float | None = None,
    title: str | None = None,
    offers: Sequence[dict[str, str]] = (),
    content_size: int | None = None,
    published: datetime | None = None,
) -> ImageDocument:
    """One picture with one occurrence: on `host` (a web page under `folder`, or `page`
    when given) or a local file.

    `n` names the bytes: two pictures with the same `n` are the same file. Unless
    `phash` is given, hashes are random 64-bit values, so no two pictures look alike
    by accident (distinct random hashes differ in about 32 bits; duplicates need < 7).
    """
    sha = hashlib.sha256(f"picture-{n}".encode()).hexdigest()
    facts = ImageFacts(
        sha256=sha,
        width=width,
        height=height,
        content_size=content_size or max(width * height // 4, 1),
        encoding_format="jpeg",
        frame_count=1,
        animated=False,
        transparent=False,
        accent_color="112233",
        color_name=color,
        monochrome=False,
        phash=_hash64(sha) if phash is None else phash,
        image_types=("photo",),
        thumb_width=min(width, 200),
        thumb_height=min(height, 200),
        analyzed=("nudenet",) if adult_score is not None else (),
        adult_score=adult_score or 0.0,
    )
    if host is None:
        place = Occurrence(source=f"/pics/{n}.jpg", local_path=f"/pics/{n}.jpg")
    else:
        page = page or f"https://{host}/{folder}page-{n}.html"
        place = Occurrence(
            source=f"{page}#{n}",
            content_url=f"https://{host}/img/{n}.jpg",
            host_page_url=page,
        )
    occurrence = replace(
        place,
        title=title or caption,
        text={"caption": caption},
        license=license,
        date_published=published,
        offers=list(offers),
    )
    return ImageDocument(facts=facts, occurrences=[occurrence], first_seen=FIRST_SEEN)


def copy_of(
    original: ImageDocument,
    n: int,
    *,
    width: int,
    height: int,
    host: str | None,
    page: str | None = None,
    caption: str | None = None,
) -> ImageDocument:
    """Other bytes of the same picture (resized, re-encoded), on `page` or a page of its own."""
    occurrence = original.occurrences[0]
    text = caption or occurrence.text["caption"]
    doc = picture(
        n, text, width=width, height=height, host=host, page=page, phash=original.facts.phash
    )
    doc.occurrences[0].license = occurrence.license
    return doc


def unit(vector: np.ndarray) -> np.ndarray:
    row = np.asarray(vector, dtype=np.float32)
    normed: np.ndarray = row / np.linalg.norm(row)
    return normed


def memory_store(docs: Sequence[ImageDocument]) -> MemoryStore:
    """A store holding `docs` in order (doc_ids 1, 2, ...); each document is given
    the doc_id and group_id the store assigned."""
    store = MemoryStore()
    for doc in docs:
        store.add(doc)
    return store


def vocabulary(store: MemoryStore) -> VocabularyHolder:
    """The store's vocabulary, kept nowhere, built on first use (synchronously: a small store).

    Not built here: the speller of a SuggestionService hears only of builds made
    after it was created, as in the wiring.
    """
    return VocabularyHolder(store, VocabularyCache(store, None), check_seconds=0)


@dataclass(slots=True)
class MemoryQueryLog:
    """search/querylog.py's QueryLog over a list: searches with the day they were made."""

    searches: list[tuple[str, str, str, datetime]] = field(default_factory=list)

    def record(
        self, query: str, *, market: str, scope: str = "", now: datetime | None = None
    ) -> None:
        text = normalise(query)
        if text:
            self.searches.append((text, market, scope, now or datetime.now(UTC)))

    def popular(
        self,
        *,
        market: str,
        scope: str = "",
        half_life_days: float = 7.0,
        limit: int = 50,
        now: datetime | None = None,
    ) -> list[tuple[str, float]]:
        today = (now or datetime.now(UTC)).date()
        weights: dict[str, float] = {}
        for text, searched_in, searched_for, when in self.searches:
            if (searched_in, searched_for) == (market, scope):
                age = (today - when.date()).days
                weights[text] = weights.get(text, 0.0) + 0.5 ** (age / half_life_days)
        return sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

    def close(self) -> None:
        self.searches.clear()

    def record_many(self, queries: dict[str, int], *, market: str, days_ago: int = 0) -> None:
        """Each query searched that many times, `days_ago` days before now."""
        when = datetime.now(UTC) - timedelta(days=days_ago)
        for query, times in queries.items():
            for _ in range(times):
                self.record(query, market=market, now=when)


def sized(n: int, text: str, width: int, height: int, size: int = 0) -> ImageDocument:
    """tests/index's document of `n` at this size (`size` bytes, else a quarter byte a pixel)."""
    doc = make_doc(n, text, width=width, height=height)
    return replace(doc, facts=replace(doc.facts, content_size=size or width * height // 4))


def on_site(doc: ImageDocument, host: str, n: int, language: str | None = None) -> ImageDocument:
    """`doc` moved from a local file to page `n` of `host`."""
    page = f"https://{host}/page-{n}.html"
    occurrence = replace(
        doc.occurrences[0],
        source=page + "#img",
        local_path=None,
        host_page_url=page,
        content_url=f"https://{host}/img/{n}.jpg",
        language=language,
    )
    return replace(doc, occurrences=[occurrence])


def ranking_corpus() -> list[ImageDocument]:
    """Icons and a photo with the same words, two copies of a harbour, one host's tulips."""
    small = sized(4, "harbour at dawn", 320, 240)
    large = sized(5, "harbour at dawn", 1600, 1200)
    docs = [
        sized(1, "lighthouse icon", 32, 32),
        sized(2, "lighthouse button", 64, 64),
        sized(3, "lighthouse photo", 1200, 800),
        replace(small, facts=replace(small.facts, phash=0xABCDEF0123456789)),
        replace(large, facts=replace(large.facts, phash=0xABCDEF0123456789)),
    ]
    # Ten pages of one site mention the word three times; three other sites once.
    docs += [
        on_site(make_doc(i, "tulip tulip tulip field"), "bigsite.example", i) for i in range(10, 20)
    ]
    docs += [on_site(make_doc(i, "tulip"), f"site{i}.example", i) for i in range(20, 23)]
    return docs


# A server policy stricter than the default: nudity scores from 0.2 count as adult
# under Moderate, and one blocklisted host drops out under Strict.
POLICY = AdultPolicy(threshold=0.2, hosts=("blocked.example",))
CAPE_TITLE = "Lighthouse at Cape Rock"  # two of the lighthouse's three pages agree on it


@dataclass(frozen=True, slots=True)
class Spec:
    """How a scenery picture is described: what a test reads to know what to expect."""

    n: int
    caption: str
    width: int
    height: int
    host: str
    license: str | None = None
    color: str = "Blue"
    adult_score: float | None = None  # None: the nudity detector did not run
    look: str = ""  # pictures of one look have close visual embeddings
    title: str | None = None
    copy_of: int | None = None  # the n of the picture this is a copy of (same hash)


SCENERY: tuple[Spec, ...] = (
    Spec(1, "red sunset over the sea", 1920, 1080, "sea.example", "cc0", "Orange"),
    Spec(2, "orange sunset over the calm sea", 1200, 800, "sea.example", "cc-by", "Orange"),
    Spec(
        3,
        "pink sunset over the sea and beach",
        800,
        600,
        "coast.example",
        None,
        "Pink",
        look="coast",
    ),
    Spec(4, "red dawn over the sea", 640, 480, "coast.example", "cc-by-nc", "Red", look="coast"),
    Spec(5, "orange dawn over the calm sea", 300, 300, "shore.example", None, "Orange"),
    Spec(6, "pink dawn over the beach", 150, 150, "shore.example", "cc-by-sa", "Pink"),
    Spec(7, "red sunset over the green hills", 1024, 768, "hills.example", "cc0", "Green"),
    Spec(8, "red dawn over the green hills", 500, 700, "hills.example", None, "Green"),
    Spec(9, "misty green hills with sheep", 2000, 1000, "farm.example", "cc-by", "Green"),
    Spec(10, "sheep grazing on green hills", 640, 480, "farm.example", None, "Green"),
    Spec(11, "black cat asleep on a sofa", 500, 500, "pets.example", None, "Black"),
    Spec(12, "tabby cat asleep on a sofa", 400, 400, "pets.example", "cc-by", "Brown"),
    Spec(13, "tabby kitten playing on a rug", 640, 480, "kittens.example", "cc0", "Brown"),
    Spec(14, "black kitten playing on a rug", 120, 120, "kittens.example", None, "Black"),
    Spec(
        15,
        "white lighthouse on the rocky coast",
        1200,
        900,
        "coast.example",
        "cc0",
        "White",
        look="lighthouse",
    ),
    Spec(
        16,
        "lighthouse beam at night over the sea",
        800,
        600,
        "night.example",
        None,
        "Blue",
        look="coast",
    ),
    # Analysed pictures: a score between POLICY's threshold and the default one (Moderate
    # hides it only under POLICY), a clearly adult one, a safe one; a blocklisted host.
    Spec(17, "beach cabana at sunset", 900, 600, "resort.example", "cc0", "Orange", 0.3, "coast"),
    Spec(18, "nude bather at sunset on the beach", 900, 600, "bathers.example", None, "Pink", 0.8),
    Spec(
        19, "sunset on the sea cliffs", 1000, 700, "cliffs.example", "cc0", "Orange", 0.05, "coast"
    ),
    Spec(20, "sunset beach hut", 700, 500, "blocked.example", None, "Orange"),
    # Copies of the lighthouse (one on the blocklisted host) and of the cabana.
    Spec(21, "lighthouse at cape rock", 600, 450, "travel.example", title=CAPE_TITLE, copy_of=15),
    Spec(22, "lighthouse at cape rock", 300, 225, "blog.example", title=CAPE_TITLE, copy_of=15),
    Spec(23, "the old lighthouse", 1200, 900, "blocked.example", copy_of=15),
    Spec(24, "cabana on the beach", 450, 300, "hotels.example", "cc0", "Orange", 0.3, copy_of=17),
)


def scenery_picture(spec: Spec) -> ImageDocument:
    original = next(s for s in SCENERY if s.n == (spec.copy_of or spec.n))
    return picture(
        spec.n,
        spec.caption,
        width=spec.width,
        height=spec.height,
        host=spec.host,
        license=spec.license,
        color=spec.color,
        adult_score=spec.adult_score,
        title=spec.title,
        phash=_hash64(f"look-{original.n}"),
    )


def scenery_vectors(dim: int = 32) -> dict[int, np.ndarray]:
    """Visual embeddings by n: copies share their original's, one look stays close."""
    rng = np.random.default_rng(11)
    looks = {look: rng.normal(size=dim) for look in ("coast", "lighthouse")}
    looks["coast"] = looks["lighthouse"] + 0.6 * looks["coast"]  # coasts resemble it
    vectors: dict[int, np.ndarray] = {}
    for spec in SCENERY:
        if spec.copy_of is not None:
            vectors[spec.n] = vectors[spec.copy_of]
        elif spec.look:
            vectors[spec.n] = unit(looks[spec.look] + 0.35 * rng.normal(size=dim))
        else:
            vectors[spec.n] = unit(rng.normal(size=dim))
    return vectors


@dataclass(slots=True)
class Scenery:
    """The scenery corpus loaded in a MemoryStore: documents and vectors by n."""

    store: MemoryStore
    docs: dict[int, ImageDocument]  # n → the document, with its doc_id and group_id
    vectors: dict[int, np.ndarray]

    def spec(self, doc: ImageDocument) -> Spec:
        return next(s for s in SCENERY if self.docs[s.n].doc_id == doc.doc_id)

    def hidden(self, policy: AdultPolicy, safe_search: str) -> set[int]:
        """Doc ids safe search hides under `policy`, read from the descriptions alone."""
        out = set()
        for spec in SCENERY:
            score = spec.adult_score or 0.0
            adult_word = "nude" in spec.caption.split()
            image = safe_search != "Off" and score >= policy.threshold
            text = safe_search == "Strict" and (adult_word or spec.host in policy.hosts)
            if image or text:
                out.add(self.docs[spec.n].doc_id)
        return out


def scenery() -> Scenery:
    vectors = scenery_vectors()
    docs = {spec.n: scenery_picture(spec) for spec in SCENERY}
    store = MemoryStore()
    for spec in SCENERY:
        store.add(docs[spec.n], vector=vectors[spec.n])
    return Scenery(store=store, docs=docs, vectors=vectors)


_: type[QueryLog] = MemoryQueryLog  # mypy checks the test log against search's protocol
