"""`pixsearch import-urls`: download and index the image URLs of a list."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from pixsearch.cli.distribution import Distribution, distributor_options, failures
from pixsearch.cli.web_run import WebRun, fetch_options, run_crawl, summary_table
from pixsearch.crawl.crawler import CrawlOptions
from pixsearch.crawl.frontier import Frontier
from pixsearch.crawl.scope import Scope
from pixsearch.crawl.url_shards import UrlJob, url_shards
from pixsearch.crawl.urllist import UrlListError, url_rows
from pixsearch.crawl.urls import host_of
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.distributors import SHARD_FILES


@click.command("import-urls")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@fetch_options
@distributor_options
@click.option(
    "--shard-urls",
    type=int,
    default=SHARD_FILES,
    show_default=True,
    help="Image URLs per input shard (with --distributor ray).",
)
def import_urls(
    file: Path, index_dir: Path, web: WebRun, distribution: Distribution | None, shard_urls: int
) -> None:
    """Download and index the image URLs listed in FILE (CSV, TSV, JSONL, Parquet).

    With --distributor ray, the list is cut into chunks of distinct URLs (host
    after host), each fetched and processed by a Ray worker, and the index is
    built from each chunk's feature shard as it is written.
    """
    if distribution is not None:
        _import_urls_sharded(file, index_dir, web, distribution, shard_urls)
        return
    scope = Scope()  # the hosts the list names, filled while the rows stream in
    console = Console(stderr=True)

    def setup(frontier: Frontier) -> None:
        bad = 0
        try:
            for row in url_rows(file):
                if isinstance(row, str):
                    bad += 1
                    continue
                scope.hosts.add(host_of(row.url))
                frontier.add(row.url, "image", 0)
                frontier.add_ref(row.url, row.occurrence)
        except UrlListError as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            frontier.commit()
        if bad:
            console.print(f"[yellow]{bad} rows without a usable url skipped[/]")

    models = web.models()
    options = CrawlOptions(
        seeds=[],
        scope=scope,
        fetch=web.fetch,
        concurrency=web.concurrency,
        pipeline=PipelineConfig(analyzers=models.used),
    )
    run_crawl(options, models, index_dir, web.quiet, setup)


def _import_urls_sharded(
    file: Path, index_dir: Path, web: WebRun, distribution: Distribution, size: int
) -> None:
    try:
        listed = url_shards(file, size)
    except UrlListError as exc:
        raise click.ClickException(str(exc)) from None
    console = Console(stderr=True)
    if listed.bad_rows:
        console.print(f"[yellow]{listed.bad_rows} rows without a usable url skipped[/]")
    models = web.models()
    config = PipelineConfig(analyzers=models.used)
    job = UrlJob(web.fetch, web.concurrency, listed.hosts)
    run, live = distribution.distribute("import-urls", index_dir, config, listed.shards, job)
    urls = sum(len(shard.paths) for shard in listed.shards)
    table = summary_table(
        "import-urls summary",
        [("image urls", urls)],
        live,
        {"failed": failures(run, "image:")},
        models,
    )
    console.print(table)
    if run.failed:
        sys.exit(1)
