"""`pixsearch ingest`: index image files from folders, with progress and a summary."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from pixsearch.cli.options import (
    MB,
    SkippedModel,
    analyzer_options,
    index_option,
    load_settings,
    open_indexer,
    resolve_analyzers,
    semantic_skipped,
    setting_option,
)
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.indexer import Indexer, IngestSummary
from pixsearch.ingest.parallel import process_many, tune_worker_memory
from pixsearch.ingest.sources import iter_files
from pixsearch.observe.jobs import JobCollector, log_summary, textfile_writer
from pixsearch.observe.logs import LOG_FORMATS, configure_logging
from pixsearch.records import Rejection

MEGAPIXEL = 1_000_000
T = TypeVar("T")


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@index_option
@click.option("--workers", type=int, default=None, help="Processes (default: all cores).")
@click.option(
    "--max-file-mb",
    type=float,
    default=PipelineConfig.max_file_bytes / MB,
    show_default=True,
    help="Reject files larger than this.",
)
@click.option(
    "--max-megapixels",
    type=float,
    default=PipelineConfig.max_pixels / MEGAPIXEL,
    show_default=True,
    help="Reject images declaring more pixels than this (decompression bombs).",
)
@setting_option("commit_every")
@setting_option("metrics_textfile")
@setting_option("log_format", type=click.Choice(LOG_FORMATS))
@click.option("--show-rejected", is_flag=True, help="List every rejected file with its reason.")
@analyzer_options
def ingest(
    paths: tuple[Path, ...],
    index_dir: Path,
    workers: int | None,
    max_file_mb: float,
    max_megapixels: float,
    commit_every: int,
    metrics_textfile: str,
    log_format: str,
    show_rejected: bool,
    analyzers: str | None,
    no_neural: bool,
) -> None:
    """Index the image files under PATHS (folders are walked recursively)."""
    settings = load_settings(
        index_dir=index_dir,
        commit_every=commit_every,
        metrics_textfile=metrics_textfile,
        log_format=log_format,
    )
    configure_logging(settings)
    console = Console(stderr=True)
    choice = resolve_analyzers(analyzers, no_neural, console)
    config = PipelineConfig(
        max_file_bytes=int(max_file_mb * MB),
        max_pixels=int(max_megapixels * MEGAPIXEL),
        analyzers=choice.used,
    )
    models = Models(choice.used, choice.skipped + semantic_skipped(settings))
    tune_worker_memory()  # the in-process path (--workers 1) gains what pool workers get
    store, indexer = open_indexer(settings, config.analyzers)
    job = JobCollector("ingest", ingest=lambda: indexer.summary)
    textfile = Path(settings.metrics_textfile) if settings.metrics_textfile else None
    try:
        with textfile_writer(textfile, job):
            run_ingest(list(paths), config, indexer, workers=workers, console=console)
            indexer.commit()  # inside: the last textfile counts this commit
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: keeping what was processed[/]")
        indexer.commit()
        print_summary(console, indexer, models, show_rejected)
        store.close()
        sys.exit(130)
    store.close()
    log_summary(job)
    print_summary(console, indexer, models, show_rejected)


def run_ingest(
    paths: list[Path],
    config: PipelineConfig,
    indexer: Indexer,
    *,
    workers: int | None,
    console: Console,
) -> IngestSummary:
    # Walk twice rather than hold millions of paths: the first walk only counts,
    # so the bar has a total; the second streams paths into the pool.
    total = sum(1 for item in iter_files(paths) if isinstance(item, Path))
    columns = (
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>7.1f} img/s"),
        TextColumn("{task.fields[info]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("ingest", total=total, rate=0.0, info="")
        files = _files_only(iter_files(paths), indexer)
        for outcome in _timed(process_many(files, config, workers=workers), progress, task):
            indexer.handle(outcome)
            s = indexer.summary
            progress.update(
                task, info=f"new {s.indexed} dup {s.duplicates} rejected {sum(s.rejected.values())}"
            )
    return indexer.summary


def _files_only(found: Iterator[Path | Rejection], indexer: Indexer) -> Iterator[Path]:
    """Paths for the pipeline; what the walk itself rejected goes straight to the summary."""
    for item in found:
        if isinstance(item, Path):
            yield item
        else:
            indexer.handle(item)


def _timed(items: Iterator[T], progress: Progress, task: TaskID) -> Iterator[T]:
    for item in items:
        yield item
        progress.advance(task)
        elapsed = progress.tasks[task].elapsed or 0
        if elapsed:
            progress.update(task, rate=progress.tasks[task].completed / elapsed)


@dataclass(frozen=True, slots=True)
class Models:
    """The analyzers a run used and the default models it went without."""

    used: tuple[str, ...]
    skipped: tuple[SkippedModel, ...] = ()


def print_summary(console: Console, indexer: Indexer, models: Models, show_rejected: bool) -> None:
    summary = indexer.summary
    table = Table(title="ingest summary", show_header=False)
    table.add_row("indexed (new images)", str(summary.indexed))
    table.add_row("duplicates (new places of indexed images)", str(summary.duplicates))
    table.add_row("unchanged (seen before)", str(summary.unchanged))
    for reason, count in sorted(summary.rejected.items()):
        table.add_row(f"rejected: {reason}", str(count))
    table.add_row("commits", str(summary.commits))
    table.add_row("analyzers", ", ".join(models.used) or "none")
    # Last and in bold: a skipped default means an index without tags, similar images
    # or safe search, which a warning above the progress bar is too easy to miss.
    for skipped in models.skipped:
        reason = escape(skipped.reason)
        table.add_row(f"[bold red]skipped: {skipped.name}[/]", f"[bold red]{reason}[/]")
    console.print(table)
    if show_rejected:
        for rejection in indexer.rejections:
            console.print(f"  {rejection.reason:14} {rejection.source}  {rejection.detail}")
