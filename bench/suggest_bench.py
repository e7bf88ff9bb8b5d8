"""Cost of spelling and suggestions at scale, and how many suggestions return results.

    python bench/suggest_bench.py [--dir .bench/search-1000000] [--queries 300] [--verify 100]
        [--http-settle 60] [--fresh] [--no-http] [--dump FILE]

Reuses the index search_bench.py built (it must exist; nothing is loaded here)
and the same query generator. The vocabulary of the index is built once (its
build time is reported) and cached in the index's vocabulary/ folder, where
the server finds it. Latency is measured in-process (bare search vs search
with spelling and every suggestion list) and over HTTP (one server with
PIXSEARCH_SUGGESTIONS=false, one with it on), each after one unmeasured pass
over the same queries. Then every suggestion of the first --verify answers is
run as its own query with the same filters, to count those that find images.

--fresh warms up (and settles) on other queries than those it times, so that
nothing kept for a query (probe answers, decoded results) is reused: the cost
of queries asked for the first time since the last commit.

--dump FILE writes, instead of timing, every query's spelling and suggestion
lists in-process (text, display and thumbnail image of each), one JSON line a
query: run it on two versions of the code and `cmp` the files to show that a
change kept what is suggested.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.search_bench import Corpus, percentiles
from tests.conftest import start_server, stop_server

from pixsearch.index import vocabulary
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.search.service import SearchRequest, SearchService
from pixsearch.search.spelling import Speller
from pixsearch.search.suggest import Suggestion, SuggestionService
from pixsearch.search.vocabulary import VocabularyHolder
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb

LISTS = ("queryExpansions", "similarTerms", "relatedSearches")


def build_vocabulary(root: Path) -> VocabularyHolder:
    # Whole answers not kept (`result_cache`), as in the figures before it existed: the
    # timed queries were asked in the warm-up, and the page's search would skip the engine.
    store = EmbeddedStore(root, result_cache=0)
    path = root / "vocabulary" / f"vocabulary-{store.generation}.npz"
    if not path.exists():
        started = time.perf_counter()
        vocab = vocabulary.build(store)
        built = time.perf_counter() - started
        vocabulary.save(vocab, path)
        started = time.perf_counter()
        Speller(vocab)
        print(
            f"vocabulary: {len(vocab.terms):,} words, built in {built:.1f} s, "
            f"spelling index in {time.perf_counter() - started:.1f} s"
        )
    holder = VocabularyHolder(store, vocabulary.VocabularyCache(store, root / "vocabulary"))
    holder._build()  # load the cached file now, not in the background
    return holder


def services(root: Path) -> tuple[SearchService, SuggestionService]:
    holder = build_vocabulary(root)
    service = SearchService(holder.store)
    suggestions = SuggestionService(service, holder)
    holder._build()  # the listener now indexes spelling too
    return service, suggestions


def dump(root: Path, queries: list[str], path: Path) -> None:
    """Each query's spelling and suggestion lists, one JSON line a query."""
    _, suggestions = services(root)

    def listed(items: list[Suggestion]) -> list[list[str | None]]:
        return [[s.text, s.display, s.image.image_id if s.image else None] for s in items]

    with path.open("w") as out:
        for q in queries:
            request = SearchRequest(q=q)
            page, spelling = suggestions.search(request)
            found = suggestions.suggest(request, page, spelling.altered or q, market="en-US")
            line = {
                "q": q,
                "altered": spelling.altered,
                "override": spelling.override,
                "results": [r.doc.image_id for r in page.results],
                "expansions": listed(found.expansions),
                "pivots": [[p, listed(ss)] for p, ss in found.pivots],
                "similar": listed(found.similar),
                "related": listed(found.related),
            }
            out.write(json.dumps(line) + "\n")


def time_in_process(
    root: Path, queries: list[str], warm: list[str]
) -> dict[str, tuple[float, float]]:
    service, suggestions = services(root)

    def bare(q: str) -> None:
        service.search(SearchRequest(q=q))

    def full(q: str) -> None:
        request = SearchRequest(q=q)
        page, spelling = suggestions.search(request)
        suggestions.suggest(request, page, spelling.altered or q, market="en-US")

    return interleaved({"bare": bare, "suggestions": full}, queries, warm)


def interleaved(
    runs: dict, queries: list[str], warm: list[str] | None = None
) -> dict[str, tuple[float, float]]:
    """p50/p99 of each run over the queries, alternating runs query by query.

    Alternating, after one unmeasured pass (over `warm`, by default the same
    queries), keeps a change in machine load (this machine is shared) from
    landing on one side of the comparison only.
    """
    for q in queries if warm is None else warm:
        for run in runs.values():
            run(q)
    samples: dict[str, list[float]] = {label: [] for label in runs}
    for q in queries:
        for label, run in runs.items():
            started = time.perf_counter()
            run(q)
            samples[label].append(time.perf_counter() - started)
    return {label: percentiles(values) for label, values in samples.items()}


def time_http(
    root: Path, queries: list[str], warm: list[str], verify: int, settle: float = 0.0
) -> tuple[dict, tuple[int, int]]:
    """Two servers on the same index, suggestions off and on, asked in turn; after
    `settle` seconds of unmeasured rounds over `warm` (a server counts its index's site
    chrome when it starts: about 40 s at 1,000,000 documents)."""
    key = SqliteKeyStore(ServiceDb(root / "service.db")).create(f"bench-{time.time_ns()}")
    headers = {"Ocp-Apim-Subscription-Key": key}
    servers = {}
    try:
        for label, flag in (("bare", "false"), ("suggestions", "true")):
            os.environ["PIXSEARCH_SUGGESTIONS"] = flag
            os.environ["PIXSEARCH_RESULT_CACHE"] = "0"  # as build_vocabulary says
            servers[label] = start_server(root)
        clients = {
            label: httpx.Client(base_url=base, headers=headers, timeout=60)
            for label, (_, base) in servers.items()
        }
        started = time.monotonic()
        wait_for_suggestions(clients["suggestions"], queries)

        def asker(client: httpx.Client):  # type: ignore[no-untyped-def]
            return lambda q: client.get("/v7.0/images/search", params={"q": q}).raise_for_status()

        askers = {label: asker(c) for label, c in clients.items()}
        while time.monotonic() - started < settle:
            interleaved(askers, warm)
        out = interleaved(askers, queries, warm)
        answers = [
            clients["suggestions"].get("/v7.0/images/search", params={"q": q}).json()
            for q in queries[:verify]
        ]
        counted = verify_suggestions(clients["suggestions"], answers)
    finally:
        for process, _ in servers.values():
            stop_server(process)
    return out, counted


def wait_for_suggestions(client: httpx.Client, queries: list[str]) -> None:
    """The server loads the vocabulary and indexes spelling in the background: wait for it."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        body = client.get("/v7.0/images/search", params={"q": queries[0]}).json()
        if any(body.get(name) for name in (*LISTS, "pivotSuggestions")):
            time.sleep(1)  # the spelling index is built just before the vocabulary is shown
            return
        time.sleep(0.5)
    raise RuntimeError("no suggestions after 300 s")


def verify_suggestions(client: httpx.Client, answers: list[dict]) -> tuple[int, int]:
    """(suggestions that return images, suggestions) over the given answers."""
    good = total = 0
    for body in answers:
        queries = [q for name in LISTS for q in body.get(name, [])]
        queries += [q for p in body.get("pivotSuggestions", []) for q in p["suggestions"]]
        for query in queries:
            total += 1
            found = client.get("/v7.0/images/search", params={"q": query["text"], "count": 1})
            good += bool(found.json()["value"])
    return good, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".bench/search-1000000"))
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--verify", type=int, default=100)
    parser.add_argument(
        "--http-settle", type=float, default=0.0, help="seconds of unmeasured HTTP rounds first"
    )
    parser.add_argument("--no-http", action="store_true", help="time in-process only")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="warm up on other queries than those timed (what is kept per query never hits)",
    )
    parser.add_argument("--dump", type=Path, help="write every query's suggestions, no timing")
    args = parser.parse_args()
    if not (args.dir / "meta.db").exists():
        sys.exit(f"{args.dir} holds no index: run bench/search_bench.py first")
    corpus = Corpus()
    queries = [corpus.query() for _ in range(args.queries)]
    if args.dump:
        dump(args.dir, queries, args.dump)
        return
    warm = [corpus.query() for _ in range(args.queries)] if args.fresh else queries
    rows = [("in-process", time_in_process(args.dir, queries, warm))]
    good = total = 0
    if not args.no_http:
        http, (good, total) = time_http(args.dir, queries, warm, args.verify, args.http_settle)
        rows.append(("HTTP", http))
    print(f"\n{args.queries} queries, count=35")
    print(f"{'path':<12}{'answer':<14}{'p50 ms':>9}{'p99 ms':>9}")
    for path, results in rows:
        for label, (p50, p99) in results.items():
            print(f"{path:<12}{label:<14}{p50:>9.2f}{p99:>9.2f}")
    if total:
        print(f"\nsuggestions returning images: {good} / {total} ({100 * good / total:.1f}%)")


if __name__ == "__main__":
    main()
