"""What pixsearch knows about one image: the data behind /images/details.

Everything here comes from the index itself: the pages that include the
picture (its own occurrences and those of its near-duplicates), and a
caption, a representative query and tags drawn from the text of those pages.
Visual similarity and recognised faces need image models and are added by
their own stages.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from pixsearch.index.store import STOPWORDS, Picture, ReadStore
from pixsearch.records import ImageDocument, ImageFacts, Occurrence
from pixsearch.search.words import content_words

MAX_PAGES = 50
MAX_TAGS = 10
BRQ_WORDS = 6


@dataclass(frozen=True, slots=True)
class Page:
    doc: ImageDocument
    occurrence: Occurrence


@dataclass(slots=True)
class Insights:
    image_id: str  # what the imageInsightsToken names (indexed image or cached upload)
    facts: ImageFacts
    doc: ImageDocument | None  # the indexed image, when the picture is indexed
    pages: list[Page] = field(default_factory=list)
    caption: tuple[str, str] | None = None  # (text, data source URL)
    best_query: str | None = None
    tags: list[tuple[str, float]] = field(default_factory=list)  # (tag, confidence)
    sizes: int = 1
    vector: np.ndarray | None = None  # visual embedding of the picture, when known


class InsightsService:
    def __init__(self, store: ReadStore, *, near_distance: int = 6) -> None:
        self.store = store
        self.near_distance = near_distance

    def for_document(self, doc: ImageDocument) -> Insights:
        return self._build(doc.image_id, doc.facts, doc)

    def for_picture(
        self,
        facts: ImageFacts,
        vector: np.ndarray | None = None,
        thumbnail: bytes | None = None,
    ) -> Insights:
        """Insights for a picture given by bytes: indexed if its bytes or its look match.

        With its embedding and thumbnail, a crop the hash misses is matched too (the
        ingest's rule: ``ReadStore.duplicate_of``).
        """
        doc = self.store.get_by_image_id(facts.image_id)
        return self._build(facts.image_id, facts, doc, vector, thumbnail)

    def _build(
        self,
        image_id: str,
        facts: ImageFacts,
        doc: ImageDocument | None,
        vector: np.ndarray | None = None,
        thumbnail: bytes | None = None,
    ) -> Insights:
        family = self._family(facts, doc, vector, thumbnail)
        pages = _distinct_pages(family)
        texts = [page.occurrence for page in pages]
        return Insights(
            image_id=image_id,
            facts=facts,
            doc=doc if doc is not None else (family[0] if family else None),
            pages=pages,
            caption=_caption(pages),
            best_query=_best_query(texts),
            # Pages' words first; the visual classifier's words when no page says anything.
            tags=_tags(texts) or [(t, round(c, 3)) for t, c in facts.tags[:MAX_TAGS]],
            sizes=len({(d.facts.width, d.facts.height) for d in family}) or 1,
        )

    def _family(
        self,
        facts: ImageFacts,
        doc: ImageDocument | None,
        vector: np.ndarray | None = None,
        thumbnail: bytes | None = None,
    ) -> list[ImageDocument]:
        """The picture's near-duplicate group, itself first.

        An indexed image's group is the one search collapses and counts, so the
        badges of a result and its insights agree; a new picture is matched by look.
        """
        if doc is None:
            picture = Picture(facts.phash, facts.color_layout, thumbnail or None, vector)
            doc_id = self.store.duplicate_of(picture, max_distance=self.near_distance)
            found = self.store.get([doc_id]) if doc_id is not None else []
            if not found:
                return []
            doc = found[0]
        members = self.store.group_members(doc.group_id, limit=MAX_PAGES)
        return self.store.get([doc.doc_id, *(m for m in members if m != doc.doc_id)])


def _distinct_pages(family: list[ImageDocument]) -> list[Page]:
    """One entry per page: two files with the same bytes on one page count once."""
    seen: set[str] = set()
    pages: list[Page] = []
    for doc in family:
        for occurrence in doc.occurrences:
            key = occurrence.host_page_url or f"local:{doc.image_id}"
            if key not in seen and len(pages) < MAX_PAGES:
                seen.add(key)
                pages.append(Page(doc, occurrence))
    return pages


def _caption(pages: list[Page]) -> tuple[str, str] | None:
    """The most descriptive caption: the longest caption text any page gives the picture."""
    best: tuple[str, str] | None = None
    for page in pages:
        text = " ".join(page.occurrence.text.get("caption", "").split())
        if text and (best is None or len(text) > len(best[0])):
            source = page.occurrence.host_page_url or page.occurrence.content_url or ""
            best = (text[:300], source)
    return best


def _best_query(occurrences: list[Occurrence]) -> str | None:
    """A short query that names the picture: the title its pages agree on most."""
    titles: Counter[str] = Counter()
    for occurrence in occurrences:
        words = content_words(occurrence.text.get("name") or occurrence.title)
        if words:
            titles[" ".join(words[:BRQ_WORDS])] += 1
    return titles.most_common(1)[0][0] if titles else None


def _tags(occurrences: list[Occurrence]) -> list[tuple[str, float]]:
    """Keywords and frequent caption/title words, with the share of pages using each."""
    counts: Counter[str] = Counter()
    for occurrence in occurrences:
        text = occurrence.text
        keywords = [k.strip().lower() for k in re.split(r"[,;]", text.get("keywords", ""))]
        words = set(
            content_words(
                " ".join((text.get("caption", ""), text.get("name", ""), occurrence.title))
            )
        )
        counts.update({k for k in keywords if k and k not in STOPWORDS} | words)
    total = max(len(occurrences), 1)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_TAGS]
    return [(tag, round(count / total, 3)) for tag, count in ranked]
