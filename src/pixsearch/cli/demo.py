"""`pixsearch demo`: build an index of sample images and serve it with a working key."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from pixsearch.cli.ingest import Models, print_summary, run_ingest
from pixsearch.cli.options import (
    analyzer_options,
    open_indexer,
    resolve_analyzers,
    semantic_skipped,
)
from pixsearch.cli.serve import run_server
from pixsearch.config import Settings
from pixsearch.demo.samples import write_samples
from pixsearch.ingest.config import PipelineConfig
from pixsearch.wiring import build_tenancy

DEMO_KEY_NAME = "demo"


@click.command()
@click.option(
    "--dir",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    default="demo-index",
    show_default=True,
    help="Where samples and index go.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--no-serve", is_flag=True, help="Build the index and key, then exit.")
@analyzer_options
def demo(
    root: Path, host: str, port: int, no_serve: bool, analyzers: str | None, no_neural: bool
) -> None:
    """Index generated sample images (plus scikit-image's photos if installed) and serve them."""
    console = Console(stderr=True)
    choice = resolve_analyzers(analyzers, no_neural, console)
    config = PipelineConfig(analyzers=choice.used)
    samples = write_samples(root / "samples")
    console.print(f"{len(samples)} sample images in {root / 'samples'}")
    settings = Settings.load(index_dir=root / "index")
    models = Models(choice.used, choice.skipped + semantic_skipped(settings))
    store, indexer = open_indexer(settings, config.analyzers)
    run_ingest([root / "samples"], config, indexer, workers=None, console=console)
    indexer.commit()
    store.close()
    print_summary(console, indexer, models, False)
    keys = build_tenancy(Settings.load(index_dir=root / "index")).keys
    keys.revoke(DEMO_KEY_NAME)  # a fresh key each run: the old one was never stored in clear
    key = keys.create(DEMO_KEY_NAME)
    base = f"http://{host}:{port}"
    # Plain echo, not rich: a key must never be wrapped across lines.
    click.echo(f"\npixsearch demo at {base}/search?q=red#key={key}\nAPI key: {key}")
    click.echo(
        f"try: curl -H 'Ocp-Apim-Subscription-Key: {key}' "
        f"'{base}/v7.0/images/search?q=red+circle&count=5'"
    )
    if not no_serve:
        run_server(Settings.load(index_dir=root / "index", host=host, port=port))
