"""Cost of the multi-tenant layer: key check plus rate limiting, and custom-instance slices.

    python bench/auth_bench.py [--dir .bench/search-1000000] [--calls 20000] [--queries 300]

1. Auth + rate limit, in-process: `authorize()` on a real Starlette request with
   a key that has a QPS limit and a monthly quota, so every call runs the whole
   path (hashed lookup, shared-state transaction in SQLite, usage row). Keys and
   counters live in a temporary service.db; with --processes N the same number
   of calls runs in N processes at once against one database, as uvicorn
   workers do. Reports mean and p99 per call.
2. Slice filter, in-process on the existing index at --dir (read only): the
   SearchService with no filter, then narrowed to custom instances of 50 and
   500 sites (about 1% and 10% of documents), a URL-prefix slice and a slice
   with boosts. Reports p50 and p99 per search.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from starlette.requests import Request

from pixsearch.api.auth import authorize
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.store import Filters
from pixsearch.search.service import SearchRequest, SearchService
from pixsearch.tenancy.instances import Instance
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.limits import SqliteLimiter
from pixsearch.tenancy.slices import boosts_of
from pixsearch.tenancy.state import ServiceDb
from search_bench import Corpus, percentiles


def request_with(key: str) -> Request:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v7.0/images/search",
        "query_string": b"q=fox",
        "headers": [(b"ocp-apim-subscription-key", key.encode())],
    }
    return Request(scope)


def time_auth(db: Path, key: str, calls: int, with_limiter: bool) -> list[float]:
    service = ServiceDb(db)
    keys = SqliteKeyStore(service)
    limiter = SqliteLimiter(service) if with_limiter else None
    request = request_with(key)
    for _ in range(200):  # warm the key cache and SQLite's page cache
        authorize(request, keys, limiter)
    samples = []
    for _ in range(calls):
        t0 = time.perf_counter()
        authorize(request, keys, limiter)
        samples.append(time.perf_counter() - t0)
    return samples


def _worker(args: tuple[Path, str, int]) -> list[float]:
    db, key, calls = args
    return time_auth(db, key, calls, True)


def auth_rows(calls: int, processes: int) -> list[tuple[str, float, float]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "service.db"
        key = SqliteKeyStore(ServiceDb(db)).create("bench", qps=10_000_000, monthly_quota=10**12)
        for label, limited in (("key check only", False), ("key + rate limit", True)):
            samples = time_auth(db, key, calls, limited)
            rows.append(
                (label, statistics.mean(samples) * 1e6, percentiles(samples)[1] * 1e3)
            )  # ms → µs
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            parts = pool.map(_worker, [(db, key, calls // processes)] * processes)
        samples = [s for part in parts for s in part]
        label = f"key + rate limit, {processes} procs"
        rows.append(
            (label, statistics.mean(samples) * 1e6, percentiles(samples)[1] * 1e3)
        )  # ms → µs
    return rows


def slices() -> dict[str, Instance | None]:
    return {
        "no slice": None,
        "50 sites (~1%)": Instance("s50", sites=tuple(f"site{i}.example" for i in range(50))),
        "500 sites (~10%)": Instance("s500", sites=tuple(f"site{i}.example" for i in range(500))),
        "20 URL prefixes": Instance(
            "p20", url_prefixes=tuple(f"site{i}.example/p/" for i in range(20))
        ),
        "500 sites + boosts": Instance(
            "b500",
            sites=tuple(f"site{i}.example" for i in range(500)),
            excluded_sites=("site7.example",),
            boosted_sites=tuple(f"site{i}.example" for i in range(10)),
            demoted_sites=tuple(f"site{i}.example" for i in range(10, 20)),
        ),
    }


def slice_rows(root: Path, queries: list[str]) -> list[tuple[str, float, float, float]]:
    service = SearchService(EmbeddedStore(root))
    rows = []
    for label, instance in slices().items():
        base = SearchRequest(q="", filters=Filters())
        if instance is not None:
            base = replace(
                base, filters=instance.slice_filters(Filters()), boosts=boosts_of(instance)
            )
        for q in queries[:20]:
            service.search(replace(base, q=q))
        samples, totals = [], []
        for q in queries:
            t0 = time.perf_counter()
            page = service.search(replace(base, q=q))
            samples.append(time.perf_counter() - t0)
            totals.append(page.total_estimated)
        p50, p99 = percentiles(samples)
        rows.append((label, p50, p99, statistics.mean(totals)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".bench") / "search-1000000")
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    print(f"auth + rate limit, {args.calls} calls (SQLite shared state)")
    print(f"{'path':<30}{'mean µs':>10}{'p99 µs':>10}")
    for label, mean_us, p99_us in auth_rows(args.calls, args.processes):
        print(f"{label:<30}{mean_us:>10.1f}{p99_us:>10.1f}")
    if not (args.dir / "meta.db").exists():
        print(f"\nno index at {args.dir}: skipping the slice benchmark")
        return
    corpus = Corpus()
    queries = [corpus.query() for _ in range(args.queries)]
    print(f"\nslice filter on {args.dir}, {args.queries} queries, count=35")
    print(f"{'slice':<22}{'p50 ms':>9}{'p99 ms':>9}{'mean matches':>14}")
    for label, p50, p99, matches in slice_rows(args.dir, queries):
        print(f"{label:<22}{p50:>9.2f}{p99:>9.2f}{matches:>14,.0f}")


if __name__ == "__main__":
    main()
