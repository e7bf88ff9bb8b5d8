"""A crawl whose checkpoint cannot keep its batch stops there, with nothing committed."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

import pytest

from pixsearch.crawl.crawler import Crawler, CrawlOptions, crawl_db_path
from pixsearch.crawl.fetcher import FetchSettings
from pixsearch.crawl.frontier import Frontier
from pixsearch.crawl.scope import Scope
from pixsearch.crawl.urls import host_of
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.features.folder import FeatureFolder
from pixsearch.ingest.feature_log import FeatureLog
from pixsearch.ingest.indexer import ChangeLogError, Indexer


def test_a_checkpoint_that_cannot_keep_its_batch_stops_the_crawl(
    site, tools, tmp_path: Path
) -> None:
    owl = tools.jpeg(1)
    site.page("/", '<img src="/a.jpg" alt="an owl"><img src="/slow.jpg" alt="a fox">')
    site.image("/a.jpg", owl)

    def slow(_: object) -> tuple[int, dict[str, str], bytes]:
        time.sleep(4)  # still fetching when the ticker's checkpoint fails
        return 200, {"Content-Type": "image/jpeg"}, tools.jpeg(2)

    site.routes["/slow.jpg"] = slow
    features = FeatureFolder(tmp_path / "features").create()
    sha = hashlib.sha256(owl).hexdigest()
    (tmp_path / "features" / "thumbs" / sha[:2]).write_bytes(b"not a folder")
    index_dir = tmp_path / "index"
    store = EmbeddedStore(index_dir, writable=True)
    frontier = Frontier(crawl_db_path(index_dir))
    options = CrawlOptions(
        seeds=[site.base + "/"],
        scope=Scope(hosts={host_of(site.base)}),
        fetch=FetchSettings(user_agent="t", timeout=10, allow_private=True),
        concurrency=2,
        checkpoint_seconds=0.0,
    )
    crawler = Crawler(options, Indexer(store, changes=FeatureLog(features)), frontier)
    try:
        with pytest.raises(ChangeLogError, match="not written"):
            asyncio.run(crawler.run())
    finally:
        frontier.close()
        store.close()
    assert crawler.stats.images == 1  # the owl; the slow fox was cut off, not waited for
    reopened = EmbeddedStore(index_dir)
    try:
        assert reopened.stats()["images"] == 0
    finally:
        reopened.close()
    again = Frontier(crawl_db_path(index_dir))
    try:
        assert not [key for key in again.counts() if key.endswith(":done")]
    finally:
        again.close()
