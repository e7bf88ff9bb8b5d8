"""What counting every match costs the text search, and what keeping totals saves (issue 17).

    python bench/count_bench.py [--dir .bench/search-1m] [--requests 800] [--rounds 6]

Two measurements on search_bench.py's synthetic index, each side by side in one
process so that the machine's load falls on both:

  - the API's request mix (http_load.py's requests: 1-3 words, 0-2 filters, safe
    search on, first to third page) through the search service, CPU per search,
    rounds alternating between totals kept for the commit (textindex.Totals) and
    every search counting its matches as before;
  - one-word queries with no filter straight on Tantivy: the word's own query
    against the same query inside a one-clause boolean query (what the
    translator built before), with and without counting.

The server counts its site chrome in a thread for about a minute after it opens a
1M index; the timed rounds start after that.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tantivy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from starlette.datastructures import QueryParams

from http_load import requests
from pixsearch.api.params import parse_search
from pixsearch.config import Settings
from pixsearch.index import textindex
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.wiring import build_searcher
from search_bench import Corpus

CHROME_SECONDS = 100  # the site-chrome count of a 1M index runs beside the first searches


def totals_kept_or_counted(root: Path, n: int, rounds: int) -> dict[str, list[float]]:
    """CPU ms per search of the request mix, by round, totals kept and not."""
    # Whole answers not kept: each round's searches must reach the engine to count or not.
    searcher = build_searcher(Settings.load(index_dir=root, result_cache=0))
    todo = [
        parse_search(QueryParams(p)).request for p in requests(Corpus().queries(2000, seed=11), 12)
    ]
    todo = todo[:n]
    for request in todo:  # every query seen once: kept totals exist from here on
        searcher.search.search(request)
    time.sleep(CHROME_SECONDS)
    kept = textindex.Totals.get
    out: dict[str, list[float]] = {"kept": [], "counted": []}
    for round_ in range(rounds):
        mode = "kept" if round_ % 2 else "counted"
        textindex.Totals.get = kept if mode == "kept" else _never  # type: ignore[method-assign]
        started = time.process_time()
        for request in todo:
            searcher.search.search(request)
        out[mode].append(1000 * (time.process_time() - started) / len(todo))
    textindex.Totals.get = kept  # type: ignore[method-assign]
    return out


def _never(self: Any, stamp: float, key: Any) -> None:
    return None


def one_word_queries(root: Path, rounds: int) -> dict[str, list[float]]:
    """Mean wall ms of one-word searches (top 105), by form and counting."""
    text = EmbeddedStore(root).text
    words = [q for q in Corpus().queries(300, seed=11) if " " not in q]
    searcher = text.index.searcher()

    def term(word: str) -> tantivy.Query:
        return tantivy.Query.term_query(text.schema, "body", word)

    def wrapped(word: str) -> tantivy.Query:
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, term(word))])

    forms: dict[str, tuple[Callable[[str], tantivy.Query], bool]] = {
        "boolean, counted": (wrapped, True),
        "term, counted": (term, True),
        "boolean, not counted": (wrapped, False),
        "term, not counted": (term, False),
    }
    out: dict[str, list[float]] = {label: [] for label in forms}
    for _ in range(rounds):
        for label, (make, count) in forms.items():
            took = []
            for word in words:
                query = make(word)
                started = time.perf_counter()
                searcher.search(query, 105, count=count)
                took.append(time.perf_counter() - started)
            out[label].append(1000 * statistics.mean(took))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=Path(".bench/search-1m"))
    parser.add_argument("--requests", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    if not (args.dir / "meta.db").exists():
        sys.exit(f"{args.dir} holds no index: run bench/search_bench.py first")
    words = one_word_queries(args.dir, args.rounds // 2)
    mix = totals_kept_or_counted(args.dir, args.requests, args.rounds)
    print(f"\nrequest mix, {args.requests} searches a round, CPU ms per search")
    for label, values in mix.items():
        shown = " ".join(f"{v:.2f}" for v in values)
        print(f"  {label:<24}{statistics.median(values):6.2f}   rounds: {shown}")
    print("\none-word queries, no filter, top 105: mean wall ms per search")
    for label, values in words.items():
        shown = " ".join(f"{v:.2f}" for v in values)
        print(f"  {label:<24}{statistics.median(values):6.2f}   rounds: {shown}")


if __name__ == "__main__":
    main()
