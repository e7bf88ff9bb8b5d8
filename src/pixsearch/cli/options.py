"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path

import click

index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="PIXSEARCH_INDEX_DIR",
    default="pixsearch-index",
    show_default=True,
    help="Index directory (env PIXSEARCH_INDEX_DIR).",
)
