"""What a caller sees of a near-duplicate group: the places and sizes its filters let through.

pagesIncludingCount and availableSizesCount count what the request could be
shown: the distinct pages of the group's members that pass the request's
filters (safeSearch and slice included), where each page holds the page-level
filters itself (scope.PlaceRule), and the distinct sizes of those members.
The same rule lists the pages of /images/details, so a result's badges and its
insights agree under the same filters.

Nudity is a verdict on the picture, and a group is one picture: once a member the
nudity detector looked at is shown, its copies are counted whatever the detector
scored them (`for_copies`). The detector scores one drawing's copies differently
at different sizes and encodings (0.28 to 0.56 for the copies of one mandarine on
the held-out site), so copy-by-copy verdicts made a shown picture's counts leave
out some of its own pages. A shown member the detector never looked at has no
verdict to lend: a copy it found adult stays hidden. Adult words and blocklisted
hosts stay per copy: they are about pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from pixsearch.index.store import NUDENET, Filters, ReadStore, StoreQuery, TextQuery
from pixsearch.records import ImageDocument, Occurrence
from pixsearch.search.scope import place_rule

MAX_MEMBERS = 1000  # members of one group read to count it (groups are rarely over 20)


@dataclass(frozen=True, slots=True)
class Counts:
    sizes: int  # availableSizesCount
    pages: int  # pagesIncludingCount


@lru_cache(maxsize=16)
def _alone(pages: int) -> Counts:
    """The counts of a group of one size on `pages` pages (shared: a search asks 35 times)."""
    return Counts(sizes=1, pages=max(pages, 1))


ONE = Counts(sizes=1, pages=1)  # what a result whose group went uncounted shows


def for_copies(filters: Filters, shown: ImageDocument) -> Filters:
    """`filters` for the other copies of `shown`, a picture shown under `filters`: the
    same, but the nudity score no longer decides when the detector looked at `shown`
    (see the module's docstring)."""
    if "image" not in filters.exclude_adult or NUDENET not in shown.facts.analyzed:
        return filters
    kinds = tuple(kind for kind in filters.exclude_adult if kind != "image")
    return replace(filters, exclude_adult=kinds)


def page_key(doc: ImageDocument, place: Occurrence) -> str:
    """A page's identity: its URL; a local file is its own page (copies in two folders once)."""
    return place.host_page_url or f"local:{doc.doc_id}"


def shown_places(
    filters: Filters, docs: Iterable[ImageDocument]
) -> list[tuple[ImageDocument, Occurrence]]:
    """Every (member, place) whose place holds the page-level filters, in order."""
    holds = place_rule(filters).holds
    return [(d, o) for d in docs for o in d.occurrences if holds(d, o)]


def count(places: Sequence[tuple[ImageDocument, Occurrence]]) -> Counts:
    sizes = {(d.facts.width, d.facts.height) for d, _ in places}
    pages = {page_key(d, o) for d, o in places}
    return Counts(sizes=max(len(sizes), 1), pages=max(len(pages), 1))


def passing(store: ReadStore, filters: Filters, doc_ids: Sequence[int]) -> set[int]:
    """Those of `doc_ids` that pass `filters` in the store (file-level filters, safeSearch)."""
    if not doc_ids:
        return set()
    check = StoreQuery(
        text=TextQuery(), filters=filters, doc_ids=tuple(doc_ids), limit=len(doc_ids), count=False
    )
    return {hit.doc_id for hit in store.search(check).hits}


def visible_members(
    store: ReadStore,
    filters: Filters,
    group_ids: Sequence[int],
    known: dict[int, ImageDocument],
) -> dict[int, list[ImageDocument]]:
    """Per group, its members a caller under `filters` may see, largest first.

    `known` are documents already read (and already checked: the results); a group of
    one known member costs one member lookup and nothing else.
    """
    members = {g: store.group_members(g, limit=MAX_MEMBERS) for g in group_ids}
    unknown = sorted({m for ids in members.values() for m in ids if m not in known})
    allowed = passing(store, filters, unknown)
    docs = dict(known)
    if allowed:
        docs.update((d.doc_id, d) for d in store.get(sorted(allowed)))
    out = {
        g: [docs[m] for m in ids if m in docs and (m in known or m in allowed)]
        for g, ids in members.items()
    }
    for doc in known.values():  # a member past the lookup's limit is still counted
        if doc.group_id in out and all(d.doc_id != doc.doc_id for d in out[doc.group_id]):
            out[doc.group_id].append(doc)
    return out


def group_counts(
    store: ReadStore, filters: Filters, shown: Sequence[ImageDocument]
) -> dict[int, Counts]:
    """Counts of the groups of `shown` (documents that pass `filters`) under `filters`,
    their other members judged by `for_copies`.

    The store's whole-group counts (cached per generation) settle most groups at no
    cost: when the group has one size and no page beyond the shown document's own,
    and every place of it holds the filters, no other member can add a size or a
    page. Only the other groups have their members read and checked.
    """
    whole = store.group_counts(sorted({d.group_id for d in shown}))
    out: dict[int, Counts] = {}
    rest: list[ImageDocument] = []
    rule = place_rule(filters)
    holds = None if rule.everywhere else rule.holds
    for doc in shown:
        occurrences = doc.occurrences
        pages = 1 if len(occurrences) == 1 else len({page_key(doc, o) for o in occurrences})
        alone = whole.get(doc.group_id, (1, pages)) == (1, pages)
        if alone and (holds is None or all(holds(doc, o) for o in occurrences)):
            out[doc.group_id] = _alone(pages)
        else:
            rest.append(doc)
    by_filters: dict[Filters, list[ImageDocument]] = {}
    for doc in rest:
        by_filters.setdefault(for_copies(filters, doc), []).append(doc)
    for copies, docs in by_filters.items():  # at most two: most requests make one call
        known = {d.doc_id: d for d in docs}
        groups = visible_members(store, copies, sorted({d.group_id for d in docs}), known)
        out.update((g, count(shown_places(filters, members))) for g, members in groups.items())
    return out
