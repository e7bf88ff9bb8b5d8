"""`pixsearch index build` and `pixsearch reindex`: indexes from feature shards.

``index build FEATURES --index DIR [--shards N]`` writes the images of a feature
folder (``ingest --features``, or a Ray ingest) into one index, or into N shard
directories DIR/shard-0 .. DIR/shard-N-1 with every near-duplicate group on one
shard: side by side in --workers processes here, or with ``--distributor ray`` each
shard a Ray task, on a cluster whose nodes all see DIR (index/features/ray_build.py).
``reindex --index DIR`` rebuilds an index from what it stores, under the
current schema, and swaps it in; its new shards are written as ``index build``
writes them. Neither decodes an image or runs an image model.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from pixsearch.cli.options import index_option, load_settings, open_indexer, setting_option
from pixsearch.config import Settings
from pixsearch.index.backends import open_writer
from pixsearch.index.store import IndexLockedError, WriteStore
from pixsearch.ingest.distributors import join_ray
from pixsearch.registry import Unavailable

if TYPE_CHECKING:  # feature shards need pyarrow, an optional dependency: imported when used
    from pixsearch.index.features.build import BuildSummary, Target

# A bulk build commits seldom: each commit rewrites the vector file and merges segments;
# what waits for a commit is held in memory (about 3 KB an image).
BUILD_COMMIT_EVERY = 50_000
DISTRIBUTORS = ("local", "ray")  # who writes the shards of `index build`


def require_parquet() -> None:
    """Feature shards are Parquet: without pyarrow, say which extra to install."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise click.ClickException(
            "feature shards need pyarrow: pip install 'pixsearch[parquet]'"
        ) from None


def open_target(settings: Settings, folder: Path) -> Target:
    """A writable embedded index at `folder`, wired as ingest wires one (derived vectors too)."""
    from pixsearch.index.features.build import Target

    shard_settings = dataclasses.replace(settings, index_dir=folder, backend="embedded")
    store, indexer = open_indexer(shard_settings, ("clip",))  # CLIP vectors kept if given
    return Target(store, clip_vectors=indexer.clip_vectors, after_commit=indexer.after_commit)


def shard_folders(index_dir: Path, shards: int) -> list[Path]:
    """Where the shards go: DIR itself for one, DIR/shard-0..N-1 (all new) for several."""
    if shards < 1:
        raise click.BadParameter(f"--shards must be at least 1, not {shards}")
    if shards == 1:
        return [index_dir]
    folders = [index_dir / f"shard-{i}" for i in range(shards)]
    if (index_dir / "meta.db").exists() or any((f / "meta.db").exists() for f in folders):
        raise click.ClickException(
            f"{index_dir} already holds an index: a sharded build starts from empty folders, "
            "since groups are assigned over the features alone"
        )
    return folders


class _Rate(ProgressColumn):
    """Records written per second since the bar began (a sharded build groups first)."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:>9,.0f} records/s")


def _progress(console: Console, total: int) -> Progress:
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _Rate(),
        TimeRemainingColumn(),
    )
    progress = Progress(*columns, console=console, transient=False)
    progress.add_task("build", total=total)
    return progress


def workers_option(help_text: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """--workers: how many processes write shards side by side (index/features/parallel.py)."""
    return click.option(
        "--workers", type=click.IntRange(min=1), default=1, show_default=True, help=help_text
    )


@click.group("index")
def index_group() -> None:
    """Build indexes from feature shards."""


def writer_options(shared: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """--distributor, --ray-address and --shard-attempts: who writes the shards (`_builder`);
    `shared` says what, besides --index, every Ray node must see."""

    def apply(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed(
            (
                setting_option(
                    "distributor",
                    type=click.Choice(DISTRIBUTORS),
                    help="Who writes the shards: local (processes here, --workers) or ray (a "
                    "Ray task of one CPU each, even for one shard, on the cluster "
                    "--ray-address names). With ray, --index must be a folder every Ray node "
                    f"sees at the same path (a shared filesystem){shared}.",
                ),
                setting_option("ray_address"),
                setting_option(
                    "shard_attempts",
                    help="Tries of each shard's Ray task (--distributor ray), each from an "
                    "empty folder, before the build stops.",
                ),
            )
        ):
            command = option(command)
        return command

    return apply


@index_group.command("build")
@click.argument("features")
@index_option
@click.option("--shards", type=int, default=1, show_default=True, help="Index shards to build.")
@workers_option("Processes writing shards at once (--distributor local, --shards over 1).")
@setting_option("dup_distance")
@writer_options(", and FEATURES a folder or URI every node reaches")
def build(
    features: str,
    index_dir: Path,
    shards: int,
    workers: int,
    dup_distance: int,
    distributor: str,
    ray_address: str,
    shard_attempts: int,
) -> None:
    """Build the index at --index from the feature shards at FEATURES (a folder or URI)."""
    require_parquet()
    from pixsearch.index.features.folder import FeatureFolder

    settings = load_settings(index_dir=index_dir, dup_distance=dup_distance)
    console = Console(stderr=True)
    folder = FeatureFolder(features)
    names = folder.names()
    if not names:
        raise click.ClickException(f"no feature shards in {features}")
    folders = shard_folders(index_dir, shards)
    started = time.perf_counter()
    with _builder(distributor, ray_address, shard_attempts, workers, console) as write:
        try:
            with _progress(console, folder.count(names)) as progress:
                task = progress.task_ids[0]
                summary = write(
                    folder,
                    folders,
                    functools.partial(open_target, settings),
                    names=names,
                    commit_every=BUILD_COMMIT_EVERY,
                    dup_distance=settings.dup_distance,
                    progress=lambda n: progress.update(task, completed=n),
                )
        except (Unavailable, OSError) as exc:  # a shard's folder or store, here or in a worker
            raise click.ClickException(f"index build stopped: {exc}") from exc
    print_build(console, summary, time.perf_counter() - started)


@contextlib.contextmanager
def _builder(
    distributor: str,
    address: str,
    attempts: int,
    workers: int,
    console: Console,
    command: str = "index build",
) -> Iterator[Callable[..., BuildSummary]]:
    """What writes the shards: `build_into` here, or `build_on_ray` on the Ray joined for
    the build (a local one started for it is stopped after)."""
    if distributor == "local":
        from pixsearch.index.features.parallel import build_into

        yield functools.partial(build_into, workers=workers)
        return
    if distributor != "ray":  # a value from the environment, which click did not check
        raise click.ClickException(f"{command}: --distributor {distributor!r}: local or ray")
    if attempts < 1:
        raise click.ClickException(f"--shard-attempts must be at least 1, not {attempts}")
    try:  # an optional extra: these say how to install it
        from pixsearch.index.features.ray_build import ShardFailed, build_on_ray
    except ImportError as exc:
        raise click.ClickException(str(exc)) from None
    import ray

    try:
        started_here = join_ray(address)
    except Unavailable as exc:
        raise click.ClickException(str(exc)) from None
    try:
        yield functools.partial(build_on_ray, attempts=attempts, warn=_warner(console))
    except ShardFailed as exc:  # raised inside the with block, thrown in here
        raise click.ClickException(f"{command} stopped: {exc}") from exc
    finally:
        if started_here:
            ray.shutdown()


def _warner(console: Console) -> Callable[[str], None]:
    return lambda text: console.print(f"[bold yellow]warning: {escape(text)}[/]")


@click.command("reindex")
@index_option
@workers_option("Processes writing a sharded index's new shards at once; one core each.")
@writer_options(" (the new index is built beside it, in .NAME.reindex)")
def reindex(
    index_dir: Path, workers: int, distributor: str, ray_address: str, shard_attempts: int
) -> None:
    """Rebuild the index at --index under the current schema from its own stored features.

    --index may also be the folder of a sharded build (DIR/shard-0 ...): its shards are
    rebuilt together, grouped as one. Keys, instances and the query log (service.db,
    secret.key) are kept. Stop the server first: what it writes to them meanwhile
    would be lost. The features are read here; with --distributor ray the new shards
    are written by Ray tasks. If that fails, the old index stays as it was.
    """
    require_parquet()
    from pixsearch.index.features.reindex import reindex_shards

    settings = load_settings(index_dir=index_dir)
    console = Console(stderr=True)
    names = [""] if (index_dir / "meta.db").exists() else shard_names(index_dir)
    if not names:
        raise click.ClickException(f"no embedded or sharded index at {index_dir} to rebuild")
    started = time.perf_counter()
    # Ray is joined before the old index is locked: a refusal there leaves nothing open.
    with _builder(distributor, ray_address, shard_attempts, workers, console, "reindex") as write:
        olds = open_olds(index_dir, names, settings.dup_distance)
        with _progress(console, sum(old.stats()["images"] for old in olds.values())) as progress:
            summary = reindex_shards(
                olds,
                index_dir,
                functools.partial(open_target, settings),
                dup_distance=settings.dup_distance,
                write=write,
                progress=lambda done: progress.update(progress.task_ids[0], completed=done),
            )
    print_build(console, summary.build, time.perf_counter() - started)


def open_olds(index_dir: Path, names: list[str], dup_distance: int) -> dict[str, WriteStore]:
    """The index (or each shard) to rebuild, open for writing: locked until the swap."""
    olds: dict[str, WriteStore] = {}
    try:
        for name in names:
            olds[name] = open_writer("embedded", index_dir / name, dup_distance=dup_distance)
    except IndexLockedError as exc:
        for old in olds.values():
            old.close()
        raise click.ClickException(str(exc)) from None
    return olds


def shard_names(index_dir: Path) -> list[str]:
    """The shard folders of a sharded build (shard-0 ...), in shard order; [] if none."""
    found = [p for p in index_dir.glob("shard-*") if (p / "meta.db").exists()]
    numbered = [p.name for p in found if p.name.removeprefix("shard-").isdigit()]
    return sorted(numbered, key=lambda name: int(name.removeprefix("shard-")))


def print_build(console: Console, summary: BuildSummary, seconds: float) -> None:
    table = Table(title="index build", show_header=False)
    table.add_row("feature records", str(summary.records))
    for i, count in enumerate(summary.indexed):
        name = "indexed (new images)" if len(summary.indexed) == 1 else f"shard-{i}: new images"
        table.add_row(name, str(count))
    table.add_row("duplicates (new places of indexed images)", str(summary.duplicates))
    table.add_row("unchanged (seen before)", str(summary.unchanged))
    table.add_row("commits", str(summary.commits))
    if len(summary.indexed) > 1:
        table.add_row("near-duplicate grouping", f"{summary.grouping_seconds:.1f} s")
    if summary.nodes:
        table.add_row("Ray nodes that wrote shards", str(summary.nodes))
    rate = summary.records / seconds if seconds > 0 else 0.0
    table.add_row("time", f"{seconds:.1f} s ({rate:,.0f} records/s)")
    console.print(table)
