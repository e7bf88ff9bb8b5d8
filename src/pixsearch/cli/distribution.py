"""--distributor for the web sources: their work on Ray, the index written here.

The ``local`` default keeps each command's own single-process path. With
``ray``, or with ``--features``, import-warc and import-urls run their input
shards (archives, chunks of a URL list) through ``ShardedRun`` as ``ingest``
runs folders (feature shards, loaded into the index as each is written); crawl
keeps its frontier, robots.txt and host gates here and has Ray actors fetch and
process its images (crawl/ray_images.py).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from pixsearch.cli.ingest import ShardedRun
from pixsearch.cli.options import load_settings, setting_option
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.distributors import (
    DISTRIBUTORS,
    DistributedRun,
    DistributorUnavailable,
    InputShard,
    ShardJob,
)
from pixsearch.ingest.indexer import IngestSummary
from pixsearch.observe.logs import configure_logging

WORKERS = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Ray actors (default: one per cluster CPU).",
)
OPTIONS = (
    setting_option("distributor", type=click.Choice(list(DISTRIBUTORS))),
    setting_option("ray_address"),
    setting_option("shard_attempts"),
)


def distributor_options(func: Callable[..., None]) -> Callable[..., None]:
    """--distributor, --ray-address, --shard-attempts, --workers and --features, handed
    over as one Distribution (None for the local default without --features: the
    command's own single-process path)."""

    @functools.wraps(func)
    def command(
        *,
        distributor: str,
        ray_address: str,
        shard_attempts: int,
        workers: int | None,
        features_dir: str | None,
        **rest: Any,
    ) -> None:
        how = None
        if distributor != "local" or features_dir is not None:
            # No shard size here: the command cuts its own input shards.
            run = ShardedRun(
                distributor, ray_address, features_dir, shard_files=0, attempts=shard_attempts
            )
            how = Distribution(run, workers)
        func(distribution=how, **rest)

    wrapped: Callable[..., None] = command
    for option in reversed(OPTIONS):
        wrapped = option(wrapped)
    wrapped = click.option(
        "--features",
        "features_dir",
        default=None,
        metavar="DIR",
        help="Keep the pipeline's output as feature shards here (a folder or URI, shared by "
        "all Ray nodes; `pixsearch index build` reads them again), and build the index from "
        "them; a rerun skips the shards already written. Default: none with --distributor "
        "local, a temporary folder with ray.",
    )(wrapped)
    return WORKERS(wrapped)


def remote_options(func: Callable[..., None]) -> Callable[..., None]:
    """--distributor, --ray-address, --shard-attempts and --workers for crawl, handed over as
    where its images are fetched and processed (None for the local default: in the crawl's
    process)."""

    @functools.wraps(func)
    def command(
        *, distributor: str, ray_address: str, shard_attempts: int, workers: int | None, **rest: Any
    ) -> None:
        if distributor == "local":
            func(remote=None, **rest)
            return
        try:
            from pixsearch.crawl.ray_images import RayImages  # an optional extra
        except ImportError as exc:
            raise click.ClickException(f"{exc}") from None
        try:
            with RayImages(address=ray_address, attempts=shard_attempts, workers=workers) as remote:
                func(remote=remote, **rest)
        except DistributorUnavailable as exc:
            raise click.ClickException(str(exc)) from None

    wrapped: Callable[..., None] = command
    for option in reversed(OPTIONS):
        wrapped = option(wrapped)
    return WORKERS(wrapped)


@dataclass(frozen=True, slots=True)
class Distribution:
    """How a web source's input shards are run when not in this process (--distributor)."""

    run: ShardedRun
    workers: int | None

    def distribute(
        self,
        command: str,
        index_dir: Path,
        config: PipelineConfig,
        shards: list[InputShard],
        job: ShardJob,
    ) -> tuple[DistributedRun, IngestSummary]:
        settings = load_settings(index_dir=index_dir)
        configure_logging(settings)
        console = Console(stderr=True)
        return self.run.distribute(
            shards, settings, config, self.workers, console, [], job=job, command=command
        )


def failures(run: DistributedRun, kind: str) -> dict[str, int]:
    """Rejections by reason, as the single-process summaries count them, and failed shards."""
    failed = dict(Counter(f"{kind}{r.reason}" for r in run.rejections))
    failed.update((f"shard {s.name}: {s.error}", 1) for s in run.failed)
    return failed
