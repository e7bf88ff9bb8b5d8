"""`pixsearch serve`: the HTTP server (uvicorn, one or more worker processes)."""

from __future__ import annotations

import os
from pathlib import Path

import click
import uvicorn

from pixsearch.cli.options import index_option


@click.command()
@index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8080, show_default=True, help="Port to listen on.")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
@click.option("--public-url", default="", help="Base URL clients use (default: from Host).")
@click.option("--no-auth", is_flag=True, help="Serve without subscription keys (local use).")
def serve(
    index_dir: Path, host: str, port: int, workers: int, public_url: str, no_auth: bool
) -> None:
    """Serve the Bing-compatible API and the search page over the index."""
    if not (index_dir / "meta.db").exists():
        raise click.ClickException(f"no index at {index_dir}: run `pixsearch ingest` first")
    run_server(
        index_dir,
        host=host,
        port=port,
        workers=workers,
        public_url=public_url,
        require_key=not no_auth,
    )


def run_server(
    index_dir: Path,
    *,
    host: str,
    port: int,
    workers: int = 1,
    public_url: str = "",
    require_key: bool = True,
) -> None:
    # Workers are separate processes that build their own app: settings travel
    # through the environment, which Settings.load reads.
    os.environ["PIXSEARCH_INDEX_DIR"] = str(index_dir.resolve())
    os.environ["PIXSEARCH_PUBLIC_URL"] = public_url
    os.environ["PIXSEARCH_REQUIRE_KEY"] = "1" if require_key else "0"
    uvicorn.run(
        "pixsearch.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )
