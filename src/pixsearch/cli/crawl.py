"""`pixsearch crawl | import-warc | import-urls`: web sources into the index."""

from __future__ import annotations

import asyncio
import functools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from pixsearch.cli.distribution import (
    Distribution,
    distributor_options,
    failures,
    processor_options,
)
from pixsearch.cli.options import (
    MB,
    AnalyzerChoice,
    add_model_rows,
    analyzer_options,
    dataclass_default,
    index_option,
    load_settings,
    open_indexer,
    resolve_analyzers,
    semantic_skipped,
)
from pixsearch.crawl.crawler import (
    DEFAULT_USER_AGENT,
    Crawler,
    CrawlOptions,
    CrawlStats,
    Processor,
    crawl_db_path,
)
from pixsearch.crawl.fetcher import FetchSettings
from pixsearch.crawl.frontier import Frontier
from pixsearch.crawl.scope import Scope
from pixsearch.crawl.url_shards import UrlJob, url_shards
from pixsearch.crawl.urllist import UrlListError, url_rows
from pixsearch.crawl.urls import host_of, normalize
from pixsearch.crawl.warc import import_warcs
from pixsearch.crawl.warc_shards import warc_shards
from pixsearch.index.store import WriteStore
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.distributors import (
    SHARD_FILES,
)
from pixsearch.ingest.indexer import Indexer, IngestSummary
from pixsearch.observe.jobs import JobCollector, log_summary, textfile_writer
from pixsearch.observe.logs import configure_logging


@dataclass(frozen=True, slots=True)
class WebRun:
    """What crawl and import-urls share: politeness, caps, safety, analyzers, output."""

    fetch: FetchSettings
    concurrency: int
    analyzers: str | None  # --analyzers as given; resolved when the run starts
    no_neural: bool
    quiet: bool

    def models(self) -> AnalyzerChoice:
        return _models(self.analyzers, self.no_neural)


def fetch_options(func: Callable[..., None]) -> Callable[..., None]:
    """Politeness, caps and safety shared by crawl and import-urls, handed over as one WebRun."""

    @functools.wraps(func)
    def command(
        *,
        concurrency: int,
        delay: float,
        user_agent: str,
        timeout: float,
        max_mb: float,
        allow_private: bool,
        quiet: bool,
        analyzers: str | None,
        no_neural: bool,
        **rest: Any,
    ) -> None:
        fetch = FetchSettings(
            user_agent=user_agent,
            timeout=timeout,
            max_bytes=int(max_mb * MB),
            delay=delay,
            allow_private=allow_private,
        )
        web = WebRun(fetch, concurrency, analyzers, no_neural, quiet)
        func(web=web, **rest)

    options = (
        click.option(
            "--concurrency",
            type=int,
            default=dataclass_default(CrawlOptions, "concurrency"),
            show_default=True,
        ),
        # Politer than FetchSettings' own 0: a crawl from the command line waits per host.
        click.option(
            "--delay", type=float, default=1.0, show_default=True, help="Seconds per host."
        ),
        click.option("--user-agent", default=DEFAULT_USER_AGENT, show_default=True),
        click.option(
            "--timeout",
            type=float,
            default=dataclass_default(FetchSettings, "timeout"),
            show_default=True,
        ),
        click.option(
            "--max-mb",
            type=float,
            default=dataclass_default(FetchSettings, "max_bytes") / MB,
            show_default=True,
            help="Per response.",
        ),
        click.option("--allow-private", is_flag=True, help="Allow private/loopback addresses."),
        click.option("--quiet", is_flag=True, help="No live progress."),
    )
    wrapped: Callable[..., None] = command
    for option in reversed(options):
        wrapped = option(wrapped)
    return index_option(analyzer_options(wrapped))


def _models(analyzers: str | None, no_neural: bool) -> AnalyzerChoice:
    """The analyzers a web source's run uses, and the default models it goes without."""
    choice = resolve_analyzers(analyzers, no_neural, Console(stderr=True))
    skipped = choice.skipped + semantic_skipped(load_settings())
    return AnalyzerChoice(choice.used, skipped)


def _open(index_dir: Path, analyzers: tuple[str, ...] = ()) -> tuple[WriteStore, Indexer, Frontier]:
    settings = load_settings(index_dir=index_dir)
    store, indexer = open_indexer(settings, analyzers)
    return store, indexer, Frontier(crawl_db_path(settings.index_dir))


def _line(stats: CrawlStats) -> str:
    errors = sum(stats.errors.values())
    return (
        f"pages {stats.pages} ({stats.pages / stats.elapsed:.1f}/s)  "
        f"images {stats.images} ({stats.images / stats.elapsed:.1f}/s)  "
        f"queue {stats.queued}  errors {errors}"
    )


def _run(crawler: Crawler, console: Console, quiet: bool) -> CrawlStats:
    if quiet:
        return asyncio.run(crawler.run())
    with Live(console=console, refresh_per_second=4) as live:
        stats = asyncio.run(crawler.run(lambda s: live.update(_line(s))))
    console.print()  # the live line ends without a newline when stderr is not a terminal
    return stats


def _summary_table(
    title: str,
    counts: list[tuple[str, int]],
    summary: IngestSummary,
    reasons: dict[str, dict[str, int]],
    models: AnalyzerChoice,
) -> Table:
    """One summary shape for every web source: its counts, the index's, reasons, models."""
    table = Table(title=title, show_header=False)
    for label, value in counts:
        table.add_row(label, str(value))
    table.add_row("indexed (new images)", str(summary.indexed))
    table.add_row("new places of indexed images", str(summary.duplicates))
    for kind, by_reason in reasons.items():
        for reason, count in sorted(by_reason.items()):
            table.add_row(f"{kind}: {reason}", str(count))
    add_model_rows(table, models.used, models.skipped)
    return table


def _summary(console: Console, stats: CrawlStats, indexer: Indexer, models: AnalyzerChoice) -> None:
    table = _summary_table(
        "crawl summary",
        [
            ("pages fetched", stats.pages),
            ("images fetched", stats.images),
            ("not modified", stats.not_modified),
        ],
        indexer.summary,
        {"failed": stats.errors, "skipped": stats.skipped},
        models,
    )
    table.add_row("still queued", str(stats.queued))
    console.print(table)


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
@processor_options
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
    processor: Processor | None,
) -> None:
    """Crawl the sites of SEEDS and index their images; rerun to resume.

    With --distributor ray, the frontier and the fetching stay here and each
    fetched image's pipeline (decoding, analyzers) runs as a Ray task.
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
        process=processor,
    )
    _crawl(options, models, index_dir, web.quiet)


def _crawl(
    options: CrawlOptions,
    models: AnalyzerChoice,
    index_dir: Path,
    quiet: bool,
    setup: Callable[[Frontier], None] | None = None,
) -> None:
    console = Console(stderr=True)
    settings = load_settings(index_dir=index_dir)
    configure_logging(settings)
    store, indexer, frontier = _open(index_dir, options.pipeline.analyzers)
    if setup is not None:
        try:
            setup(frontier)
        except click.ClickException:
            frontier.close()
            store.close()
            raise
    crawler = Crawler(options, indexer, frontier)
    job = JobCollector("crawl", ingest=lambda: indexer.summary, crawl=lambda: crawler.stats)
    textfile = Path(settings.metrics_textfile) if settings.metrics_textfile else None
    try:
        with textfile_writer(textfile, job):
            stats = _run(crawler, console, quiet)
    except KeyboardInterrupt:
        crawler.checkpoint()
        console.print("[yellow]interrupted: rerun the same command to resume[/]")
        stats = crawler.stats
    finally:
        frontier.close()
        store.close()
    log_summary(job)
    _summary(console, stats, indexer, models)


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
    _crawl(options, models, index_dir, web.quiet, setup)


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
    table = _summary_table(
        "import-urls summary",
        [("image urls", urls)],
        live,
        {"failed": failures(run, "image:")},
        models,
    )
    console.print(table)
    if run.failed:
        sys.exit(1)


@click.command("import-warc")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@index_option
@analyzer_options
@distributor_options
def import_warc(
    files: tuple[Path, ...],
    index_dir: Path,
    analyzers: str | None,
    no_neural: bool,
    distribution: Distribution | None,
) -> None:
    """Index the images of WARC/ARC FILES, with the context of their HTML pages.

    With --distributor ray, each archive is an input shard processed on a Ray
    cluster (the pages' context is gathered here first), and the index is built
    from each archive's feature shard as it is written.
    """
    console = Console(stderr=True)
    models = _models(analyzers, no_neural)
    config = PipelineConfig(analyzers=models.used)
    if distribution is not None:
        shards, job, stats = warc_shards(list(files))
        run, live = distribution.distribute("import-warc", index_dir, config, shards, job)
        counts = [("response records", stats.records), ("pages", stats.pages)]
        failed = {"failed": failures(run, "")}
        console.print(_summary_table("import-warc summary", counts, live, failed, models))
        if run.failed:
            sys.exit(1)
        return
    store, indexer, frontier = _open(index_dir, config.analyzers)
    frontier.close()
    try:
        stats = import_warcs(list(files), indexer, config)
    finally:
        store.close()
    counts = [("response records", stats.records), ("pages", stats.pages)]
    counts.append(("images processed", stats.images))
    table = _summary_table(
        "import-warc summary", counts, indexer.summary, {"failed": stats.errors}, models
    )
    console.print(table)
