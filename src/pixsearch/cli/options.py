"""Options shared by several commands."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click
from rich.console import Console

from pixsearch.config import Settings
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.textindex import IndexLockedError
from pixsearch.ingest.indexer import Indexer
from pixsearch.ingest.understand import AnalyzerUnavailable, load_analyzer
from pixsearch.search.clip import ClipVectorSync
from pixsearch.search.semantic import TextVectorSync

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


def text_vector_sync(settings: Settings, store: EmbeddedStore) -> Callable[[], None] | None:
    """The Indexer's after-commit step keeping semantic text vectors current, if switched on."""
    return TextVectorSync(store, settings.index_dir) if settings.semantic else None


def clip_vector_sync(
    settings: Settings, store: EmbeddedStore, analyzers: tuple[str, ...]
) -> ClipVectorSync | None:
    """Where the Indexer keeps CLIP image vectors (clipvectors/), if "clip" runs."""
    return ClipVectorSync(store, settings.index_dir) if "clip" in analyzers else None


def open_indexer(settings: Settings, analyzers: tuple[str, ...]) -> tuple[EmbeddedStore, Indexer]:
    """The writable store and the Indexer every ingesting command uses, derived data included."""
    try:
        store = EmbeddedStore(settings.index_dir, writable=True, dup_distance=settings.dup_distance)
    except IndexLockedError as exc:
        raise click.ClickException(str(exc)) from None
    indexer = Indexer(
        store,
        commit_every=settings.commit_every,
        after_commit=text_vector_sync(settings, store),
        clip_vectors=clip_vector_sync(settings, store, analyzers),
    )
    return store, indexer
