"""Search latency at scale: load N synthetic documents, then time queries.

    python bench/search_bench.py --docs 1000000 [--dir .bench/search-1m] [--queries 300]
        [--rounds 3] [--clock wall|cpu] [--profile 25] [--no-http] [--http-settle 60]
        [--answers FILE]

Documents go straight into the embedded store (no images, no thumbnails), with
Zipf-distributed words and realistic field lengths and attribute spreads. The
index is kept in --dir and reused when it already holds --docs documents.
Latency is measured in-process (the SearchService, SQLite fetch and collapse
included) and over HTTP (a real `pixsearch serve` process, one client), with
and without two filters, each after one unmeasured pass over the same queries
so that the index's pages are in the OS cache, as they are on a serving machine.

The same documents also go into a bare Tantivy index (bench/bare_tantivy.py:
their body text folded into one field, the filtered attributes as fast fields)
that answers the same queries with no pixsearch code on the query path. Each
round times pixsearch and the bare engine back to back on the same queries, so
the ratio pixsearch ÷ bare holds even on a busy machine; --rounds repeats that
and reports every round. --profile N prints the N costliest functions of the
in-process loop (cProfile). --answers FILE writes every answer of a fixed set of
requests (the queries under several filter settings, three pages each, explanations
on the first) one per line, field by field, and stops: run it with the old code and
the new (PYTHONPATH=<old tree>/src) and compare the files to prove a change kept
the answers.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import start_server, stop_server

from bare_tantivy import BareIndex, BareQuery
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.store import Filters
from pixsearch.records import COLOR_NAMES, ImageDocument, ImageFacts, Occurrence
from pixsearch.search.service import SearchRequest, SearchService
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb

VOCABULARY = 60_000
FIELD_LENGTHS = {
    "caption": (4, 16),
    "name": (2, 7),
    "keywords": (2, 9),
    "context": (15, 60),
    "page_title": (3, 11),
    "url_words": (2, 6),
}
LICENSES = [None] * 7 + ["cc-by", "cc0", "cc-by-sa", "cc-by-nc"]


def syllable_words(n: int, rng: np.random.Generator) -> list[str]:
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    words: set[str] = set()
    while len(words) < n:
        k = int(rng.integers(2, 5))
        words.add("".join(consonants[rng.integers(18)] + vowels[rng.integers(5)] for _ in range(k)))
    return sorted(words)


class Corpus:
    def __init__(self, seed: int = 1) -> None:
        self.rng = np.random.default_rng(seed)
        self.words = syllable_words(VOCABULARY, self.rng)
        self.word_array = np.array(self.words, dtype=object)
        ranks = np.arange(1, VOCABULARY + 1)
        weights = 1.0 / ranks**1.07  # Zipf, as word frequencies in captions are
        self.cdf = np.cumsum(weights / weights.sum())

    def text(self, low: int, high: int) -> str:
        n = int(self.rng.integers(low, high))
        picks = np.minimum(np.searchsorted(self.cdf, self.rng.random(n)), VOCABULARY - 1)
        return " ".join(self.word_array[picks])

    def document(self, n: int, now: datetime) -> ImageDocument:
        rng = self.rng
        sha = hashlib.sha256(n.to_bytes(8, "little")).hexdigest()
        width = int(rng.choice([120, 240, 480, 640, 800, 1024, 1280, 1920, 3000]))
        height = int(width * rng.choice([0.5, 0.5625, 0.75, 1.0, 1.333, 1.5]))
        facts = ImageFacts(
            sha256=sha,
            width=width,
            height=height,
            content_size=int(width * height * rng.uniform(0.05, 0.4)),
            encoding_format=str(rng.choice(["jpeg", "jpeg", "jpeg", "png", "gif", "webp"])),
            frame_count=1,
            animated=False,
            transparent=False,
            accent_color=sha[:6].upper(),
            color_name=COLOR_NAMES[n % 12],
            monochrome=bool(rng.random() < 0.08),
            phash=int(sha[:16], 16),
            image_types=(str(rng.choice(["photo", "photo", "clipart", "line", "graphics"])),),
            thumb_width=474,
            thumb_height=int(474 * height / width),
        )
        text = {name: self.text(*bounds) for name, bounds in FIELD_LENGTHS.items()}
        host = f"site{int(rng.integers(5000))}.example"
        occurrence = Occurrence(
            source=f"https://{host}/p/{n}#img",
            content_url=f"https://{host}/i/{n}.jpg",
            host_page_url=f"https://{host}/p/{n}",
            title=text["name"],
            text=text,
            license=LICENSES[int(rng.integers(len(LICENSES)))],
        )
        first_seen = now - timedelta(days=float(rng.uniform(0, 400)))
        return ImageDocument(facts=facts, occurrences=[occurrence], first_seen=first_seen)

    def query(self) -> str:
        """1-3 words; the first drawn from the head of the distribution, like real queries."""
        n = int(self.rng.choice([1, 2, 2, 3]))
        picks = np.searchsorted(self.cdf, self.rng.random(n) * 0.9)
        return " ".join(self.words[i] for i in picks)

    def queries(self, n: int, seed: int = 7) -> list[str]:
        """1-3 words each, drawn from the head of the distribution like real queries.

        From their own generator: the same queries whether or not the index was
        just loaded (loading draws from the corpus's generator).
        """
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(n):
            picks = np.searchsorted(self.cdf, rng.random(int(rng.choice([1, 2, 2, 3]))) * 0.9)
            out.append(" ".join(self.words[i] for i in picks))
        return out


def load(root: Path, docs: int, corpus: Corpus) -> None:
    store = EmbeddedStore(root, writable=True)
    have = store.stats()["images"]
    if have >= docs:
        print(f"reusing {root}: {have} documents")
        store.close()
        return
    now = datetime.now(UTC)
    start = time.perf_counter()
    for n in range(have, docs):
        store.add(corpus.document(n, now), None)
        if (n + 1) % 100_000 == 0:
            store.commit()
            rate = (n + 1 - have) / (time.perf_counter() - start)
            print(f"  {n + 1:>9} documents  {rate:,.0f} docs/s", flush=True)
    store.commit()
    store.close()
    print(f"loaded {docs - have} documents in {time.perf_counter() - start:.0f} s")


def load_bare(path: Path, root: Path, docs: int) -> BareIndex:
    """The bare index of the documents in `root`, read back from it (reused when complete)."""
    bare = BareIndex(path)
    if len(bare) == docs:
        print(f"reusing {path}: {docs} documents")
        return bare
    store = EmbeddedStore(root)
    start = time.perf_counter()
    batch = 2_000
    bare = BareIndex.empty(path)
    bare.load(
        doc
        for first in range(1, docs + 1, batch)
        for doc in store.get(range(first, min(first + batch, docs + 1)))
    )
    print(f"bare Tantivy: loaded {len(bare)} documents in {time.perf_counter() - start:.0f} s")
    return bare


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


FILTERS = Filters(size="large", color="blue")
HTTP_FILTERS = {"size": "Large", "color": "Blue"}
COUNT = 35
Search = Callable[[str], object]


def timed(
    search: Search, queries: list[str], clock: Callable[[], float] = time.perf_counter
) -> tuple[float, float]:
    """p50 and p99 in ms over `queries`, after one unmeasured pass (a serving index is warm)."""
    for q in queries:
        search(q)
    samples = []
    for q in queries:
        t0 = clock()
        search(q)
        samples.append(clock() - t0)
    return percentiles(samples)


# --clock cpu times each query by its thread's CPU time: what it costs, without the time
# it waited for a core, which on a shared machine is most of the spread of wall times.
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def searchers(root: Path, bare: BareIndex) -> dict[str, dict[str, Search]]:
    """Per filter setting: the in-process pixsearch search and the bare engine's.

    "pixsearch" is the service as it serves, with its cache of decoded images
    (index/docrecords.py) warm after the first pass; "no image cache" decodes
    every hit of every page from its record. Neither keeps whole answers
    (`result_cache`): the rounds ask the same queries, and each must reach the
    engine, as the bare engine's do.
    """
    service = SearchService(EmbeddedStore(root, result_cache=0))
    uncached = SearchService(EmbeddedStore(root, record_cache=0, result_cache=0))

    def pixsearch(target: SearchService, filters: Filters) -> Search:
        return lambda q: target.search(SearchRequest(q=q, filters=filters, count=COUNT))

    def engine(large: bool, color: str | None, *, total: bool = True) -> Search:
        return lambda q: bare.search(BareQuery.of(q, large=large, color=color), COUNT, total=total)

    return {
        "no filter": {
            "pixsearch": pixsearch(service, Filters()),
            "no image cache": pixsearch(uncached, Filters()),
            "bare": engine(False, None),
            "bare, no count": engine(False, None, total=False),
        },
        "2 filters": {
            "pixsearch": pixsearch(service, FILTERS),
            "no image cache": pixsearch(uncached, FILTERS),
            "bare": engine(True, "blue"),
            "bare, no count": engine(True, "blue", total=False),
        },
    }


def side_by_side(
    root: Path, bare: BareIndex, queries: list[str], rounds: int, clock: str = "wall"
) -> None:
    """Each round times every searcher on the same queries, back to back; ratios per round."""
    ratios: dict[tuple[str, str], list[tuple[float, float]]] = {}
    print(f"{'round':<7}{'filters':<11}{'searcher':<22}{'p50 ms':>8}{'p99 ms':>8}")
    for n in range(1, rounds + 1):
        for label, by_name in searchers(root, bare).items():
            times = {
                name: timed(search, queries, CLOCKS[clock]) for name, search in by_name.items()
            }
            for name, (p50, p99) in times.items():
                print(f"{n:<7}{label:<11}{name:<22}{p50:>8.3f}{p99:>8.3f}")
            bare50, bare99 = times["bare"]
            for name in ("pixsearch", "no image cache"):
                p50, p99 = times[name]
                ratio = (p50 / bare50, p99 / bare99)
                ratios.setdefault((label, name), []).append(ratio)
                print(f"{n:<7}{label:<11}{name + ' ÷ bare':<22}{ratio[0]:>8.2f}{ratio[1]:>8.2f}")
    print()
    for (label, name), values in ratios.items():
        p50s = sorted(r[0] for r in values)
        p99s = sorted(r[1] for r in values)
        print(
            f"{name} ÷ bare, {label}: p50 {statistics.median(p50s):.2f} "
            f"({p50s[0]:.2f}–{p50s[-1]:.2f}), p99 {statistics.median(p99s):.2f} "
            f"({p99s[0]:.2f}–{p99s[-1]:.2f}), median and range of {rounds} rounds"
        )


def profile(root: Path, queries: list[str], top: int) -> None:
    """The costliest functions of the in-process loop, both filter settings, warm."""
    service = SearchService(EmbeddedStore(root, result_cache=0))
    requests = [SearchRequest(q=q, filters=f) for f in (Filters(), FILTERS) for q in queries]
    for request in requests:
        service.search(request)
    profiler = cProfile.Profile()
    profiler.enable()
    for request in requests:
        service.search(request)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


ANSWER_FILTERS = (
    Filters(),
    FILTERS,
    Filters(license="any"),
    Filters(published_since=datetime(2026, 1, 1, tzinfo=UTC)),
    Filters(exclude_adult=("image",)),  # safeSearch=Moderate, the API's default
)


def write_answers(root: Path, queries: list[str], out: Path) -> int:
    """Every answer to the queries under ANSWER_FILTERS (and with a site: operator), pages
    at offsets 0, 35 and 70 with explanations on the first, one repr per line."""
    service = SearchService(EmbeddedStore(root))
    # site: on the host of each query's first hit, so that the place checks run
    sited = [
        f"{q} site:{urlsplit(page.results[0].occurrence.content_url).hostname}"
        for q in queries[:50]
        if (page := service.search(SearchRequest(q=q))).results
    ]
    lines = []
    with mock.patch("time.time", return_value=1_780_000_000.0):  # freshness reads the clock
        for filters in ANSWER_FILTERS:
            lines.extend(_answers(service, filters, [*queries, *sited]))
    out.write_text("\n".join(lines) + "\n")
    return len(lines)


def _answers(service: SearchService, filters: Filters, queries: list[str]) -> list[str]:
    lines = []
    for q in queries:
        for offset in (0, COUNT, 2 * COUNT):
            request = SearchRequest(q=q, filters=filters, offset=offset, explain=offset == 0)
            lines.append(repr((request, service.search(request))))
    return lines


def time_http(
    root: Path, queries: list[str], settle: float = 0.0
) -> dict[str, tuple[float, float]]:
    """p50/p99 of one client over HTTP, with and without filters.

    With `settle` > 0 the server is first asked the queries round after round for at
    least that many seconds, each round's figures printed with the time since the
    server started: a server counts its index's site chrome when it starts (about
    40 s at 1,000,000 documents), and the measured rounds then show it settled.
    """
    key = SqliteKeyStore(ServiceDb(root / "service.db")).create(f"bench-{time.time_ns()}")
    # The bare result list, as the in-process path measures it; bench/suggest_bench.py
    # measures what the suggestions add on top.
    started = time.perf_counter()
    env = {"PIXSEARCH_SUGGESTIONS": "0", "PIXSEARCH_RESULT_CACHE": "0"}  # engine each time
    process, base = start_server(root, env=env)
    out = {}
    try:
        with httpx.Client(base_url=base, headers={"Ocp-Apim-Subscription-Key": key}) as client:
            for label, extra in (("no filter", {}), ("2 filters", HTTP_FILTERS)):

                def get(q: str, extra: dict[str, str] = extra) -> object:
                    params = {"q": q, "count": str(COUNT), **extra}
                    return client.get("/v7.0/images/search", params=params).raise_for_status()

                while time.perf_counter() - started < settle:
                    p50, p99 = timed(get, queries)
                    since = time.perf_counter() - started
                    print(f"  settling, {label}, {since:5.1f} s: p50 {p50:.2f} p99 {p99:.2f} ms")
                out[label] = timed(get, queries)
    finally:
        stop_server(process)
    return out


def prepared(folder: Path | None, docs: int, queries: int) -> tuple[Path, BareIndex, list[str]]:
    """The pixsearch index (under `folder`, or .bench/search-DOCS), its bare twin beside it,
    each loaded unless it already holds `docs` documents, and the benchmark's queries."""
    root = folder or Path(".bench") / f"search-{docs}"
    corpus = Corpus()
    load(root, docs, corpus)
    bare = load_bare(root.with_name(root.name + "-bare"), root, docs)
    return root, bare, corpus.queries(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=3, help="side-by-side rounds")
    parser.add_argument("--profile", type=int, default=0, help="print the top N of a profile")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP measurement")
    parser.add_argument(
        "--http-settle", type=float, default=0.0, help="seconds of unmeasured HTTP rounds first"
    )
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall", help="in-process timer")
    parser.add_argument("--answers", type=Path, default=None, help="write every answer here")
    args = parser.parse_args()
    root, bare, queries = prepared(args.dir, args.docs, args.queries)
    if args.answers is not None:
        print(f"{write_answers(root, queries, args.answers)} answers written to {args.answers}")
        return
    print(f"\n{args.docs:,} documents, {args.queries} queries, count={COUNT}")
    print(f"clock: {args.clock}")
    side_by_side(root, bare, queries, args.rounds, args.clock)
    if args.profile:
        profile(root, queries, args.profile)
    if not args.no_http:
        print(f"\n{'path':<12}{'filters':<12}{'p50 ms':>9}{'p99 ms':>9}")
        for label, (p50, p99) in time_http(root, queries, args.http_settle).items():
            print(f"{'HTTP':<12}{label:<12}{p50:>9.2f}{p99:>9.2f}")


if __name__ == "__main__":
    main()
