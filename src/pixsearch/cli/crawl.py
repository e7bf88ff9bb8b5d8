"""`pixsearch crawl`: the images of whole sites into the index, resumable."""

from __future__ import annotations

import re
from pathlib import Path

import click

from pixsearch.cli.distribution import remote_options
from pixsearch.cli.options import dataclass_default
from pixsearch.cli.web_run import WebRun, fetch_options, run_crawl
from pixsearch.crawl.crawler import CrawlOptions, RemoteImages
from pixsearch.crawl.scope import Scope
from pixsearch.crawl.urls import host_of, normalize
from pixsearch.ingest.config import PipelineConfig


@click.command()
@click.argument("seeds", nargs=-1, required=True)
@fetch_options
@click.option("--allow-domain", multiple=True, help="Also crawl this domain and subdomains.")
@click.option("--allow-prefix", multiple=True, help="Only crawl pages under these URL prefixes.")
@click.option("--deny-prefix", multiple=True, help="Never crawl pages under these URL prefixes.")
@click.option("--include", multiple=True, help="Only crawl page URLs matching this regex.")
@click.option("--exclude", multiple=True, help="Never crawl page URLs matching this regex.")
@click.option("--max-pages", type=int, default=None)
@click.option(
    "--max-depth", type=int, default=dataclass_default(CrawlOptions, "max_depth"), show_default=True
)
@click.option("--recrawl", is_flag=True, help="Fetch done pages again (ETag/If-Modified-Since).")
@click.option(
    "--features",
    "features_dir",
    default=None,
    metavar="DIR",
    help="Also keep what is indexed as feature shards here (a folder or URI), one per "
    "commit; `pixsearch index build DIR` rebuilds the index from them.",
)
@remote_options
def crawl(
    seeds: tuple[str, ...],
    index_dir: Path,
    web: WebRun,
    allow_domain: tuple[str, ...],
    allow_prefix: tuple[str, ...],
    deny_prefix: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    max_pages: int | None,
    max_depth: int,
    recrawl: bool,
    features_dir: str | None,
    remote: RemoteImages | None,
) -> None:
    """Crawl the sites of SEEDS and index their images; rerun to resume.

    With --distributor ray, the frontier, robots.txt and each host's gate stay here;
    Ray actors, one per CPU, fetch the images and run their pipeline (decoding,
    analyzers), so image bytes never pass through this process.
    """
    urls = [normalize(seed) for seed in seeds]
    if None in urls:
        raise click.BadParameter("seeds must be http(s) URLs")
    seed_urls = [u for u in urls if u]
    try:
        scope = Scope(
            hosts={host_of(u) for u in seed_urls},
            domains={d.lower().strip(".") for d in allow_domain},
            allow_prefixes=[normalize(p) or p for p in allow_prefix],
            deny_prefixes=[normalize(p) or p for p in deny_prefix],
            include=[re.compile(p) for p in include],
            exclude=[re.compile(p) for p in exclude],
        )
    except re.error as exc:
        raise click.BadParameter(f"bad regex: {exc}") from None
    models = web.models()
    options = CrawlOptions(
        seeds=seed_urls,
        scope=scope,
        fetch=web.fetch,
        max_pages=max_pages,
        max_depth=max_depth,
        concurrency=web.concurrency,
        recrawl=recrawl,
        pipeline=PipelineConfig(analyzers=models.used),
        remote=remote,
    )
    run_crawl(options, models, index_dir, web.quiet, features=features_dir)
