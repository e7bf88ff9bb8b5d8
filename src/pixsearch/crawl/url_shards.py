"""A URL list as a distributor's input shards: chunks of its distinct image URLs.

The list is read here, once: each distinct image URL gets the places its rows
name (one per page, a later row for the same page replacing an earlier one, as
import-urls' frontier keeps them), and chunks of URLs go to the workers with
their places as the shard's payload. A worker fetches its URLs as the crawler
does (only the list's hosts, robots.txt, the per-host delay and the network
safety checks, `concurrency` at a time) and runs the pipeline on the bytes.

Politeness holds per worker: URLs are chunked host by host, so a host is
spread over several workers at once only when it has more URLs than a shard.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import orjson

from pixsearch.crawl.crawler import ROBOTS_TOKEN
from pixsearch.crawl.fetcher import Fetcher, FetchFailed, FetchSettings, HopCheck
from pixsearch.crawl.policy import RobotsCache, hop_check
from pixsearch.crawl.scope import Scope
from pixsearch.crawl.transport import checked_client
from pixsearch.crawl.urllist import url_rows
from pixsearch.crawl.urls import host_of
from pixsearch.index.factrows import occurrence_from_dict
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.distributors import InputShard, shard_name
from pixsearch.ingest.parallel import Outcome
from pixsearch.ingest.pipeline import process_bytes
from pixsearch.ingest.sniff import SNIFF_BYTES, sniff
from pixsearch.records import Occurrence, Rejection


@dataclass(frozen=True, slots=True)
class UrlList:
    """A URL list read for distribution: its shards, every host it names, rows skipped."""

    shards: list[InputShard]
    hosts: frozenset[str]
    bad_rows: int


def url_shards(path: Path, size: int) -> UrlList:
    """The list at `path` as input shards of up to `size` URLs, host after host."""
    places: dict[str, dict[str, Occurrence]] = {}
    bad = 0
    for row in url_rows(path):
        if isinstance(row, str):
            bad += 1
            continue
        pages = places.setdefault(row.url, {})
        page = row.occurrence.host_page_url or ""
        pages.pop(page, None)  # the frontier's INSERT OR REPLACE: the latest row goes last
        pages[page] = row.occurrence
    hosts = list(dict.fromkeys(host_of(url) for url in places))
    rank = {host: i for i, host in enumerate(hosts)}
    urls = sorted(places, key=lambda url: rank[host_of(url)])  # stable: list order per host
    shards = []
    for number, start in enumerate(range(0, len(urls), size)):
        chunk = tuple(urls[start : start + size])
        payload = orjson.dumps({url: list(places[url].values()) for url in chunk}).decode()
        shards.append(InputShard(shard_name(number, chunk), chunk, payload))
    return UrlList(shards, frozenset(hosts), bad)


@dataclass(frozen=True, slots=True)
class UrlJob:
    """The ShardJob of a chunk of image URLs: fetch each, then the pipeline, once per place."""

    fetch: FetchSettings
    concurrency: int
    hosts: frozenset[str]  # the whole list's: a redirect may lead to another listed host

    def __call__(self, shard: InputShard, config: PipelineConfig) -> list[Outcome]:
        raw = orjson.loads(shard.payload) if shard.payload else {}
        places = {url: [occurrence_from_dict(o) for o in found] for url, found in raw.items()}
        return asyncio.run(self._fetch_all(shard.paths, places, config))

    async def _fetch_all(
        self, urls: tuple[str, ...], places: dict[str, list[Occurrence]], config: PipelineConfig
    ) -> list[Outcome]:
        scope = Scope(hosts=set(self.hosts))
        settings = self.fetch
        async with checked_client(
            allow_private=settings.allow_private,
            timeout=settings.timeout,
            headers={"User-Agent": settings.user_agent},
            max_connections=self.concurrency * 2,
        ) as client:
            fetcher = Fetcher(client, settings)
            check = hop_check(scope, RobotsCache(fetcher, ROBOTS_TOKEN, scope), "image")
            slots = asyncio.Semaphore(self.concurrency)

            async def one(url: str) -> list[Outcome]:
                found = places.get(url) or [Occurrence(url, content_url=url)]
                async with slots:
                    return await _image(fetcher, check, url, found, config)

            results = await asyncio.gather(*(one(url) for url in urls))
        return [outcome for outcomes in results for outcome in outcomes]


async def _image(
    fetcher: Fetcher,
    check: HopCheck,
    url: str,
    places: list[Occurrence],
    config: PipelineConfig,
) -> list[Outcome]:
    """One image URL as the crawler takes it: a rejection, or one outcome per place."""
    try:
        response = await fetcher.get(url, check, {})
    except FetchFailed as exc:
        return [Rejection(url, exc.reason, exc.detail)]
    if response.status >= 400:
        return [Rejection(url, f"http-{response.status}", "")]
    if response.content_type.startswith("text/") and sniff(response.body[:SNIFF_BYTES]) is None:
        return [Rejection(url, "wrong-content-type", response.content_type)]
    result = await asyncio.to_thread(process_bytes, response.body, places[0], config)
    if isinstance(result, Rejection):
        return [Rejection(url, result.reason, result.detail)]
    return [dataclasses.replace(result, occurrence=place) for place in places]
