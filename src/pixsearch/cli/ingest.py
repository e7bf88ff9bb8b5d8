"""`pixsearch ingest`: index image files from folders, with progress and a summary."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

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

from pixsearch.cli.index_cmd import open_target, require_parquet
from pixsearch.cli.options import (
    MB,
    SkippedModel,
    add_model_rows,
    analyzer_options,
    index_option,
    load_settings,
    open_indexer,
    resolve_analyzers,
    semantic_skipped,
    setting_option,
)
from pixsearch.config import Settings
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.distributors import (
    DISTRIBUTORS,
    DistributedRun,
    DistributorUnavailable,
    InputShard,
    ShardJob,
    ShardOutcome,
    image_files,
    ingest_shards,
    open_distributor,
    split_paths,
)
from pixsearch.ingest.indexer import Indexer, IngestSummary
from pixsearch.ingest.parallel import process_many, tune_worker_memory
from pixsearch.ingest.sources import iter_files, roots_of
from pixsearch.observe.jobs import JobCollector, log_summary, textfile_writer
from pixsearch.observe.logs import LOG_FORMATS, configure_logging
from pixsearch.records import Rejection

if TYPE_CHECKING:  # feature shards need pyarrow, an optional dependency: imported when used
    from pixsearch.index.features.build import Target

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
@setting_option("distributor", type=click.Choice(list(DISTRIBUTORS)))
@setting_option("ray_address")
@click.option(
    "--features",
    "features_dir",
    default=None,
    metavar="DIR",
    help="Keep the pipeline's output as feature shards here (a folder or URI, shared by all "
    "Ray nodes), and build the index from them; a rerun skips the shards already written. "
    "Default: none with --distributor local, a temporary folder with ray.",
)
@setting_option("shard_files")
@setting_option("shard_attempts")
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
    distributor: str,
    ray_address: str,
    features_dir: str | None,
    shard_files: int,
    shard_attempts: int,
    analyzers: str | None,
    no_neural: bool,
) -> None:
    """Index the image files under PATHS (folders are walked recursively).

    With --distributor ray (or --features) the pipeline writes feature shards,
    processed on a Ray cluster (or this machine's pool), and the index is built
    from each shard as it is written.
    """
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
        roots=roots_of(list(paths)),
    )
    models = Models(choice.used, choice.skipped + semantic_skipped(settings))
    tune_worker_memory()  # the in-process path (--workers 1) gains what pool workers get
    if distributor != "local" or features_dir is not None:
        sharded = ShardedRun(distributor, ray_address, features_dir, shard_files, shard_attempts)
        sharded.run(list(paths), settings, config, workers, console, models, show_rejected)
        return
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
class ShardedRun:
    """An ingest through feature shards: a distributor runs the pipeline over input
    shards, and the index loads each feature shard as soon as it is written."""

    distributor: str
    ray_address: str
    features_dir: str | None  # None: a temporary folder beside the index, removed after
    shard_files: int
    attempts: int

    def run(
        self,
        paths: list[Path],
        settings: Settings,
        config: PipelineConfig,
        workers: int | None,
        console: Console,
        models: Models,
        show_rejected: bool,
    ) -> None:
        walked = list(iter_files(paths))
        rejections = [item for item in walked if isinstance(item, Rejection)]
        shards = split_paths((p for p in walked if isinstance(p, Path)), self.shard_files)
        run, live = self.distribute(shards, settings, config, workers, console, rejections)
        print_counts(console, live, run.rejections, models, show_rejected, run.failed)
        if run.failed:
            sys.exit(1)

    def distribute(
        self,
        shards: list[InputShard],
        settings: Settings,
        config: PipelineConfig,
        workers: int | None,
        console: Console,
        rejections: list[Rejection],
        *,
        job: ShardJob = image_files,
        command: str = "ingest",
    ) -> tuple[DistributedRun, IngestSummary]:
        """Run `job` over `shards` on the distributor, loading the index as shards finish.

        The run's rejections are `rejections` (the caller's own) and the pipeline's.
        """
        require_parquet()
        from pixsearch.index.features.build import Loader
        from pixsearch.index.features.folder import FeatureFolder

        try:
            distributor = open_distributor(
                self.distributor, workers=workers, address=self.ray_address, attempts=self.attempts
            )
        except DistributorUnavailable as exc:
            raise click.ClickException(str(exc)) from None
        location, temporary = self._location(settings.index_dir)
        features = FeatureFolder(location)
        target = open_target(settings, settings.index_dir)
        live = IngestSummary()
        job_metrics = JobCollector(command, ingest=lambda: live)
        textfile = Path(settings.metrics_textfile) if settings.metrics_textfile else None
        loader = Loader(features, [target], commit_every=settings.commit_every)
        sizes = {shard.name: len(shard.paths) for shard in shards}
        try:
            with (
                textfile_writer(textfile, job_metrics),
                _bar(console, command, sum(sizes.values())) as progress,
            ):

                def on_shard(outcome: ShardOutcome) -> None:
                    progress.advance(progress.task_ids[0], sizes[outcome.name])
                    _tally(live, target, rejections)

                run = ingest_shards(
                    distributor, shards, features, config, loader, job=job, on_shard=on_shard
                )
                run.rejections[:0] = rejections
                _tally(live, target, run.rejections)
        finally:
            target.store.close()
            if temporary is not None:
                shutil.rmtree(temporary, ignore_errors=True)
        log_summary(job_metrics)
        return run, live

    def _location(self, index_dir: Path) -> tuple[str, Path | None]:
        if self.features_dir is not None:
            return self.features_dir, None
        parent = index_dir.resolve().parent
        parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.features-", dir=parent))
        return str(temporary), temporary


def _tally(live: IngestSummary, target: Target, rejections: list[Rejection]) -> None:
    live.indexed, live.duplicates = target.indexed, target.duplicates
    live.unchanged, live.commits = target.unchanged, target.commits
    live.rejected = Counter(r.reason for r in rejections)


def _bar(console: Console, command: str, total: int) -> Progress:
    columns = (
        TextColumn(f"[bold]{command}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    progress = Progress(*columns, console=console, transient=False)
    progress.add_task("ingest", total=total)
    return progress


@dataclass(frozen=True, slots=True)
class Models:
    """The analyzers a run used and the default models it went without."""

    used: tuple[str, ...]
    skipped: tuple[SkippedModel, ...] = ()


def print_summary(console: Console, indexer: Indexer, models: Models, show_rejected: bool) -> None:
    print_counts(console, indexer.summary, indexer.rejections, models, show_rejected)


def print_counts(
    console: Console,
    summary: IngestSummary,
    rejections: list[Rejection],
    models: Models,
    show_rejected: bool,
    failed: list[ShardOutcome] | None = None,
) -> None:
    table = Table(title="ingest summary", show_header=False)
    table.add_row("indexed (new images)", str(summary.indexed))
    table.add_row("duplicates (new places of indexed images)", str(summary.duplicates))
    table.add_row("unchanged (seen before)", str(summary.unchanged))
    for reason, count in sorted(summary.rejected.items()):
        table.add_row(f"rejected: {reason}", str(count))
    table.add_row("commits", str(summary.commits))
    for shard in failed or []:
        table.add_row(
            f"[bold red]failed shard {shard.name}[/]", f"[bold red]{escape(shard.error)}[/]"
        )
    add_model_rows(table, models.used, models.skipped)
    console.print(table)
    if show_rejected:
        for rejection in rejections:
            console.print(f"  {rejection.reason:14} {rejection.source}  {rejection.detail}")
