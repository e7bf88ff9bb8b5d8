"""WARC import, URL lists and the bytes entry point of the pipeline."""

from __future__ import annotations

import asyncio
from io import BytesIO
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pixsearch.crawl.crawler import Crawler, CrawlOptions, crawl_db_path
from pixsearch.crawl.fetcher import FetchSettings
from pixsearch.crawl.frontier import Frontier
from pixsearch.crawl.scope import Scope
from pixsearch.crawl.urllist import UrlListError, UrlRow, url_rows
from pixsearch.crawl.urls import host_of
from pixsearch.crawl.warc import import_warcs
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.indexer import Indexer
from pixsearch.ingest.pipeline import Processed, process_bytes
from pixsearch.records import Occurrence, Rejection


def _record(writer: WARCWriter, url: str, kind: str, body: bytes) -> None:
    headers = StatusAndHeaders("200 OK", [("Content-Type", kind)], protocol="HTTP/1.1")
    writer.write_record(
        writer.create_warc_record(url, "response", payload=BytesIO(body), http_headers=headers)
    )


def test_process_bytes_matches_process_file(tools, tmp_path: Path) -> None:
    data = tools.jpeg(5)
    occurrence = Occurrence("http://h/p http://h/a.jpg", content_url="http://h/a.jpg")
    result = process_bytes(data, occurrence, PipelineConfig())
    assert isinstance(result, Processed) and result.occurrence is occurrence
    assert result.facts.width == 96 and result.facts.encoding_format == "jpeg"
    rejected = process_bytes(b"<html>", occurrence, PipelineConfig())
    assert isinstance(rejected, Rejection) and rejected.reason == "not-an-image"
    assert process_bytes(b"", occurrence, PipelineConfig()).reason == "empty"  # type: ignore[union-attr]


def test_import_warc_uses_pages_for_context(tools, tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        # The image record comes first: its page context must still reach it.
        _record(writer, "http://ex.com/img/owl.jpg", "image/jpeg", tools.jpeg(1))
        page = tools.html('<h2>Birds</h2><img src="/img/owl.jpg" alt="snowy owl">')
        _record(writer, "http://ex.com/birds", "text/html", page)
        page2 = tools.html('<img src="/img/owl.jpg" alt="owl again">', "<title>More</title>")
        _record(writer, "http://ex.com/more", "text/html", page2)
        _record(writer, "http://ex.com/img/bad.jpg", "image/jpeg", b"\xff\xd8\xffbroken")
    store = EmbeddedStore(tmp_path / "index", writable=True)
    indexer = Indexer(store)
    stats = import_warcs([path], indexer, PipelineConfig())
    store.close()
    assert (stats.pages, stats.images) == (2, 1)
    assert indexer.summary.indexed == 1 and indexer.summary.duplicates == 1
    assert sum(indexer.summary.rejected.values()) == 1
    store = EmbeddedStore(tmp_path / "index")
    doc = store.get([1])[0]
    store.close()
    captions = sorted(o.text["caption"] for o in doc.occurrences)
    assert captions == ["owl again", "snowy owl"]
    assert {o.host_page_url for o in doc.occurrences} == {
        "http://ex.com/birds",
        "http://ex.com/more",
    }


def test_url_list_formats(tmp_path: Path) -> None:
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(
        "URL,Caption,page_url,license\n"
        "http://ex.com/a.jpg,a red fox,http://ex.com/p,https://creativecommons.org/licenses/by/4.0/\n"
        "not a url,x,,\n"
        "http://ex.com/b.jpg,,,CC-BY-SA-4.0\n"
    )
    rows = list(url_rows(csv_file))
    assert rows[1] == "bad-url"
    first, third = rows[0], rows[2]
    assert isinstance(first, UrlRow) and isinstance(third, UrlRow)
    assert first.occurrence.text["caption"] == "a red fox" and first.occurrence.license == "cc-by"
    assert first.occurrence.host_page_url == "http://ex.com/p"
    assert third.occurrence.license == "cc-by-sa"
    jsonl = tmp_path / "list.jsonl"
    jsonl.write_text('{"url": "http://ex.com/c.jpg", "caption": "c"}\nnot json\n')
    assert [r.url for r in url_rows(jsonl) if isinstance(r, UrlRow)] == ["http://ex.com/c.jpg"]
    tsv = tmp_path / "list.tsv"
    tsv.write_text("image_url\ttext\nhttp://ex.com/d.jpg\td\n")
    assert [r.url for r in url_rows(tsv) if isinstance(r, UrlRow)] == ["http://ex.com/d.jpg"]


def test_parquet_without_pyarrow_is_a_clear_error(tmp_path: Path) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("pyarrow is installed: Parquet is read, not refused")
    path = tmp_path / "list.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(UrlListError, match="pyarrow"):
        list(url_rows(path))


def test_url_list_fetched_with_the_crawler(site, tools, tmp_path: Path) -> None:
    site.routes["/robots.txt"] = (200, {}, b"User-agent: *\nDisallow: /no/\n")
    site.image("/a.jpg", tools.jpeg(1))
    site.image("/no/b.jpg", tools.jpeg(2))
    listing = tmp_path / "urls.csv"
    listing.write_text(
        f"url,caption\n{site.base}/a.jpg,first\n{site.base}/no/b.jpg,robots\n{site.base}/c.jpg,404\n"
    )
    rows = [r for r in url_rows(listing) if isinstance(r, UrlRow)]
    index_dir = tmp_path / "index"
    store = EmbeddedStore(index_dir, writable=True)
    frontier = Frontier(crawl_db_path(index_dir))
    for row in rows:
        frontier.add(row.url, "image", 0)
        frontier.add_ref(row.url, row.occurrence)
    options = CrawlOptions(
        seeds=[],
        scope=Scope(hosts={host_of(r.url) for r in rows}),
        fetch=FetchSettings(user_agent="t", timeout=2, allow_private=True),
    )
    crawler = Crawler(options, Indexer(store), frontier)
    asyncio.run(crawler.run())
    frontier.close()
    store.close()
    assert crawler.stats.images == 1
    assert crawler.stats.errors == {"image:robots": 1, "image:http-404": 1}
    assert site.hits("/no/b.jpg") == 0
