"""The crawl loop: workers take URLs from the SQLite frontier, fetch, extract, index.

Failures of any kind end as a URL marked failed with a reason and a counted
rejection; nothing a website sends can stop the run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pixsearch import __version__
from pixsearch.crawl.extract import ImageRef, Page, extract_page
from pixsearch.crawl.fetcher import Fetcher, FetchFailed, FetchSettings, Hop, Response
from pixsearch.crawl.frontier import Frontier, Task
from pixsearch.crawl.occurrences import occurrence_for
from pixsearch.crawl.policy import RobotsCache, hop_check
from pixsearch.crawl.scope import Scope
from pixsearch.crawl.sitemaps import parse_sitemap
from pixsearch.crawl.transport import checked_client
from pixsearch.crawl.urls import normalize
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.indexer import ChangeLogError, Indexer
from pixsearch.ingest.parallel import Outcome
from pixsearch.ingest.pipeline import Processed, process_bytes
from pixsearch.ingest.sniff import SNIFF_BYTES, sniff
from pixsearch.records import Occurrence, Rejection

ROBOTS_TOKEN = "pixsearch"  # the product token robots.txt groups and meta robots name
DEFAULT_USER_AGENT = (
    f"pixsearch/{__version__} (self-hosted image search crawler; "
    "+https://pypi.org/project/pixsearch/)"
)
MAX_SITEMAP_URLS = 50_000
HTML_TYPES = ("text/html", "application/xhtml+xml")


class RemoteImage(Protocol):
    """One image fetched and processed elsewhere: `hop` makes each request of the fetch
    (under this crawl's gates, redirects and robots checks) and keeps a body it takes there;
    `outcome` runs the pipeline on it there (the content-type check included)."""

    hop: Hop

    async def outcome(self) -> Outcome: ...


class RemoteImages(Protocol):
    """Where a crawl's images are fetched and processed when not here (crawl/ray_images.py):
    the frontier, the host gates and robots.txt stay in the crawl."""

    def start(self, fetch: FetchSettings, config: PipelineConfig) -> int:
        """Get ready; how many images the crawl should have under way to keep it busy."""
        ...

    def image(self, occurrence: Occurrence) -> RemoteImage: ...


@dataclass(slots=True)
class CrawlOptions:
    seeds: list[str]
    scope: Scope
    fetch: FetchSettings
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    max_pages: int | None = None
    max_depth: int = 20
    concurrency: int = 8
    recrawl: bool = False
    checkpoint_seconds: float = 2.0
    # Fetches and processes images elsewhere; default: fetched here, the pipeline in a
    # thread here. A distributor's (crawl/ray_images.py) fans both out.
    remote: RemoteImages | None = None


@dataclass(slots=True)
class CrawlStats:
    pages: int = 0  # pages fetched and parsed this run
    images: int = 0  # images fetched and processed this run
    not_modified: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # "kind:reason" → count
    skipped: Counter[str] = field(default_factory=Counter)  # refs never fetched, by reason
    queued: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return max(time.monotonic() - self.started, 1e-9)


class Crawler:
    def __init__(self, options: CrawlOptions, indexer: Indexer, frontier: Frontier) -> None:
        self.options = options
        self.indexer = indexer
        self.frontier = frontier
        self.stats = CrawlStats()
        self.inflight: set[str] = set()
        self.buffer: deque[Task] = deque()
        done = frontier.counts()
        self.page_budget = (options.max_pages or 1 << 62) - done["page:done"] - done["page:failed"]

    async def run(self, progress: Callable[[CrawlStats], None] | None = None) -> CrawlStats:
        settings = self.options.fetch
        async with checked_client(
            allow_private=settings.allow_private,
            timeout=settings.timeout,
            headers={"User-Agent": settings.user_agent},
            max_connections=self.options.concurrency * 2,
        ) as client:
            self.fetcher = Fetcher(client, settings)
            count = self.options.concurrency
            if self.options.remote is not None:  # enough under way for all its workers
                count = max(count, self.options.remote.start(settings, self.options.pipeline))
            self.robots = RobotsCache(
                self.fetcher, ROBOTS_TOKEN, self.options.scope, on_sitemap=self._add_sitemap
            )
            if self.options.recrawl:
                self.frontier.requeue_pages()
            for seed in self.options.seeds:
                self.frontier.add(seed, "page", 0)
                await self.robots.robots_for(seed)  # queues its sitemaps
            workers = [asyncio.create_task(self._worker()) for _ in range(count)]
            crawling = asyncio.gather(*workers)
            ticker = asyncio.create_task(self._tick(progress))
            try:
                # The ticker ends only by failing (a checkpoint that could not commit):
                # then the crawl stops rather than go on with nothing committed.
                either: list[asyncio.Future[Any]] = [crawling, ticker]
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
                if ticker.done():
                    ticker.result()
                await crawling
            finally:
                ticker.cancel()
                crawling.cancel()
                # Collected, so a cancelled or failed one is not reported as never retrieved.
                await asyncio.gather(crawling, ticker, return_exceptions=True)
                self.checkpoint()
        counts = self.frontier.counts()
        self.stats.queued = sum(n for k, n in counts.items() if k.endswith(":queued"))
        if progress is not None:
            progress(self.stats)
        return self.stats

    def checkpoint(self) -> None:
        """Index first, then the frontier: what crawl.db calls done is always in the index."""
        self.indexer.commit()
        self.frontier.commit()

    async def _tick(self, progress: Callable[[CrawlStats], None] | None) -> None:
        last = 0.0
        while True:
            if time.monotonic() - last >= self.options.checkpoint_seconds:
                # The queue size is a full count: taken with the checkpoint, not every tick.
                counts = self.frontier.counts()
                self.stats.queued = sum(n for k, n in counts.items() if k.endswith(":queued"))
                if last:
                    self.checkpoint()
                last = time.monotonic()
            if progress is not None:
                progress(self.stats)
            await asyncio.sleep(0.5)

    async def _worker(self) -> None:
        while True:
            task = self._claim()
            if task is None:
                if not self.inflight:
                    return
                await asyncio.sleep(0.02)
                continue
            self.inflight.add(task.url)
            try:
                await self._handle(task)
            except ChangeLogError:
                raise  # not this page's fault: no commit may land past it
            except Exception as exc:  # a bug or a hostile input: count it, keep crawling
                self._fail(task, "crashed", f"{type(exc).__name__}: {exc}"[:300])
            finally:
                self.inflight.discard(task.url)

    def _claim(self) -> Task | None:
        if not self.buffer:
            batch = self.frontier.next_batch(
                self.options.concurrency * 4, self.inflight, pages=self.page_budget > 0
            )
            self.buffer.extend(batch)
        while self.buffer:
            task = self.buffer.popleft()
            if task.url in self.inflight:
                continue
            if task.kind == "page":
                if self.page_budget <= 0:
                    continue
                self.page_budget -= 1
            return task
        return None

    async def _handle(self, task: Task) -> None:
        if task.kind == "image":
            await self._image(task)
        elif task.kind == "sitemap":
            await self._sitemap(task)
        else:
            await self._page(task)

    def _fail(self, task: Task, reason: str, detail: str = "", status: int | None = None) -> None:
        self.frontier.finish(task.url, "failed", reason=reason, status=status)
        self.stats.errors[f"{task.kind}:{reason}"] += 1
        if task.kind == "image":
            self.indexer.handle(Rejection(task.url, reason, detail))

    async def _fetch(
        self, task: Task, kind: str, headers: dict[str, str], hop: Hop | None = None
    ) -> Response | None:
        check = hop_check(self.options.scope, self.robots, kind)
        try:
            response = await self.fetcher.get(task.url, check, headers, hop)
        except FetchFailed as exc:
            self._fail(task, exc.reason, exc.detail, exc.status)
            return None
        if response.status == 304:
            return response
        if response.status >= 400:
            self._fail(task, f"http-{response.status}", status=response.status)
            return None
        return response

    async def _page(self, task: Task) -> None:
        headers = {}
        if self.options.recrawl and task.etag:
            headers["If-None-Match"] = task.etag
        if self.options.recrawl and task.last_modified:
            headers["If-Modified-Since"] = task.last_modified
        response = await self._fetch(task, "page", headers)
        if response is None:
            return
        if response.status == 304:
            self.stats.not_modified += 1
            self.frontier.finish(task.url, "done", reason="not-modified", status=304)
            return
        if not _looks_like_html(response):
            self._fail(task, "not-html", response.content_type, response.status)
            return
        if response.url != task.url and not self.frontier.add(response.url, "page", task.depth):
            # Redirected onto a page known already: it is (or will be) parsed under its own URL.
            self.frontier.finish(task.url, "done", reason="redirect-known", status=response.status)
            return
        page = extract_page(response.body, response.url, response.headers, ROBOTS_TOKEN)
        self._absorb(page, task.depth)
        self.stats.pages += 1
        for url in {task.url, response.url}:
            self.frontier.finish(
                url,
                "done",
                reason="noindex" if page.noindex else None,
                status=response.status,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            )

    def _absorb(self, page: Page, depth: int) -> None:
        if not (page.noindex or page.noimageindex):
            for ref in page.images:
                self._add_ref(ref, page, depth)
        if page.nofollow or depth >= self.options.max_depth:
            return
        for link in page.links:
            if self.options.scope.page_allowed(link):
                self.frontier.add(link, "page", depth + 1)

    def _add_ref(self, ref: ImageRef, page: Page, depth: int) -> None:
        reason = self.options.scope.why_not(ref.url, "image")
        if reason:
            self.stats.skipped[f"image:{reason}"] += 1
            return
        occurrence = occurrence_for(ref, page)
        self.frontier.add_ref(ref.url, occurrence)
        known = self.frontier.state_of(ref.url)
        if known is None:
            self.frontier.add(ref.url, "image", depth)
        elif known[0] == "done" and known[1]:
            self._attach(known[1], occurrence)

    def _attach(self, sha256: str, occurrence: Occurrence) -> None:
        """Another page of an image already indexed: one image, one more occurrence."""
        doc = self.indexer.store.find_by_sha(sha256)
        if doc is not None:
            self.indexer.handle(Processed(facts=doc.facts, thumbnail=b"", occurrence=occurrence))

    async def _image(self, task: Task) -> None:
        refs = self.frontier.refs_for(task.url) or [Occurrence(task.url, content_url=task.url)]
        remote = self.options.remote.image(refs[0]) if self.options.remote else None
        response = await self._fetch(task, "image", {}, remote.hop if remote else None)
        if response is None:
            return
        if remote is not None:
            result = await remote.outcome()
        else:
            result = await _process_here(response, refs[0], self.options.pipeline)
        if isinstance(result, Rejection):
            self._fail(task, result.reason, result.detail, response.status)
            return
        refs = self.frontier.refs_for(task.url) or refs  # pages parsed while it was processed
        for occurrence in refs:
            self.indexer.handle(dataclasses.replace(result, occurrence=occurrence))
        self.stats.images += 1
        self.frontier.finish(task.url, "done", status=response.status, sha256=result.facts.sha256)

    async def _sitemap(self, task: Task) -> None:
        response = await self._fetch(task, "page", {})
        if response is None or response.status == 304:
            if response is not None:
                self.frontier.finish(task.url, "done", reason="not-modified", status=304)
            return
        found = parse_sitemap(response.body)
        for url in found.pages[:MAX_SITEMAP_URLS]:
            page_url = normalize(url)
            if page_url and self.options.scope.page_allowed(page_url):
                self.frontier.add(page_url, "page", task.depth)
        for url in found.sitemaps[:MAX_SITEMAP_URLS]:
            self._add_sitemap(url)
        self.frontier.finish(task.url, "done", status=response.status)

    def _add_sitemap(self, url: str) -> None:
        sitemap = normalize(url)
        if sitemap and self.options.scope.host_allowed(sitemap):
            self.frontier.add(sitemap, "sitemap", 0)


async def _process_here(
    response: Response, occurrence: Occurrence, config: PipelineConfig
) -> Outcome:
    """The pipeline on a fetched image, in a thread; a text response is refused unread."""
    return await asyncio.to_thread(check_and_process, response, occurrence, config)


def check_and_process(
    response: Response, occurrence: Occurrence, config: PipelineConfig
) -> Outcome:
    """A text/* response whose bytes are no image is refused; the pipeline takes the rest."""
    if response.content_type.startswith("text/") and sniff(response.body[:SNIFF_BYTES]) is None:
        return Rejection(response.url, "wrong-content-type", response.content_type)
    return process_bytes(response.body, occurrence, config)


def _looks_like_html(response: Response) -> bool:
    """Trust an HTML content type; sniff the body when the type is missing or generic."""
    kind = response.content_type
    if kind in HTML_TYPES:
        return True
    if kind and kind not in ("application/octet-stream", "text/plain"):
        return False
    head = response.body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def crawl_db_path(index_dir: Path) -> Path:
    return index_dir / "crawl.db"
