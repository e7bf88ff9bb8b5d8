"""The server's metrics: process-wide objects, a stage timer, and the text exposition.

Importable from search/, ingest/ and crawl/ without reaching api/: a stage is
timed with ``with stage("rerank"): ...`` (or ``@stage("rerank")`` on a function).

Under ``serve --workers N`` the serve command points PROMETHEUS_MULTIPROC_DIR at
a fresh folder before the workers start; prometheus_client then keeps every
value in a file per process, and ``exposition`` sums all of them, so one scrape
of any worker sees the whole server.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import ParamSpec, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own variable, not a setting
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

P = ParamSpec("P")
R = TypeVar("R")

# The stages of answering a search, and the side answers timed the same way.
STAGES = (
    "parse",  # query text to ParsedQuery and filters
    "text",  # BM25 retrieval from the text index (per call: collapsing may widen it)
    "semantic",  # sentence-embedding (and CLIP) candidates
    "rerank",  # fusing, priors and host diversity
    "fetch",  # documents and group counts of the page shown
    "render",  # the Bing JSON of the answer, serialized
    "spelling",  # the spelling check and the corrected search
    "suggest",  # related searches and pivot suggestions
    "insights",  # gathering the insight modules of /images/details and visual search
)

# Searches take milliseconds; stages a fraction of that.
_STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

HTTP_REQUESTS = Counter(
    "pixsearch_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "pixsearch_http_request_duration_seconds",
    "Time from a request's arrival to its answer's last byte, by route template, method and "
    "status.",
    ["route", "method", "status"],
)
STAGE_SECONDS = Histogram(
    "pixsearch_search_stage_seconds",
    "Time spent in one stage of answering, by stage.",
    ["stage"],
    buckets=_STAGE_BUCKETS,
)
RATE_LIMITED = Counter(
    "pixsearch_rate_limited",
    "Calls refused by a key's limits, by reason: qps (429) or quota (403).",
    ["reason"],
)


class _Stage:
    """One timing of a stage: a context manager, or a decorator timing every call."""

    __slots__ = ("_child", "_started")

    def __init__(self, child: Histogram) -> None:
        self._child = child
        self._started = 0.0

    def __enter__(self) -> None:
        self._started = time.perf_counter()

    def __exit__(self, *_: object) -> None:
        self._child.observe(time.perf_counter() - self._started)

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        child = self._child

        @functools.wraps(func)
        def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                child.observe(time.perf_counter() - started)

        return timed


# A search times five stages: resolving the label each time was half of a timing's cost.
# prometheus_client notices a fork in the child's value itself, so workers may share them.
_STAGE_CHILDREN: dict[str, Histogram] = {}


def stage(name: str) -> _Stage:
    """Time the block (or the decorated function) as one observation of stage ``name``."""
    child = _STAGE_CHILDREN.get(name)
    if child is None:
        if name not in STAGES:
            raise ValueError(f"unknown stage {name!r}: one of {', '.join(STAGES)}")
        child = _STAGE_CHILDREN[name] = STAGE_SECONDS.labels(name)
    return _Stage(child)


# The store's stats() keys published as pixsearch_index_<key> gauges.
INDEX_GAUGES = {
    "documents": "Documents in the text index the server searches.",
    "images": "Distinct images the server searches.",
    "occurrences": "Places (page or file) of those images.",
    "generation": "Committed index generation the server reads.",
}


class StoreCollector:
    """Index gauges read from the store at scrape time, so they are never stale."""

    def __init__(self, stats: Callable[[], Mapping[str, object]]) -> None:
        self.stats = stats

    def collect(self) -> Iterable[Metric]:
        found = self.stats()
        for name, help_text in INDEX_GAUGES.items():
            value = found.get(name)
            if isinstance(value, int | float):
                yield GaugeMetricFamily(f"pixsearch_index_{name}", help_text, value=value)


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def exposition(*extra: Collector) -> bytes:
    """The Prometheus text format of this process's (or all workers') metrics, then ``extra``."""
    if multiprocess_mode():
        merged = CollectorRegistry()
        MultiProcessCollector(merged)
        text = generate_latest(merged)
    else:
        text = generate_latest(REGISTRY)
    # Collected in the process answering the scrape, so never written to the shared files.
    own = CollectorRegistry()
    for collector in extra:
        own.register(collector)
    return text + generate_latest(own)
