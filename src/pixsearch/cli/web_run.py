"""What the web sources (`crawl`, `import-urls`, `import-warc`) share: fetch options,
the crawl loop with its live line, and one summary table."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from pixsearch.cli.index_cmd import require_parquet
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
    crawl_db_path,
)
from pixsearch.crawl.fetcher import FetchSettings
from pixsearch.crawl.frontier import Frontier
from pixsearch.index.store import WriteStore
from pixsearch.ingest.indexer import ChangeLog, ChangeLogError, Indexer, IngestSummary
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
        return web_models(self.analyzers, self.no_neural)


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
            help="Fetches under way at once, one at a time per host (with --distributor ray: "
            "per Ray worker for import-urls; at least two per Ray worker for crawl).",
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


def web_models(analyzers: str | None, no_neural: bool) -> AnalyzerChoice:
    """The analyzers a web source's run uses, and the default models it goes without."""
    choice = resolve_analyzers(analyzers, no_neural, Console(stderr=True))
    skipped = choice.skipped + semantic_skipped(load_settings())
    return AnalyzerChoice(choice.used, skipped)


def open_web_index(
    index_dir: Path, analyzers: tuple[str, ...] = ()
) -> tuple[WriteStore, Indexer, Frontier]:
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


def summary_table(
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
    table = summary_table(
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


def run_crawl(
    options: CrawlOptions,
    models: AnalyzerChoice,
    index_dir: Path,
    quiet: bool,
    setup: Callable[[Frontier], None] | None = None,
    features: str | None = None,
) -> None:
    console = Console(stderr=True)
    settings = load_settings(index_dir=index_dir)
    configure_logging(settings)
    changes = _feature_log(features) if features else None
    store, indexer, frontier = open_web_index(index_dir, options.pipeline.analyzers)
    indexer.changes = changes
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
    except ChangeLogError as exc:
        message = f"{exc}; the index holds its last commit: rerun to resume"
        raise click.ClickException(message) from None
    finally:
        frontier.close()
        store.close()
    log_summary(job)
    _summary(console, stats, indexer, models)


def _feature_log(location: str) -> ChangeLog:
    require_parquet()
    from pixsearch.index.features.folder import FeatureFolder
    from pixsearch.ingest.feature_log import FeatureLog

    return FeatureLog(FeatureFolder(location))
