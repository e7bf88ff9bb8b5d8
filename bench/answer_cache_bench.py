"""Kept search answers (`result_cache`): their memory, their cost against a search, and how
much of http_load's request draws repeat.

    python bench/answer_cache_bench.py [--dir .bench/search-1m] [--queries 300]

Memory: tracemalloc over the answers kept for `--queries` top-100 searches (keys
included), per answer. Cost: CPU a search takes when searched and when kept. Draws:
for http_load's mix (2,000 variants) and its `--requests 40000 --fresh` draw, the
distinct requests and queries among the first N requests, and how many of the fresh
window's requests its warm-up draw also asks.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_load import requests
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.store import StoreQuery
from pixsearch.search.query import parse_query
from search_bench import Corpus

WINDOW = 15_000  # about the requests of a 30 s http_load window at 1M


def kept_answers(root: Path, n: int) -> None:
    store = EmbeddedStore(root)
    queries = list(
        dict.fromkeys(
            StoreQuery(text=parse_query(q).text, limit=100) for q in Corpus().queries(n, seed=11)
        )
    )
    uncached = EmbeddedStore(root, result_cache=0)
    for query in queries:  # warm: index pages, query parts
        uncached.search(query)
    started = time.process_time()
    for query in queries:
        uncached.search(query)
    searched = (time.process_time() - started) / len(queries)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for query in queries:
        store.search(query)
    size = (tracemalloc.get_traced_memory()[0] - before) / len(queries)
    tracemalloc.stop()
    started = time.process_time()
    for _ in range(3):
        for query in queries:
            store.search(query)
    kept = (time.process_time() - started) / len(queries) / 3
    print(
        f"{len(queries)} answers kept: {size / 1024:.1f} KiB each (key included); "
        f"CPU a search: searched {searched * 1e3:.2f} ms, kept {kept * 1e3:.3f} ms"
    )


def draws() -> None:
    corpus = Corpus()

    def key(params: dict[str, str]) -> tuple[tuple[str, str], ...]:
        return tuple(sorted(params.items()))

    for label, n in (("http_load's mix", 2000), ("--requests 40000 --fresh", 40000)):
        todo = requests(corpus.queries(n, seed=11), seed=12)
        cycled = [todo[i % len(todo)] for i in range(WINDOW)]
        print(
            f"{label}: first {WINDOW:,} requests hold {len({key(p) for p in cycled}):,} "
            f"distinct requests, {len({p['q'] for p in cycled}):,} distinct queries"
        )
    warm = {key(p) for p in requests(corpus.queries(2000, seed=21), seed=22)}
    fresh = requests(corpus.queries(40000, seed=11), seed=12)[:WINDOW]
    print(f"fresh window's requests also in its warm-up: {sum(key(p) in warm for p in fresh):,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".bench/search-1m"))
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    kept_answers(args.dir, args.queries)
    draws()


if __name__ == "__main__":
    main()
