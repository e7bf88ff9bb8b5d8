"""Crawl a generated loopback website end to end; assert what is indexed and what never is."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pixsearch.crawl.crawler import Crawler, CrawlOptions, crawl_db_path
from pixsearch.crawl.fetcher import FetchSettings
from pixsearch.crawl.frontier import Frontier
from pixsearch.crawl.scope import Scope
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.ingest.indexer import Indexer
from pixsearch.records import ImageDocument

LICENSE = '<link rel="license" href="https://creativecommons.org/licenses/by-sa/4.0/">'
PRODUCT = """<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product",
"name":"Toy fox","image":"/img/product.jpg","offers":{"price":"9.50","priceCurrency":"USD"}}
</script><meta property="og:image" content="/img/og.jpg">
<meta property="article:published_time" content="2020-01-02T03:04:05Z">"""


def build(site, tools) -> None:
    base = site.base
    site.routes["/robots.txt"] = (
        200,
        {"Content-Type": "text/plain"},
        (
            "User-agent: *\nDisallow: /private/\nAllow: /private/ok.html\n"
            f"Disallow: /img/secret.jpg\nSitemap: {base}/sitemap_index.xml\n"
        ).encode(),
    )
    site.routes["/sitemap_index.xml"] = (
        200,
        {"Content-Type": "application/xml"},
        f"<sitemapindex><sitemap><loc>{base}/s1.xml.gz</loc></sitemap></sitemapindex>".encode(),
    )
    urlset = f"<urlset><url><loc>{base}/orphan.html</loc></url></urlset>".encode()
    site.routes["/s1.xml.gz"] = (200, {"Content-Type": "application/gzip"}, tools.gzip(urlset))
    links = " ".join(
        f'<a href="{p}">{p}</a>'
        for p in (
            "/a.html",
            "/b.html",
            "/private/x.html",
            "/private/ok.html",
            "/r1",
            "/loop/0",
            "/missing.html",
            "/slow.html",
            "/huge.html",
            "/noindex.html",
            "/nofollow.html",
            "/xrobots.html",
            "/retry.html",
            "http://other.invalid/",
            "/notpage.html",
            "/to-private",
            "/to-other",
        )
    )
    site.page(
        "/",
        f'<h1>Home</h1><figure><img src="/img/fox.jpg" alt="red fox" title="Fox portrait">'
        f"<figcaption>A fox in snow</figcaption></figure>{links}"
        '<a href="/nf-target.html" rel="nofollow">x</a>',
        "<title>Home page</title>",
    )
    site.page(
        "/a.html",
        '<img src="data:image/gif;base64,R0lG" data-src="/img/lazy.jpg" alt="lazy cat">'
        '<img src="/img/small.jpg" srcset="/img/small.jpg 200w, /img/big.jpg 800w" alt="owl">'
        '<img src="/img/fox.jpg" alt="fox again on page a">',
        LICENSE,
    )
    site.page(
        "/b.html",
        '<img src="/img/fox.jpg" alt="third fox"><noscript><img src="/img/noscript.jpg"></noscript>'
        '<img src="/img/secret.jpg"><img src="/img/404.jpg"><img src="/img/text.jpg">'
        '<img src="/img/truncated.jpg"><img src="/img/huge.jpg"><img src="http://other.invalid/x.jpg">',
        PRODUCT,
    )
    for i, name in enumerate(
        (
            "fox",
            "lazy",
            "big",
            "small",
            "noscript",
            "product",
            "og",
            "orphan",
            "c",
            "noindex",
            "nofollowpage",
            "xrobots",
            "retry",
            "ok",
            "private",
            "secret",
            "slow",
            "hugepage",
        )
    ):
        site.image(f"/img/{name}.jpg", tools.jpeg(i))
    site.routes["/img/text.jpg"] = (200, {"Content-Type": "text/html"}, b"<html>no</html>")
    site.image("/img/truncated.jpg", tools.jpeg(99, 400)[:600])
    site.image("/img/huge.jpg", b"\xff\xd8\xff" + b"0" * 3_000_000)
    orphan = tools.html('<img src="/img/orphan.jpg" alt="orphan from sitemap">')

    def conditional(handler):
        if handler.headers.get("If-None-Match") == '"o1"':
            return 304, {"ETag": '"o1"'}, b""
        return 200, {"Content-Type": "text/html", "ETag": '"o1"'}, orphan

    site.routes["/orphan.html"] = conditional
    site.page("/private/x.html", '<img src="/img/private.jpg">')
    site.page("/private/ok.html", '<img src="/img/ok.jpg" alt="allowed private">')
    site.routes["/r1"] = (301, {"Location": "/r2"}, b"")
    site.routes["/r2"] = (302, {"Location": f"{base}/c.html"}, b"")
    site.routes["/to-private"] = (302, {"Location": "/private/x.html"}, b"")
    site.routes["/to-other"] = (302, {"Location": "http://other.invalid/"}, b"")
    site.page("/c.html", '<img src="/img/c.jpg" alt="after redirects">')
    for i in range(10):
        site.routes[f"/loop/{i}"] = (302, {"Location": f"/loop/{i + 1}"}, b"")
    site.routes["/slow.html"] = tools.slow(3.0, tools.html('<img src="/img/slow.jpg">'))
    site.routes["/huge.html"] = (
        200,
        {"Content-Type": "text/html"},
        tools.html('<img src="/img/hugepage.jpg">' + "x" * 3_000_000),
    )
    site.page(
        "/noindex.html",
        '<img src="/img/noindex.jpg"><a href="/via-noindex.html">go</a>',
        '<meta name="robots" content="noindex">',
    )
    site.page("/via-noindex.html", '<img src="/img/fox.jpg" alt="fox via noindex">')
    site.page(
        "/nofollow.html",
        '<img src="/img/nofollowpage.jpg"><a href="/nofollow-target.html">t</a>',
        '<meta name="pixsearch" content="nofollow">',
    )
    site.page("/xrobots.html", '<img src="/img/xrobots.jpg">', **{"X-Robots-Tag": "noimageindex"})
    calls = {"n": 0}

    def retry(_handler):
        calls["n"] += 1
        if calls["n"] == 1:
            return 503, {"Retry-After": "0", "Content-Type": "text/html"}, b"busy"
        return 200, {"Content-Type": "text/html"}, tools.html('<img src="/img/retry.jpg">')

    site.routes["/retry.html"] = retry
    site.routes["/notpage.html"] = (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4")


def crawl(site, index_dir: Path, seed: str = "/", fetch=None, **extra) -> Crawler:
    options = CrawlOptions(
        seeds=[site.base + seed],
        scope=Scope(hosts={"127.0.0.1"}),
        fetch=fetch
        or FetchSettings(
            user_agent="pixsearch-test/1", timeout=1.0, max_bytes=1_000_000, allow_private=True
        ),
        concurrency=6,
        **extra,
    )
    store = EmbeddedStore(index_dir, writable=True)
    frontier = Frontier(crawl_db_path(index_dir))
    crawler = Crawler(options, Indexer(store), frontier)
    try:
        asyncio.run(crawler.run())
    finally:
        frontier.close()
        store.close()
    return crawler


def docs_by_url(site, index_dir: Path) -> dict[str, ImageDocument]:
    frontier = Frontier(crawl_db_path(index_dir))
    rows = frontier.conn.execute("SELECT url, sha256 FROM urls WHERE sha256 IS NOT NULL").fetchall()
    frontier.close()
    store = EmbeddedStore(index_dir)
    out = {}
    for url, sha in rows:
        doc = store.find_by_sha(sha)
        assert doc is not None
        out[url.removeprefix(site.base)] = doc
    store.close()
    return out


@pytest.fixture
def crawled(site, tools, tmp_path: Path):
    build(site, tools)
    crawler = crawl(site, tmp_path / "index")
    return site, tmp_path / "index", crawler


def test_what_is_indexed(crawled) -> None:
    site, index_dir, crawler = crawled
    docs = docs_by_url(site, index_dir)
    expected = {"fox", "lazy", "big", "noscript", "product", "og", "orphan", "c", "ok"}
    expected |= {"nofollowpage", "retry"}
    assert set(docs) == {f"/img/{name}.jpg" for name in expected}
    fox = docs["/img/fox.jpg"]
    pages = {o.host_page_url.removeprefix(site.base) for o in fox.occurrences}
    assert pages == {"/", "/a.html", "/b.html", "/via-noindex.html"}  # one image, many pages
    home = next(o for o in fox.occurrences if o.host_page_url == site.base + "/")
    assert home.text["caption"] == "red fox A fox in snow" and home.text["name"] == "Fox portrait"
    assert home.text["page_title"] == "Home page Home"
    on_a = next(o for o in fox.occurrences if o.host_page_url.endswith("/a.html"))
    assert on_a.license == "cc-by-sa" and on_a.text["caption"] == "fox again on page a"
    assert docs["/img/big.jpg"].occurrences[0].alternates == [site.base + "/img/small.jpg"]
    product = docs["/img/product.jpg"].occurrences[0]
    assert product.offers == [
        {"price": "9.50", "currency": "USD", "seller": "", "availability": ""}
    ]
    assert product.date_published is not None and product.date_published.year == 2020
    assert crawler.stats.errors["page:too-many-redirects"] == 1
    assert crawler.stats.errors["page:robots"] == 2  # linked, and reached by a redirect
    assert crawler.stats.errors["page:out-of-scope-host"] == 1  # a redirect off the named hosts
    assert crawler.stats.errors["page:timeout"] == 1
    assert crawler.stats.errors["page:too-large"] == 1
    assert crawler.stats.errors["page:http-404"] == 1
    assert crawler.stats.errors["page:not-html"] == 1
    for reason in ("http-404", "wrong-content-type", "too-large", "robots"):
        assert crawler.stats.errors[f"image:{reason}"] == 1, reason
    assert crawler.stats.errors["image:corrupt"] == 1  # the truncated JPEG
    assert crawler.stats.skipped["image:out-of-scope-host"] == 1


def test_what_is_never_fetched(crawled) -> None:
    site, _, _ = crawled
    for path in (
        "/private/x.html",
        "/img/private.jpg",
        "/img/secret.jpg",
        "/nf-target.html",
        "/nofollow-target.html",
        "/img/noindex.jpg",
        "/img/xrobots.jpg",
        "/loop/6",
    ):
        assert site.hits(path) == 0, path
    assert site.hits("/via-noindex.html") == 1  # noindex still follows links
    assert site.hits("/img/fox.jpg") == 1  # fetched once for four pages
    assert site.hits("/robots.txt") == 1
    assert site.hits("/retry.html") == 2  # 503, then honoured Retry-After


def test_rerun_fetches_nothing_again_and_recrawl_is_conditional(crawled) -> None:
    site, index_dir, _ = crawled
    before = len(site.log)
    again = crawl(site, index_dir)
    assert again.stats.pages == 0 and again.stats.images == 0
    assert len(site.log) - before <= 1  # at most robots.txt
    recrawl = crawl(site, index_dir, recrawl=True)
    assert recrawl.stats.not_modified == 1  # the page that sent an ETag answered 304
    assert recrawl.stats.pages > 0 and recrawl.stats.images == 0  # images are not refetched
    assert len(docs_by_url(site, index_dir)) == 11


def test_max_pages_and_max_depth(site, tools, tmp_path: Path) -> None:
    site.routes["/robots.txt"] = (404, {}, b"")
    for i in range(6):
        site.page(f"/{i}.html", f'<a href="/{i + 1}.html">next</a><img src="/img/{i}.jpg">')
        site.image(f"/img/{i}.jpg", tools.jpeg(i))
    limited = crawl(site, tmp_path / "a", seed="/0.html", max_pages=2)
    assert limited.stats.pages == 2 and limited.stats.images == 2
    shallow = crawl(site, tmp_path / "b", seed="/0.html", max_depth=1)
    assert shallow.stats.pages == 2  # the seed and its links, not their links
    again = crawl(site, tmp_path / "a", seed="/0.html", max_pages=4)  # a larger budget resumes
    assert again.stats.pages == 2
