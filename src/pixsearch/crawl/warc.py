"""WARC/ARC archives → index, without network: HTML records give context, image records bytes.

Two passes over each file: the first collects every page's image references (an
image record may come before the page that shows it), the second processes the
image records with all their occurrences.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from pixsearch.crawl.extract import extract_page
from pixsearch.crawl.occurrences import occurrence_for
from pixsearch.crawl.urls import normalize
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.indexer import Indexer
from pixsearch.ingest.pipeline import Processed, process_bytes
from pixsearch.records import Occurrence, Rejection

HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(slots=True)
class WarcStats:
    records: int = 0
    pages: int = 0
    images: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, reason: str) -> None:
        self.errors[reason] = self.errors.get(reason, 0) + 1


def _responses(path: Path, stats: WarcStats) -> Iterator[tuple[str, str, dict[str, str], bytes]]:
    """(url, content type, headers, body) of each HTTP response record; damage is counted."""
    try:
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle, arc2warc=True):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                stats.records += 1
                url = normalize(record.rec_headers.get_header("WARC-Target-URI") or "")
                status = record.http_headers.get_statuscode() or ""
                if url is None or not status.startswith("2"):
                    continue
                headers = {k.lower(): v for k, v in record.http_headers.headers}
                kind = headers.get("content-type", "").split(";")[0].strip().lower()
                yield url, kind, headers, record.content_stream().read()
    except (ArchiveLoadFailed, OSError, ValueError, EOFError) as exc:
        stats.error(f"damaged-archive: {type(exc).__name__}")


def collect_refs(paths: list[Path], stats: WarcStats) -> dict[str, list[Occurrence]]:
    refs: dict[str, list[Occurrence]] = {}
    for path in paths:
        for url, kind, headers, body in _responses(path, stats):
            if kind not in HTML_TYPES:
                continue
            try:
                page = extract_page(body, url, headers)
            except Exception:
                stats.error("page-crashed")
                continue
            stats.pages += 1
            if page.noindex or page.noimageindex:
                continue
            for ref in page.images:
                refs.setdefault(ref.url, []).append(occurrence_for(ref, page))
    return refs


def image_outcomes(
    path: Path, refs: dict[str, list[Occurrence]], config: PipelineConfig, stats: WarcStats
) -> Iterator[Processed | Rejection]:
    """The image records of one archive through the pipeline: one outcome per place shown.

    `refs` are the places of every archive's pages (``collect_refs``), so this
    runs on any archive alone: a distributor's input shard is one archive.
    """
    for url, kind, _headers, body in _responses(path, WarcStats()):
        if kind in HTML_TYPES or kind.startswith("text/"):
            continue
        occurrences = refs.get(url) or [Occurrence(url, content_url=url)]
        result = process_bytes(body, occurrences[0], config)
        if isinstance(result, Rejection):
            if kind.startswith("image/"):  # other media are not images to reject
                yield Rejection(url, result.reason, result.detail)
                stats.error(result.reason)
            continue
        stats.images += 1
        for occurrence in occurrences:
            yield dataclasses.replace(result, occurrence=occurrence)


def import_warcs(paths: list[Path], indexer: Indexer, config: PipelineConfig) -> WarcStats:
    stats = WarcStats()
    refs = collect_refs(paths, stats)
    for path in paths:
        for outcome in image_outcomes(path, refs, config, stats):
            indexer.handle(outcome)
    indexer.commit()
    return stats
