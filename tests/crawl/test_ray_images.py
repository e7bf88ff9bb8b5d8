"""A crawl whose images Ray actors fetch and process: the same index and the same refusals
as a crawl that does it all itself, no image request made by the crawl's own process, the
crawl delay kept, and an actor killed mid-fetch costing no image."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from tests.crawl.test_crawl_site import build, crawl, docs_by_url
from tests.index.features.helpers import all_documents, page_counts, partition

from pixsearch.crawl.crawler import Crawler
from pixsearch.crawl.fetcher import FetchSettings
from pixsearch.index.embedded import EmbeddedStore

ray = pytest.importorskip("ray")
RayImages = pytest.importorskip("pixsearch.crawl.ray_images").RayImages


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    ray.init(
        address="local",  # a Ray of its own, even beside another on this machine
        num_cpus=2,
        object_store_memory=80 * 1024 * 1024,
        include_dashboard=False,
    )
    try:
        yield
    finally:
        ray.shutdown()


def extend(site: Any, tools: Any) -> None:
    """Images that redirect, and one that is busy once: each request goes through the gate."""
    site.page(
        "/c.html",
        '<img src="/img/c.jpg" alt="after redirects"><img src="/img/moved.jpg" alt="moved">'
        '<img src="/img/busy.jpg" alt="busy once">',
    )
    site.routes["/img/moved.jpg"] = (302, {"Location": "/img/moved-here.jpg"}, b"")
    site.image("/img/moved-here.jpg", tools.jpeg(50))
    calls = {"n": 0}

    def busy(_handler: Any) -> tuple[int, dict[str, str], bytes]:
        calls["n"] += 1
        if calls["n"] == 1:
            return 503, {"Retry-After": "0", "Content-Type": "text/html"}, b"busy"
        return 200, {"Content-Type": "image/jpeg"}, tools.jpeg(51)

    site.routes["/img/busy.jpg"] = busy


def test_a_crawl_on_ray_equals_one_made_here(
    site: Any, tools: Any, tmp_path: Path, ray_cluster: None
) -> None:
    build(site, tools)
    extend(site, tools)
    here = crawl(site, tmp_path / "here")
    images = [path for path in site.log if path.startswith("/img/")]
    assert "/img/moved-here.jpg" in images and images.count("/img/busy.jpg") == 2
    site.log.clear()
    extend(site, tools)  # busy once again

    with RayImages() as remote:
        there = crawl(site, tmp_path / "there", remote=remote)

    found = {url: doc.facts for url, doc in docs_by_url(site, tmp_path / "there").items()}
    assert found == {url: doc.facts for url, doc in docs_by_url(site, tmp_path / "here").items()}
    got, expected = EmbeddedStore(tmp_path / "there"), EmbeddedStore(tmp_path / "here")
    places = {k: v[1] for k, v in all_documents(got).items()}  # in order of arrival: not ids
    assert places == {k: v[1] for k, v in all_documents(expected).items()}
    assert partition(got) == partition(expected)
    assert page_counts(got) == page_counts(expected)
    assert there.stats.errors == here.stats.errors  # too large, text, 404, truncated, ...
    assert there.stats.images == here.stats.images
    assert sorted(p for p in site.log if p.startswith("/img/")) == sorted(images)
    # The crawl's own process fetched the pages, robots.txt and sitemaps, no image.
    assert there.fetcher.requests == sum(1 for p in site.log if not p.startswith("/img/"))


def timed_site(tools: Any, count: int) -> Any:
    """A page of `count` images; each image request's arrival time is noted."""
    site = tools.Site()
    site.page("/", "".join(f'<img src="/img/{i}.jpg" alt="picture {i}">' for i in range(count)))
    arrivals: list[float] = []
    for i in range(count):

        def route(_handler: Any, i: int = i) -> tuple[int, dict[str, str], bytes]:
            arrivals.append(time.monotonic())
            return 200, {"Content-Type": "image/jpeg"}, tools.jpeg(100 + i)

        site.routes[f"/img/{i}.jpg"] = route
    site.arrivals = arrivals
    return site


def test_the_crawl_delay_holds_for_requests_made_on_ray(
    tools: Any, tmp_path: Path, ray_cluster: None
) -> None:
    with contextmanager(tools.serve)(timed_site(tools, 5)) as site, RayImages() as remote:
        crawler = crawl_with(site, tmp_path / "index", remote=remote, delay=0.4)
    assert crawler.stats.images == 5
    gaps = [b - a for a, b in zip(site.arrivals, site.arrivals[1:], strict=False)]
    assert len(gaps) == 4 and min(gaps) >= 0.35, gaps  # one host: one request at a time


def test_an_actor_killed_while_it_fetches_costs_no_image(
    tools: Any, tmp_path: Path, ray_cluster: None
) -> None:
    site = tools.Site()
    site.page("/", '<img src="/img/slow.jpg" alt="slow"><img src="/img/fast.jpg" alt="fast">')
    site.image("/img/fast.jpg", tools.jpeg(7))
    slow = tools.jpeg(8)

    def slow_route(_handler: Any) -> tuple[int, dict[str, str], bytes]:
        time.sleep(1.5)
        return 200, {"Content-Type": "image/jpeg"}, slow

    site.routes["/img/slow.jpg"] = slow_route
    with contextmanager(tools.serve)(site) as served, RayImages() as remote:
        killer = threading.Thread(target=kill_when_fetched, args=(served, remote), daemon=True)
        killer.start()
        crawler = crawl_with(served, tmp_path / "index", remote=remote)
        killer.join(timeout=30)
    assert served.hits("/img/slow.jpg") >= 3  # fetched again, twice, by a live actor
    assert crawler.stats.images == 2 and not crawler.stats.errors, crawler.stats.errors


def kill_when_fetched(site: Any, remote: Any, times: int = 2) -> None:
    """Each of the first `times` times the slow image is being served, kill every actor
    (Ray restarts them): more deaths than an image's tries would allow, had waiting for a
    restart counted as a try."""
    deadline = time.monotonic() + 30
    for seen in range(1, times + 1):
        while site.hits("/img/slow.jpg") < seen and time.monotonic() < deadline:
            time.sleep(0.01)
        for actor in list(remote.actors):
            ray.kill(actor.handle, no_restart=False)


def crawl_with(site: Any, index_dir: Path, *, remote: Any, delay: float = 0.0) -> Crawler:
    """The crawl tests' crawl, with time for a slow image and a crawl delay."""
    fetch = FetchSettings("pixsearch-test/1", timeout=5.0, delay=delay, allow_private=True)
    return crawl(site, index_dir, fetch=fetch, remote=remote)
