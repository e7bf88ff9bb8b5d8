"""Similar images under a custom slice: is the page shown inside it, are the counts right?

    python bench/similar_place.py --index .bench/site/index [--pictures 200] [--prefix /gallery/]

Reads an index crawled by bench/quality_site.py (nothing here is tuned on it). A
custom instance's slice is one URL prefix of the site (its gallery pages, by
default); for a seeded sample of the pictures inside it, SimilarImages is asked
as /images/details asks it under that instance's token (search/visual.py's
scope: safeSearch Moderate and the slice) and every neighbour is judged:

* its hostPageUrl lies inside the slice;
* pagesIncludingCount / availableSizesCount equal a brute-force count over every
  document of its near-duplicate group that the request may see (the store's own
  filter check: safeSearch hides some clip art that nudenet scores as adult): the
  distinct pages inside the slice, and the distinct sizes of the members having one.

"Before" is what search/similar.py showed until issue 16's place rule reached it:
the member's first web page and the store's whole-group counts. CPU seconds of both
are reported (the before figure is the store calls it made: similar, get, counts).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.store import Filters, ReadStore, StoreQuery, TextQuery
from pixsearch.records import ImageDocument, Occurrence
from pixsearch.search.adult import AdultPolicy
from pixsearch.search.scope import scoped_filters
from pixsearch.search.similar import MAX_SIMILAR, MIN_SIMILARITY, SimilarFinder
from pixsearch.tenancy.instances import parse_instance

Shown = tuple[int, str, int, int]  # doc_id, hostPageUrl, pages, sizes


def before(store: ReadStore, vector: np.ndarray, filters: Filters, own: int) -> list[Shown]:
    hits = store.similar(vector, k=MAX_SIMILAR, filters=filters, exclude_group=own)
    hits = [h for h in hits if h.score >= MIN_SIMILARITY]
    docs = {d.doc_id: d for d in store.get([h.doc_id for h in hits])}
    counts = store.group_counts([h.group_id for h in hits])
    out = []
    for hit in hits:
        doc = docs[hit.doc_id]
        page = next((o for o in doc.occurrences if o.host_page_url), doc.occurrences[0])
        sizes, pages = counts.get(hit.group_id, (1, 1))
        out.append((doc.doc_id, page.host_page_url or "", pages, sizes))
    return out


def after(store: ReadStore, vector: np.ndarray, filters: Filters, own: int) -> list[Shown]:
    found = SimilarFinder(store).images(vector, filters=filters, exclude_group=own)
    return [(n.doc.doc_id, n.occurrence.host_page_url or "", n.pages, n.sizes) for n in found]


def visible(store: ReadStore, filters: Filters, docs: list[ImageDocument]) -> set[int]:
    """The documents a request under `filters` may see, by one store query over all."""
    ids = tuple(d.doc_id for d in docs)
    check = StoreQuery(text=TextQuery(), filters=filters, doc_ids=ids, limit=len(ids), count=False)
    return {hit.doc_id for hit in store.search(check).hits}


def truth(
    groups: dict[int, list[ImageDocument]], seen: set[int], inside: str
) -> dict[int, tuple[int, int]]:
    """Per group: (pages inside the slice, sizes of the members with one), brute force."""
    out = {}
    for group, members in groups.items():
        pages: set[str] = set()
        sizes: set[tuple[int, int]] = set()
        for doc in (m for m in members if m.doc_id in seen):
            held: list[Occurrence] = [
                o for o in doc.occurrences if (o.host_page_url or "").startswith(inside)
            ]
            pages.update(o.host_page_url or "" for o in held)
            if held:
                sizes.add((doc.facts.width, doc.facts.height))
        out[group] = (len(pages), len(sizes))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=Path(".bench/site/index"))
    parser.add_argument("--pictures", type=int, default=200)
    parser.add_argument("--prefix", default="/gallery/")
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()
    store = EmbeddedStore(args.index)
    docs = store.get(sorted(store.changed_since(0)))
    by_id = {d.doc_id: d for d in docs}
    groups: dict[int, list[ImageDocument]] = defaultdict(list)
    for doc in docs:
        groups[doc.group_id].append(doc)
    page = next(o.host_page_url for d in docs for o in d.occurrences if o.host_page_url)
    origin = page.split("/", 3)[:3]
    inside = "/".join(origin) + args.prefix
    instance = parse_instance({"config_id": "slice", "url_prefixes": [inside]})
    filters = scoped_filters(Filters(), AdultPolicy(), safe_search="Moderate", within=instance)
    counted = truth(groups, visible(store, filters, docs), inside)
    sample = [
        d for d in docs if any((o.host_page_url or "").startswith(inside) for o in d.occurrences)
    ]
    sample = random.Random(args.seed).sample(sample, min(args.pictures, len(sample)))
    for name, find in (("before", before), ("after", after)):
        shown = outside = wrong = 0
        cpu = 0.0
        for doc in sample:
            vector = store.vector(doc.doc_id)
            if vector is None:
                continue
            start = time.process_time()
            found = find(store, vector, filters, doc.group_id)
            cpu += time.process_time() - start
            for doc_id, url, pages, sizes in found:
                shown += 1
                outside += not url.startswith(inside)
                wrong += (pages, sizes) != counted[by_id[doc_id].group_id]
        print(
            f"{name}: {len(sample)} pictures, {shown} similar images shown; "
            f"page outside the slice {outside} ({outside / max(shown, 1):.1%}); "
            f"counts wrong {wrong} ({wrong / max(shown, 1):.1%}); "
            f"CPU {1000 * cpu / max(len(sample), 1):.2f} ms a picture"
        )
    store.close()


if __name__ == "__main__":
    main()
