"""Search latency at scale: load N synthetic documents, then time queries.

    python bench/search_bench.py --docs 1000000 [--dir .bench/search-1m] [--queries 300]

Documents go straight into the embedded store (no images, no thumbnails), with
Zipf-distributed words and realistic field lengths and attribute spreads. The
index is kept in --dir and reused when it already holds --docs documents.
Latency is measured in-process (the SearchService, SQLite fetch and collapse
included) and over HTTP (a real `pixsearch serve` process, one client), with
and without two filters, each after one unmeasured pass over the same queries
so that the index's pages are in the OS cache, as they are on a serving machine.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import start_server, stop_server

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


def load(root: Path, docs: int, corpus: Corpus) -> None:
    store = EmbeddedStore(root, writable=True)
    have = store.stats()["images"]
    if have >= docs:
        print(f"reusing {root}: {have} documents")
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


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


FILTERS = Filters(size="large", color="blue")
HTTP_FILTERS = {"size": "Large", "color": "Blue"}


def time_in_process(root: Path, queries: list[str]) -> dict[str, tuple[float, float]]:
    service = SearchService(EmbeddedStore(root))
    out = {}
    for label, filters in (("no filter", Filters()), ("2 filters", FILTERS)):
        for q in queries:  # one pass to warm the page cache, as a serving index is
            service.search(SearchRequest(q=q, filters=filters))
        samples = []
        for q in queries:
            t0 = time.perf_counter()
            service.search(SearchRequest(q=q, filters=filters))
            samples.append(time.perf_counter() - t0)
        out[label] = percentiles(samples)
    return out


def time_http(root: Path, queries: list[str]) -> dict[str, tuple[float, float]]:
    key = SqliteKeyStore(ServiceDb(root / "service.db")).create(f"bench-{time.time_ns()}")
    # The bare result list, as the in-process path measures it; bench/suggest_bench.py
    # measures what the suggestions add on top.
    process, base = start_server(root, env={"PIXSEARCH_SUGGESTIONS": "0"})
    out = {}
    try:
        with httpx.Client(base_url=base, headers={"Ocp-Apim-Subscription-Key": key}) as client:
            for label, extra in (("no filter", {}), ("2 filters", HTTP_FILTERS)):
                for q in queries:
                    client.get("/v7.0/images/search", params={"q": q, **extra})
                samples = []
                for q in queries:
                    t0 = time.perf_counter()
                    client.get("/v7.0/images/search", params={"q": q, **extra}).raise_for_status()
                    samples.append(time.perf_counter() - t0)
                out[label] = percentiles(samples)
    finally:
        stop_server(process)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    root = args.dir or Path(".bench") / f"search-{args.docs}"
    corpus = Corpus()
    load(root, args.docs, corpus)
    queries = [corpus.query() for _ in range(args.queries)]
    rows = [("in-process", time_in_process(root, queries)), ("HTTP", time_http(root, queries))]
    print(f"\n{args.docs:,} documents, {args.queries} queries, count=35")
    print(f"{'path':<12}{'filters':<12}{'p50 ms':>9}{'p99 ms':>9}")
    for path, results in rows:
        for label, (p50, p99) in results.items():
            print(f"{path:<12}{label:<12}{p50:>9.2f}{p99:>9.2f}")


if __name__ == "__main__":
    main()
