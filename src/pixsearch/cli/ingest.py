"""`pixsearch ingest`: index image files from folders, with progress and a summary."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pixsearch.cli.options import (
    analyzer_options,
    index_option,
    open_indexer,
    resolve_analyzers,
)
from pixsearch.config import Settings
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.indexer import Indexer, IngestSummary
from pixsearch.ingest.parallel import process_many, tune_worker_memory
from pixsearch.ingest.sources import iter_files
from pixsearch.records import Rejection


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@index_option
@click.option("--workers", type=int, default=None, help="Processes (default: all cores).")
@click.option(
    "--max-file-mb",
    type=float,
    default=50.0,
    show_default=True,
    help="Reject files larger than this.",
)
@click.option(
    "--max-megapixels",
    type=float,
    default=100.0,
    show_default=True,
    help="Reject images declaring more pixels than this (decompression bombs).",
)
@click.option("--commit-every", type=int, default=None, help="Commit after this many images.")
@click.option("--show-rejected", is_flag=True, help="List every rejected file with its reason.")
@analyzer_options
def ingest(
    paths: tuple[Path, ...],
    index_dir: Path,
    workers: int | None,
    max_file_mb: float,
    max_megapixels: float,
    commit_every: int | None,
    show_rejected: bool,
    analyzers: str | None,
    no_neural: bool,
) -> None:
    """Index the image files under PATHS (folders are walked recursively)."""
    settings = Settings.load(index_dir=index_dir, commit_every=commit_every)
    console = Console(stderr=True)
    config = PipelineConfig(
        max_file_bytes=int(max_file_mb * 1024 * 1024),
        max_pixels=int(max_megapixels * 1_000_000),
        analyzers=resolve_analyzers(analyzers, no_neural, console),
    )
    tune_worker_memory()  # the in-process path (--workers 1) gains what pool workers get
    store, indexer = open_indexer(settings, config.analyzers)
    try:
        run_ingest(list(paths), config, indexer, workers=workers, console=console)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: keeping what was processed[/]")
        indexer.commit()
        print_summary(console, indexer.summary, indexer.rejections, show_rejected)
        store.close()
        sys.exit(130)
    indexer.commit()
    store.close()
    print_summary(console, indexer.summary, indexer.rejections, show_rejected)


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


def _timed(items: Iterator, progress: Progress, task: int) -> Iterator:
    for item in items:
        yield item
        progress.advance(task)
        elapsed = progress.tasks[task].elapsed or 0
        if elapsed:
            progress.update(task, rate=progress.tasks[task].completed / elapsed)


def print_summary(
    console: Console, summary: IngestSummary, rejections: list[Rejection], show_rejected: bool
) -> None:
    table = Table(title="ingest summary", show_header=False)
    table.add_row("indexed (new images)", str(summary.indexed))
    table.add_row("duplicates (new places of indexed images)", str(summary.duplicates))
    table.add_row("unchanged (seen before)", str(summary.unchanged))
    for reason, count in sorted(summary.rejected.items()):
        table.add_row(f"rejected: {reason}", str(count))
    table.add_row("commits", str(summary.commits))
    console.print(table)
    if show_rejected:
        for rejection in rejections:
            console.print(f"  {rejection.reason:14} {rejection.source}  {rejection.detail}")
