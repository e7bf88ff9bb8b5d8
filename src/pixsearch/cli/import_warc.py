"""`pixsearch import-warc`: the images of WARC/ARC archives, with their pages' context."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from pixsearch.cli.distribution import Distribution, distributor_options, failures
from pixsearch.cli.options import analyzer_options, index_option
from pixsearch.cli.web_run import open_web_index, summary_table, web_models
from pixsearch.crawl.warc import import_warcs
from pixsearch.crawl.warc_shards import warc_shards
from pixsearch.ingest.config import PipelineConfig


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
    models = web_models(analyzers, no_neural)
    config = PipelineConfig(analyzers=models.used)
    if distribution is not None:
        shards, job, stats = warc_shards(list(files))
        run, live = distribution.distribute("import-warc", index_dir, config, shards, job)
        counts = [("response records", stats.records), ("pages", stats.pages)]
        failed = {"failed": failures(run, "")}
        console.print(summary_table("import-warc summary", counts, live, failed, models))
        if run.failed:
            sys.exit(1)
        return
    store, indexer, frontier = open_web_index(index_dir, config.analyzers)
    frontier.close()
    try:
        stats = import_warcs(list(files), indexer, config)
    finally:
        store.close()
    counts = [("response records", stats.records), ("pages", stats.pages)]
    counts.append(("images processed", stats.images))
    table = summary_table(
        "import-warc summary", counts, indexer.summary, {"failed": stats.errors}, models
    )
    console.print(table)
