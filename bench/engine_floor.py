"""How much of a pixsearch search is the engine, and what is left for the rest (issue 17).

    python bench/engine_floor.py --docs 100000 --dir .bench/search-100k-r [--rounds 3]
        [--clock cpu|wall]

search_bench.py compares the whole in-process search with a bare Tantivy index.
This splits the pixsearch side, on the same queries and index, into what any
search with pixsearch's ranking must do and the rest:

- "engine": the Tantivy query the service asks for the first page, built by the
  translator (cached word parts) and searched for the rerank window (100 hits),
  not counted (in search_bench's timed passes the total is already kept);
- "engine + window": that, and the window read from its fast fields into hits;
- "whole": SearchService.search, as search_bench times it;
- "bare": the bare engine's answer with its count, search_bench's baseline.

Each round times all four back to back, after one unmeasured pass each. The
last two columns are what the rest of a search (rerank, collapse, 35 documents,
group counts, results) takes now, whole − (engine + window), and what the ≤ 2.5×
target would leave it, 2.5 × bare − (engine + window). Medians differ from
differences of medians a little; read the columns as sizes, not as a sum.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bare_tantivy import BareQuery
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.store import Filters, StoreQuery
from pixsearch.index.textindex import _hits
from pixsearch.search.service import SearchRequest, SearchService
from search_bench import CLOCKS, COUNT, FILTERS, prepared, timed

TARGET = 2.5


class Asked:
    """The store as the service sees it, noting every text query it is asked."""

    def __init__(self, store: EmbeddedStore) -> None:
        self.store = store
        self.queries: list[StoreQuery] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def search(self, query: StoreQuery) -> Any:
        self.queries.append(query)
        return self.store.search(query)


def first_queries(store: EmbeddedStore, filters: Filters, queries: list[str]) -> list[StoreQuery]:
    """The store query each search's first page asks, as the service builds it."""
    asked = Asked(store)
    service = SearchService(asked)  # type: ignore[arg-type]  # duck-typed on purpose
    out = []
    for q in queries:
        asked.queries.clear()
        service.search(SearchRequest(q=q, filters=filters, count=COUNT))
        out.append(asked.queries[0])
    return out


def split_round(root: Path, bare: Any, queries: list[str], clock: str) -> list[list[str]]:
    store = EmbeddedStore(root, result_cache=0)
    rows = []
    for label, filters, large, color in (
        ("no filter", Filters(), False, None),
        ("2 filters", FILTERS, True, "blue"),
    ):
        times = split_times(store, bare, filters, large, color, queries, clock)
        p50 = {name: p[0] for name, p in times.items()}
        rest = p50["whole"] - p50["engine + window"]
        budget = TARGET * p50["bare"] - p50["engine + window"]
        rows.append(
            [label, *(f"{p50[name]:.3f}" for name in times), f"{rest:.3f}", f"{budget:.3f}"]
        )
    return rows


def split_times(
    store: EmbeddedStore,
    bare: Any,
    filters: Filters,
    large: bool,
    color: str | None,
    queries: list[str],
    clock: str,
) -> dict[str, tuple[float, float]]:
    """p50 and p99 of each part, for one filter setting."""
    service = SearchService(store)
    text = store.text
    asked = dict(zip(queries, first_queries(store, filters, queries), strict=True))

    def engine(q: str, window: bool = False) -> object:
        query = asked[q]
        searcher = text.index.searcher()
        found = searcher.search(text.translate.build(query), query.limit, count=False)
        return _hits(searcher, found.hits, text.version) if window else found

    searches = {
        "engine": engine,
        "engine + window": lambda q: engine(q, True),
        "whole": lambda q: service.search(SearchRequest(q=q, filters=filters, count=COUNT)),
        "bare": lambda q: bare.search(BareQuery.of(q, large=large, color=color), COUNT),
    }
    return {name: timed(search, queries, CLOCKS[clock]) for name, search in searches.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    args = parser.parse_args()
    root, bare, queries = prepared(args.dir, args.docs, args.queries)
    head = ["filters", "engine", "engine + window", "whole", "bare", "rest now", "rest allowed"]
    print(f"\n{args.docs:,} documents, {args.queries} queries, p50 ms, clock {args.clock}")
    print("round  " + "".join(f"{h:>18}" for h in head))
    by_label: dict[str, list[tuple[float, float]]] = {}
    for n in range(1, args.rounds + 1):
        for row in split_round(root, bare, queries, args.clock):
            print(f"{n:<7}" + "".join(f"{cell:>18}" for cell in row))
            by_label.setdefault(row[0], []).append((float(row[5]), float(row[6])))
    for label, pairs in by_label.items():
        rest = statistics.median(r for r, _ in pairs)
        allowed = statistics.median(a for _, a in pairs)
        print(
            f"{label}: the rest of a search takes {rest:.3f} ms at p50; {TARGET}× bare "
            f"leaves it {allowed:.3f} ms (medians of {len(pairs)} rounds)"
        )


if __name__ == "__main__":
    main()
