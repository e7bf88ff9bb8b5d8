"""`pixsearch serve`: the HTTP server (uvicorn, one or more worker processes)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import click
import uvicorn

from pixsearch.cli.options import index_option, load_settings, setting_option
from pixsearch.config import Settings


@click.command()
@index_option
@setting_option("host")
@setting_option("port")
@setting_option("workers")
@setting_option("public_url")
@setting_option("require_key", "--require-key/--no-auth")
def serve(
    index_dir: Path, host: str, port: int, workers: int, public_url: str, require_key: bool
) -> None:
    """Serve the Bing-compatible API and the search page over the index."""
    if not (index_dir / "meta.db").exists():
        raise click.ClickException(f"no index at {index_dir}: run `pixsearch ingest` first")
    settings = load_settings(
        index_dir=index_dir,
        host=host,
        port=port,
        workers=workers,
        public_url=public_url,
        require_key=require_key,
    )
    run_server(settings)


def run_server(settings: Settings) -> None:
    # Workers are separate processes that build their own app: settings travel
    # through the environment, which Settings.load reads back. An absolute index
    # path, so a worker started elsewhere finds the same index.
    settings = dataclasses.replace(settings, index_dir=settings.index_dir.resolve())
    os.environ.update(settings.to_environ())
    uvicorn.run(
        "pixsearch.api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="warning",
        access_log=False,
    )
