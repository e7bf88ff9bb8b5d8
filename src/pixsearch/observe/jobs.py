"""Counters of a CLI job (ingest, crawl): a textfile for Prometheus, and a closing log line.

A CLI job is gone before any scrape could reach it, so it writes its counters
to a file instead: ``with textfile_writer(path, JobCollector(...)):`` rewrites
the file atomically every ``every`` seconds while the job runs and once at its
end, and node_exporter's textfile collector (a ``*.prom`` file in its folder)
serves them. The counts are read from the job's own summaries at write time.
``log_summary`` puts the same counts, reasons included, in one closing log line.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from prometheus_client import CollectorRegistry, write_to_textfile
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger("pixsearch.jobs")
WRITE_EVERY = 15.0  # seconds; node_exporter reads the file at each of its own scrapes


class IngestCounts(Protocol):
    """What the metrics read of an ingest summary (ingest/indexer.py's IngestSummary)."""

    @property
    def indexed(self) -> int: ...
    @property
    def duplicates(self) -> int: ...
    @property
    def unchanged(self) -> int: ...
    @property
    def rejected(self) -> Mapping[str, int]: ...
    @property
    def commits(self) -> int: ...


class CrawlCounts(Protocol):
    """What the metrics read of crawl statistics (crawl/crawler.py's CrawlStats)."""

    @property
    def pages(self) -> int: ...
    @property
    def images(self) -> int: ...
    @property
    def not_modified(self) -> int: ...
    @property
    def errors(self) -> Mapping[str, int]: ...
    @property
    def skipped(self) -> Mapping[str, int]: ...
    @property
    def queued(self) -> int: ...


@dataclass(eq=False)  # registries key collectors by identity
class JobCollector:
    """The counters of one job run; a crawl has both (its images go through the indexer)."""

    job: str  # "ingest", "crawl", "import-urls", ...
    ingest: Callable[[], IngestCounts] | None = None
    crawl: Callable[[], CrawlCounts] | None = None
    started: float = field(default_factory=time.monotonic)

    def collect(self) -> Iterable[Metric]:
        elapsed = GaugeMetricFamily(
            "pixsearch_job_elapsed_seconds", "Seconds since the job started.", labels=["job"]
        )
        elapsed.add_metric([self.job], time.monotonic() - self.started)
        yield elapsed
        if self.ingest is not None:
            yield from _ingest_metrics(self.ingest())
        if self.crawl is not None:
            yield from _crawl_metrics(self.crawl())

    def summary(self) -> dict[str, object]:
        """The counts as the fields of one log line (JSON logs put them beside the message)."""
        fields: dict[str, object] = {
            "job": self.job,
            "elapsed_s": round(time.monotonic() - self.started, 3),
        }
        if self.ingest is not None:
            s = self.ingest()
            fields.update(
                indexed=s.indexed,
                duplicates=s.duplicates,
                unchanged=s.unchanged,
                rejected=dict(s.rejected),
                commits=s.commits,
            )
        if self.crawl is not None:
            c = self.crawl()
            fields.update(
                pages=c.pages,
                images=c.images,
                not_modified=c.not_modified,
                errors=dict(c.errors),
                skipped=dict(c.skipped),
                queued=c.queued,
            )
        return fields


def log_summary(collector: JobCollector) -> None:
    """One INFO line with the job's counts and reasons: shown by ``--log-format json``."""
    log.info("%s finished", collector.job, extra=collector.summary())


def _counter(name: str, help_text: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, help_text, value=value)


def _by(name: str, help_text: str, label: str, counts: Mapping[str, int]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, help_text, labels=[label])
    # dict() copies in one step under the GIL: the job's thread may be adding a reason.
    for key, value in sorted(dict(counts).items()):
        family.add_metric([key], value)
    return family


def _ingest_metrics(s: IngestCounts) -> Iterator[Metric]:
    outcomes = {
        "indexed": s.indexed,
        "duplicate": s.duplicates,
        "unchanged": s.unchanged,
        "rejected": sum(dict(s.rejected).values()),
    }
    yield _by(
        "pixsearch_ingest_images",
        "Images the job handled, by outcome: indexed, duplicate, unchanged, rejected.",
        "outcome",
        outcomes,
    )
    yield _by("pixsearch_ingest_rejections", "Rejected images, by reason.", "reason", s.rejected)
    yield _counter("pixsearch_ingest_commits", "Index commits the job made.", s.commits)


def _crawl_metrics(s: CrawlCounts) -> Iterator[Metric]:
    yield _counter("pixsearch_crawl_pages", "Pages fetched and parsed.", s.pages)
    yield _counter("pixsearch_crawl_images", "Images fetched and processed.", s.images)
    yield _counter("pixsearch_crawl_not_modified", "Fetches answered 304.", s.not_modified)
    yield _by("pixsearch_crawl_errors", "Failed fetches, by kind:reason.", "reason", s.errors)
    yield _by("pixsearch_crawl_skipped", "Links never fetched, by reason.", "reason", s.skipped)
    yield GaugeMetricFamily("pixsearch_crawl_queued", "URLs waiting in the frontier.", s.queued)


@contextmanager
def textfile_writer(
    path: Path | None, collector: Collector, *, every: float = WRITE_EVERY
) -> Iterator[None]:
    """Write ``collector`` to ``path`` every ``every`` seconds and at the end; None: do nothing."""
    if path is None:
        yield
        return
    registry = CollectorRegistry()
    registry.register(collector)
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                write_to_textfile(str(path), registry)
            except OSError as exc:  # a full disk must not end the job; the final write reports
                log.warning("could not write metrics to %s: %s", path, exc)

    writer = threading.Thread(target=loop, name="metrics-textfile", daemon=True)
    writer.start()
    try:
        yield
    finally:
        stop.set()
        writer.join()
        write_to_textfile(str(path), registry)
