"""CPU a search costs when its query is new: in-process, on search_bench.py's index.

    python bench/fresh_search_bench.py [--dir .bench/search-1m] [--warm 1000]
        [--queries 400] [--rounds 3]

search_bench.py times the same 300 queries round after round, so every page's
documents and group counts are cached after the first. Traffic is mostly new
queries: this asks --warm queries first (unmeasured), then each round --queries
new ones, each for its first and second page, with whole answers not kept
(`result_cache` 0), and prints the process's CPU time per search for each round.
The queries come from search_bench's seeded generator, so two code versions
(PYTHONPATH=<old tree>/src) ask the same ones: run them in turn and compare.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pixsearch
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.search.service import SearchRequest, SearchService
from search_bench import Corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".bench/search-1m"))
    parser.add_argument("--warm", type=int, default=1000, help="queries asked first, unmeasured")
    parser.add_argument("--queries", type=int, default=400, help="new queries a round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not (args.dir / "meta.db").exists():
        sys.exit(f"{args.dir} holds no index: run bench/search_bench.py first")
    service = SearchService(EmbeddedStore(args.dir, result_cache=0))
    corpus = Corpus()

    def ask(queries: int) -> None:
        for _ in range(queries):
            q = corpus.query()
            for offset in (0, 35):
                service.search(SearchRequest(q=q, offset=offset))

    ask(args.warm)
    costs = []
    for _ in range(args.rounds):
        started = time.process_time()
        ask(args.queries)
        costs.append((time.process_time() - started) / (2 * args.queries) * 1e3)
    tree = Path(pixsearch.__file__).resolve().parents[1]
    print(f"{tree}: CPU ms a search, by round: {' / '.join(f'{c:.3f}' for c in costs)}")


if __name__ == "__main__":
    main()
