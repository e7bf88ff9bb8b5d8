"""`pixsearch keys`: create, list, disable, enable and revoke subscription keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from pixsearch.api.keys import KeyStore
from pixsearch.cli.options import index_option


def _store(index_dir: Path) -> KeyStore:
    return KeyStore(index_dir / "service.db")


@click.group()
def keys() -> None:
    """Manage subscription keys (stored hashed; a key is shown only when created)."""


@keys.command("create")
@click.argument("name")
@index_option
@click.option("--expires-days", type=float, default=None, help="Key stops working after this.")
def create(name: str, index_dir: Path, expires_days: float | None) -> None:
    """Create a key called NAME and print it (the only time it is shown)."""
    expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None
    try:
        key = _store(index_dir).create(name, expires=expires)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(key)


@keys.command("list")
@index_option
def list_keys(index_dir: Path) -> None:
    """List keys (names and hints, never the keys)."""
    table = Table("name", "hint", "created", "enabled", "expires")
    for info in _store(index_dir).list():
        table.add_row(
            info.name,
            info.hint + "…",
            info.created,
            "yes" if info.enabled else "no",
            info.expires or "never",
        )
    Console().print(table)


@keys.command("revoke")
@click.argument("name")
@index_option
def revoke(name: str, index_dir: Path) -> None:
    """Delete the key called NAME."""
    if not _store(index_dir).revoke(name):
        raise click.ClickException(f"no key named {name!r}")
    click.echo(f"revoked {name}")


@keys.command("disable")
@click.argument("name")
@index_option
def disable(name: str, index_dir: Path) -> None:
    """Keep the key but refuse it (403 AuthorizationDisabled)."""
    _set_enabled(index_dir, name, False)


@keys.command("enable")
@click.argument("name")
@index_option
def enable(name: str, index_dir: Path) -> None:
    """Accept a disabled key again."""
    _set_enabled(index_dir, name, True)


def _set_enabled(index_dir: Path, name: str, enabled: bool) -> None:
    if not _store(index_dir).set_enabled(name, enabled):
        raise click.ClickException(f"no key named {name!r}")
    click.echo(f"{'enabled' if enabled else 'disabled'} {name}")
