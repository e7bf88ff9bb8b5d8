"""Options shared by several commands."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click
from rich.console import Console

from pixsearch.config import Settings
from pixsearch.index.store import IndexLockedError, WriteStore
from pixsearch.ingest.indexer import Indexer
from pixsearch.ingest.understand import AnalyzerUnavailable, load_analyzer
from pixsearch.wiring import build_indexer

ENV_ANALYZERS = "PIXSEARCH_ANALYZERS"

index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="PIXSEARCH_INDEX_DIR",
    default="pixsearch-index",
    show_default=True,
    help="Index directory (env PIXSEARCH_INDEX_DIR).",
)


def analyzer_options(func: Callable) -> Callable:
    """--analyzers / --no-neural: which image analyzers this run uses."""
    func = click.option(
        "--no-neural",
        is_flag=True,
        help="Run no image analyzers (no models): fastest, but no safe search or faces.",
    )(func)
    return click.option(
        "--analyzers",
        default=None,
        metavar="LIST",
        help="Comma-separated analyzers for this run, e.g. nudenet,visual; '' for none "
        "(default: env PIXSEARCH_ANALYZERS, else nudenet,visual).",
    )(func)


def resolve_analyzers(analyzers: str | None, no_neural: bool, console: Console) -> tuple[str, ...]:
    """The analyzers this run will use, each loaded once here to prove it can run.

    Loading here, not in the workers, turns a missing model into one message instead of
    every image rejected as "crashed". An analyzer the user named (flag or environment)
    must load; one that is merely a default is skipped with one warning, so a machine
    without the optional model packages still ingests.

    A set ``clip_model_dir`` (PIXSEARCH_CLIP_MODEL_DIR) adds "clip" to the list, and
    then it must load; only --analyzers (the flag) or --no-neural leave it out.
    """
    if no_neural:
        return ()
    explicit = analyzers is not None or ENV_ANALYZERS in os.environ
    settings = Settings.load(analyzers=analyzers)
    names = parse_analyzers(settings.analyzers)
    if settings.clip_model_dir and analyzers is None and "clip" not in names:
        names += ("clip",)
    usable: list[str] = []
    for name in names:
        try:
            load_analyzer(name)
        except AnalyzerUnavailable as exc:
            if explicit or (name == "clip" and settings.clip_model_dir):
                raise click.ClickException(
                    f"{exc}; install it or leave it out of --analyzers / {ENV_ANALYZERS}"
                ) from None
            console.print(f"[yellow]warning: {exc}; ingesting without it[/]")
            continue
        usable.append(name)
    return tuple(usable)


def parse_analyzers(text: str) -> tuple[str, ...]:
    """'nudenet, visual' → ('nudenet', 'visual'); duplicates dropped, order kept."""
    names = (part.strip().lower() for part in text.split(","))
    return tuple(dict.fromkeys(name for name in names if name))


def open_indexer(settings: Settings, analyzers: tuple[str, ...]) -> tuple[WriteStore, Indexer]:
    """The wiring root's writable store and Indexer, a locked index as a CLI error."""
    try:
        return build_indexer(settings, analyzers)
    except IndexLockedError as exc:
        raise click.ClickException(str(exc)) from None
