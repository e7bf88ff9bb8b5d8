"""URL lists (CSV, TSV, JSONL, Parquet) → image tasks and occurrences in the crawl frontier.

The shape of public image-text datasets: a url column and optional caption, page url
and licence columns. Rows become image tasks that the crawler fetches with its
politeness, caps and network safety.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from pixsearch.crawl.licenses import license_key
from pixsearch.crawl.urls import host_of, normalize, url_words
from pixsearch.records import Occurrence

URL_COLUMNS = ("url", "image_url", "imageurl", "content_url", "contenturl", "src")
CAPTION_COLUMNS = ("caption", "text", "alt", "description", "title")
PAGE_COLUMNS = ("page_url", "pageurl", "host_page_url", "page", "source_url")
LICENSE_COLUMNS = ("license", "licence", "license_url", "licence_url")
KNOWN_KEYS = (
    "cc0",
    "pdm",
    "cc-by",
    "cc-by-sa",
    "cc-by-nd",
    "cc-by-nc",
    "cc-by-nc-sa",
    "cc-by-nc-nd",
)


class UrlListError(Exception):
    """The file cannot be read as a URL list (format, missing url column, no pyarrow)."""


@dataclass(frozen=True, slots=True)
class UrlRow:
    url: str
    occurrence: Occurrence


def read_rows(path: Path) -> Iterator[dict[str, str]]:
    suffix = "".join(path.suffixes[-2:]).lower()
    if suffix.endswith((".jsonl", ".ndjson", ".json")):
        yield from _jsonl(path)
    elif suffix.endswith(".parquet"):
        yield from _parquet(path)
    else:
        delimiter = "\t" if suffix.endswith((".tsv", ".tab")) else ","
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            for row in csv.DictReader(handle, delimiter=delimiter):
                yield {str(k).strip().lower(): (v or "") for k, v in row.items() if k}


def _jsonl(path: Path) -> Iterator[dict[str, str]]:
    with path.open("rb") as handle:
        for line in handle:
            try:
                raw = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(raw, dict):
                yield {str(k).lower(): "" if v is None else str(v) for k, v in raw.items()}


def _parquet(path: Path) -> Iterator[dict[str, str]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise UrlListError(
            "Parquet needs pyarrow (pip install pyarrow); or convert the file to CSV/JSONL"
        ) from None
    for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):
        for row in batch.to_pylist():
            yield {str(k).lower(): "" if v is None else str(v) for k, v in row.items()}


def _pick(row: dict[str, str], names: tuple[str, ...]) -> str:
    for name in names:
        if row.get(name):
            return row[name].strip()
    return ""


def _license(value: str) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    lowered = value.lower().replace(" ", "-").replace("_", "-")
    key = license_key(value) or next((k for k in KNOWN_KEYS if lowered.startswith(k)), None)
    if lowered.startswith("cc-by") and key:
        # "CC-BY-SA-4.0" must not stop at "cc-by": take the longest known key it starts with.
        key = max((k for k in KNOWN_KEYS if lowered.startswith(k)), key=len, default=key)
    return key, value if value.startswith("http") else None


def url_rows(path: Path) -> Iterator[UrlRow | str]:
    """Rows as image tasks; a row without a usable url yields its rejection reason."""
    for row in read_rows(path):
        url = normalize(_pick(row, URL_COLUMNS))
        if url is None:
            yield "bad-url"
            continue
        page = normalize(_pick(row, PAGE_COLUMNS)) or None
        caption = _pick(row, CAPTION_COLUMNS)
        key, license_url = _license(_pick(row, LICENSE_COLUMNS))
        text = {"caption": caption, "url_words": url_words(url)}
        yield UrlRow(
            url,
            Occurrence(
                source=f"{page or path.name} {url}",
                content_url=url,
                host_page_url=page,
                title=caption[:200] or url.rsplit("/", 1)[-1],
                text={k: v for k, v in text.items() if v},
                license=key,
                license_url=license_url,
            ),
        )


def hosts_of(rows: list[UrlRow]) -> set[str]:
    return {host_of(row.url) for row in rows}
