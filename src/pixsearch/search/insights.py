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
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from pixsearch.index.store import STOPWORDS, Picture, ReadStore
from pixsearch.records import ImageDocument, ImageFacts, Occurrence
from pixsearch.search.places import MAX_MEMBERS, page_key
from pixsearch.search.words import content_words

MAX_PAGES = 50
MAX_TAGS = 10
BRQ_WORDS = 6
# A page URL → the template words of its site (index/chrome.py learns them): the
# site's name, "Item", section names, which describe the page, not the picture.
TemplateWords = Callable[[str], frozenset[str]]


def no_template(_: str) -> frozenset[str]:
    return frozenset()


@dataclass(frozen=True, slots=True)
class Page:
    doc: ImageDocument
    occurrence: Occurrence


@dataclass(slots=True)
class Insights:
    image_id: str  # what the imageInsightsToken names (indexed image or cached upload)
    facts: ImageFacts
    doc: ImageDocument | None  # the indexed image, when the picture is indexed
    pages: list[Page] = field(default_factory=list)  # one a page, MAX_PAGES at most
    caption: tuple[str, str] | None = None  # (text, data source URL)
    best_query: str | None = None
    tags: list[tuple[str, float]] = field(default_factory=list)  # (tag, confidence)
    sizes: int = 1
    vector: np.ndarray | None = None  # visual embedding of the picture, when known
    # Every place of every member, the pages' source: narrowing to what a caller may see
    # (narrowed()) recounts pages and sizes from them, beyond the MAX_PAGES listed.
    places: list[Page] = field(default_factory=list)
    page_count: int = 0  # distinct pages (pagesIncludingCount), not only those listed


class InsightsService:
    def __init__(
        self,
        store: ReadStore,
        *,
        near_distance: int = 6,
        template_words: TemplateWords = no_template,
    ) -> None:
        self.store = store
        self.near_distance = near_distance
        self.template_words = template_words

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
        every = [Page(d, o) for d in family for o in d.occurrences]
        pages = _distinct_pages(every)
        texts = [page.occurrence for page in pages]
        return Insights(
            image_id=image_id,
            facts=facts,
            doc=doc if doc is not None else (family[0] if family else None),
            pages=pages,
            places=every,
            page_count=len({page_key(p.doc, p.occurrence) for p in every}),
            caption=_caption(pages),
            best_query=_best_query(texts, self.template_words),
            # Pages' words first; the visual classifier's words when no page says anything.
            tags=_tags(texts, self.template_words)
            or [(t, round(c, 3)) for t, c in facts.tags[:MAX_TAGS]],
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
        # every member, so that the counts are those search shows (places.py)
        members = self.store.group_members(doc.group_id, limit=MAX_MEMBERS)
        return self.store.get([doc.doc_id, *(m for m in members if m != doc.doc_id)])


def _distinct_pages(places: list[Page]) -> list[Page]:
    """One entry per page: two files with the same bytes on one page count once."""
    seen: set[str] = set()
    pages: list[Page] = []
    for page in places:
        key = page_key(page.doc, page.occurrence)
        if key not in seen:
            seen.add(key)
            pages.append(page)
            if len(pages) == MAX_PAGES:
                break
    return pages


def narrowed(insights: Insights, keep: Callable[[Page], bool]) -> Insights:
    """`insights` with only the places `keep` lets through: pages, their count, the
    sizes of the members still shown and a caption from a page still shown."""
    kept = [page for page in insights.places if keep(page)]
    if len(kept) == len(insights.places):
        return insights
    pages = _distinct_pages(kept)
    sources = {p.occurrence.host_page_url or p.occurrence.content_url or "" for p in pages}
    caption = insights.caption if insights.caption and insights.caption[1] in sources else None
    return replace(
        insights,
        pages=pages,
        places=kept,
        page_count=len({page_key(p.doc, p.occurrence) for p in kept}),
        sizes=len({(p.doc.facts.width, p.doc.facts.height) for p in kept}) or 1,
        caption=caption,
    )


def _caption(pages: list[Page]) -> tuple[str, str] | None:
    """The most descriptive caption: the longest caption text any page gives the picture."""
    best: tuple[str, str] | None = None
    for page in pages:
        text = " ".join(page.occurrence.text.get("caption", "").split())
        if text and (best is None or len(text) > len(best[0])):
            source = page.occurrence.host_page_url or page.occurrence.content_url or ""
            best = (text[:300], source)
    return best


def _borrowed(occurrence: Occurrence) -> bool:
    """Whether a page gives the picture no words of its own: its title is the page's or URL's."""
    text = occurrence.text
    return bool(occurrence.host_page_url) and not (text.get("name") or text.get("caption"))


def _words(text: str, template: frozenset[str]) -> list[str]:
    return [w for w in content_words(text) if w not in template]


def _best_query(occurrences: list[Occurrence], template: TemplateWords) -> str | None:
    """A short query that names the picture: the title its pages agree on most.

    Without the site's template words, and a page that gives the picture no words
    of its own (a thumbnail without alt text) votes only when no page does.
    """
    titles: Counter[str] = Counter()
    borrowed: Counter[str] = Counter()
    for occurrence in occurrences:
        text = occurrence.text.get("name") or occurrence.title
        words = _words(text, template(occurrence.host_page_url or ""))
        if words:
            votes = borrowed if _borrowed(occurrence) else titles
            votes[" ".join(words[:BRQ_WORDS])] += 1
    best = (titles or borrowed).most_common(1)
    return best[0][0] if best else None


def _tags(occurrences: list[Occurrence], template: TemplateWords) -> list[tuple[str, float]]:
    """Keywords and frequent caption/title words, with the share of pages using each.

    Not the site's template words; borrowed page titles only when no page says more.
    """
    counts: Counter[str] = Counter()
    own = [o for o in occurrences if not _borrowed(o)] or occurrences
    for occurrence in own:
        text = occurrence.text
        common = template(occurrence.host_page_url or "")
        keywords = [k.strip().lower() for k in re.split(r"[,;]", text.get("keywords", ""))]
        words = set(
            _words(
                " ".join((text.get("caption", ""), text.get("name", ""), occurrence.title)), common
            )
        )
        counts.update({k for k in keywords if k and k not in STOPWORDS | common} | words)
    total = max(len(occurrences), 1)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_TAGS]
    return [(tag, round(count / total, 3)) for tag, count in ranked]
