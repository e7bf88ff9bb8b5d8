"""Options shared by several commands, derived from the settings registry (config.py).

A setting's flag, type, help, default and environment variable are declared
once, in ``Settings``; ``setting_option`` turns that declaration into a click
option, so no command repeats a default or spells a variable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pixsearch.config import Settings, SettingSpec
from pixsearch.index.store import IndexLockedError, WriteStore
from pixsearch.ingest.indexer import Indexer
from pixsearch.models.analyzer import AnalyzerUnavailable, load_analyzer
from pixsearch.models.catalog import why_missing
from pixsearch.wiring import build_indexer

F = TypeVar("F", bound=Callable[..., Any])
MB = 1024 * 1024


def setting_option(name: str, *decls: str, **attrs: Any) -> Callable[[F], F]:
    """A click option for the setting ``name``; ``decls`` rename its flag (``--index``).

    The command receives the setting's effective value: the flag when given, else
    the environment variable, else the default; one precedence rule, Settings'.
    A bool setting becomes an on/off pair (``--semantic/--no-semantic``). A ``help``
    in ``attrs`` replaces the setting's own text for this command.
    """
    spec = Settings.spec(name)
    if not decls:
        flag = name.replace("_", "-")
        decls = (f"--{flag}/--no-{flag}",) if spec.type_name == "bool" else (f"--{flag}",)
    if spec.type_name != "bool":
        attrs.setdefault("type", _CLICK_TYPES.get(spec.type_name, click.STRING))

    def resolve(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        try:
            return spec.resolve(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None

    text = setting_help(spec, attrs.pop("help", ""))
    return click.option(*decls, name, default=None, callback=resolve, help=text, **attrs)


_CLICK_TYPES: dict[str, click.ParamType[Any, Any]] = {
    "int": click.INT,
    "float": click.FLOAT,
    "Path": click.Path(path_type=Path),
}


def setting_help(spec: SettingSpec, text: str = "") -> str:
    """``text`` (else the setting's own help) with its variable and default, as click shows them."""
    default = spec.show(spec.default)
    extra = f"env var: {spec.env}" + (f"; default: {default}" if default else "")
    return f"{text or spec.help}  [{extra}]"


index_option = setting_option(
    "index_dir", "--index", type=click.Path(file_okay=False, path_type=Path)
)


def load_settings(**overrides: Any) -> Settings:
    """``Settings.load``, with a variable that cannot be read as its type a CLI error."""
    try:
        return Settings.load(**overrides)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def dataclass_default(cls: type, name: str) -> Any:
    """The declared default of a dataclass field, so an option never restates it."""
    for declared in dataclasses.fields(cls):
        if declared.name == name:
            return declared.default
    raise KeyError(f"{cls.__name__} has no field {name!r}")


def analyzer_options(func: F) -> F:
    """--analyzers / --no-neural: which image analyzers this run uses."""
    func = click.option(
        "--no-neural",
        is_flag=True,
        help="Run no image analyzers (no models): fastest, but no safe search or faces.",
    )(func)
    # Not a setting_option: None ("not on the command line") is what resolve_analyzers
    # needs to tell a choice made for this run from the configured one.
    return click.option(
        "--analyzers",
        default=None,
        metavar="LIST",
        help=setting_help(
            Settings.spec("analyzers"),
            "Comma-separated analyzers for this run, e.g. nudenet,visual; '' for none.",
        ),
    )(func)


@dataclasses.dataclass(frozen=True, slots=True)
class SkippedModel:
    """A default model this run goes without, and why (shown in the summary table)."""

    name: str
    reason: str  # "weights missing: run `pixsearch models fetch visual`", or the load error


@dataclasses.dataclass(frozen=True, slots=True)
class AnalyzerChoice:
    used: tuple[str, ...]
    skipped: tuple[SkippedModel, ...] = ()


def resolve_analyzers(analyzers: str | None, no_neural: bool, console: Console) -> AnalyzerChoice:
    """The analyzers this run will use, each loaded once here to prove it can run.

    Loading here, not in the workers, turns a missing model into one message instead of
    every image rejected as "crashed". An analyzer the user named (flag or environment)
    must load; one that is merely a default is skipped with a warning, so a machine
    without the optional model packages still ingests, and the choice says which were
    skipped and why, for the summary table to repeat where it cannot be missed.

    A set ``clip_model_dir`` setting adds "clip" to the list, and then it must load;
    only --analyzers (the flag) or --no-neural leave it out.
    """
    if no_neural:
        return AnalyzerChoice(())
    explicit = analyzers is not None or Settings.in_environment("analyzers")
    settings = load_settings(analyzers=analyzers)
    names = settings.analyzer_names
    if settings.clip_model_dir and analyzers is None and "clip" not in names:
        names += ("clip",)
    usable: list[str] = []
    skipped: list[SkippedModel] = []
    for name in names:
        try:
            load_analyzer(name)
        except AnalyzerUnavailable as exc:
            missing = why_missing(name)  # "weights missing: run ...", when the catalog knows
            if explicit or (name == "clip" and settings.clip_model_dir):
                variable = Settings.spec("analyzers").env
                problem = f"analyzer {name!r}: {missing}," if missing else f"{exc}; install it"
                raise click.ClickException(
                    f"{problem} or leave it out of --analyzers / {variable}"
                ) from None
            reason = missing or str(exc)
            console.print(f"[bold yellow]warning: analyzer {name!r} skipped: {reason}[/]")
            skipped.append(SkippedModel(name, reason))
            continue
        usable.append(name)
    return AnalyzerChoice(tuple(usable), tuple(skipped))


def semantic_skipped(settings: Settings) -> tuple[SkippedModel, ...]:
    """MiniLM, when semantic search is on but its weights are missing.

    The index then stores no usable text vectors (search/semantic.py's LazyEmbedder
    embeds nothing without the model), which no error would otherwise reveal.
    """
    missing = why_missing("minilm") if settings.semantic else None
    return (SkippedModel("minilm (semantic text vectors)", missing),) if missing else ()


def add_model_rows(table: Table, used: Sequence[str], skipped: Sequence[SkippedModel]) -> None:
    """A summary table's last rows: the analyzers used, then each default model gone without.

    Last and in bold: a skipped default means an index without tags, similar images
    or safe search, which a warning above the progress bar is too easy to miss.
    """
    table.add_row("analyzers", ", ".join(used) or "none")
    for model in skipped:
        reason = escape(model.reason)
        table.add_row(f"[bold red]skipped: {model.name}[/]", f"[bold red]{reason}[/]")


def open_indexer(settings: Settings, analyzers: tuple[str, ...]) -> tuple[WriteStore, Indexer]:
    """The wiring root's writable store and Indexer, a locked index as a CLI error."""
    try:
        return build_indexer(settings, analyzers)
    except IndexLockedError as exc:
        raise click.ClickException(str(exc)) from None
