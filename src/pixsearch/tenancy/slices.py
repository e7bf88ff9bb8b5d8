"""The slice rules of a custom search instance, over its Instance and search's records.

A custom search is an ordinary search narrowed to the instance's slice inside
the index query (Instance.slice_filters), reordered by its boosts, with its
pins placed on the first page. Whatever is shown is confined to the slice: an
image found on several sites shows only its places inside the slice, so one
tenant never sees another tenant's URLs through a shared image. Functions of
their arguments only; the caller passes the store lookup the pins need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from pixsearch.index.store import SiteBoost
from pixsearch.records import ImageDocument, Occurrence
from pixsearch.search.insights import Insights
from pixsearch.search.service import Result, SearchPage, best_occurrence
from pixsearch.tenancy.instances import Instance

BOOST = 2.0  # added to a boosted site's score (BM25 scores here are mostly 1-20)

Lookup = Callable[[str], ImageDocument | None]  # an imageId to its indexed document


def boosts_of(instance: Instance) -> tuple[SiteBoost, ...]:
    return tuple(SiteBoost(h, BOOST) for h in instance.boosted_sites) + tuple(
        SiteBoost(h, -BOOST) for h in instance.demoted_sites
    )


def in_slice(instance: Instance, doc: ImageDocument) -> ImageDocument | None:
    """`doc` with only its places inside the slice, or None when it has none."""
    kept = [
        o
        for o in doc.occurrences
        if any(instance.contains_url(u) for u in (o.host_page_url, o.content_url) if u)
    ]
    if not kept:
        return None
    return doc if len(kept) == len(doc.occurrences) else replace(doc, occurrences=kept)


def pin_inside(instance: Instance, image_id: str | None, lookup: Lookup) -> str | None:
    """The id= image, only if it lies in the slice (else it would leak other sites)."""
    if not image_id:
        return None
    doc = lookup(image_id)
    return image_id if doc is not None and in_slice(instance, doc) is not None else None


def confine(instance: Instance, page: SearchPage) -> SearchPage:
    """The page with each result reduced to its places inside the slice."""
    words = [w.lower() for w in page.parsed.words]
    results = []
    for result in page.results:
        doc = in_slice(instance, result.doc)
        if doc is not None:
            # the search ran under the slice's filters: its place and counts hold them
            results.append(replace(result, doc=doc, occurrence=_kept(result, doc, words)))
    return replace(page, results=results)


def place_pins(
    instance: Instance, page: SearchPage, *, q: str, count: int, lookup: Lookup
) -> SearchPage:
    """The first page with the instance's pins for `q` at their places."""
    results = list(page.results)
    words = [w.lower() for w in page.parsed.words]
    for pin in instance.pins_for(q):
        found = lookup(pin.image_id)
        doc = in_slice(instance, found) if found is not None else None
        if doc is None:
            continue  # a pin outside the slice (or deleted) is skipped, never shown
        results = [r for r in results if r.doc.group_id != doc.group_id]
        pinned = Result(
            doc=doc, occurrence=best_occurrence(doc, words), score=0.0, pages=_pages_of(doc)
        )
        results.insert(min(pin.position - 1, len(results)), pinned)
    return replace(page, results=results[:count])


def confine_insights(instance: Instance, insights: Insights) -> Insights | None:
    """Insights showing only pages inside the slice; None when the image lies outside it."""
    if insights.doc is not None and in_slice(instance, insights.doc) is None:
        return None
    pages = []
    for page in insights.pages:
        kept = in_slice(instance, page.doc)
        if kept is not None and page.occurrence in kept.occurrences:
            pages.append(page)
    return replace(insights, pages=pages, caption=None if not pages else insights.caption)


def _kept(result: Result, doc: ImageDocument, words: list[str]) -> Occurrence:
    """The search's place (it holds every filter) when it lies in the slice."""
    return (
        result.occurrence if result.occurrence in doc.occurrences else best_occurrence(doc, words)
    )


def _pages_of(doc: ImageDocument) -> int:
    return len({o.host_page_url or o.source for o in doc.occurrences})
