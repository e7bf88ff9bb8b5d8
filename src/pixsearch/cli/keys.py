"""`pixsearch keys`: create, list, disable, enable and revoke subscription keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from pixsearch.cli.options import index_option
from pixsearch.config import Settings
from pixsearch.tenancy.keys import KeyInfo, KeyStore
from pixsearch.wiring import Tenancy, build_tenancy


def _tenancy(index_dir: Path) -> Tenancy:
    # the server's settings (rate_limit_backend too), so Redis usage shows
    return build_tenancy(Settings.load(index_dir=index_dir))


def _store(index_dir: Path) -> KeyStore:
    return _tenancy(index_dir).keys


@click.group()
def keys() -> None:
    """Manage subscription keys (stored hashed; a key is shown only when created)."""


@keys.command("create")
@click.argument("name")
@index_option
@click.option("--expires-days", type=float, default=None, help="Key stops working after this.")
@click.option("--qps", type=click.IntRange(min=1), default=None, help="Calls per second.")
@click.option("--monthly-quota", type=click.IntRange(min=0), default=None, help="Calls a month.")
@click.option("--instance", "instances", multiple=True, help="Allowed customConfig (repeat).")
def create(
    name: str,
    index_dir: Path,
    expires_days: float | None,
    qps: int | None,
    monthly_quota: int | None,
    instances: tuple[str, ...],
) -> None:
    """Create a key called NAME and print it (the only time it is shown)."""
    expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None
    try:
        key = _store(index_dir).create(
            name,
            expires=expires,
            allowed_instances=instances,
            qps=qps,
            monthly_quota=monthly_quota,
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(key)


@keys.command("list")
@index_option
def list_keys(index_dir: Path) -> None:
    """List keys (names and hints, never the keys)."""
    table = Table("name", "hint", "created", "enabled", "expires", "qps", "quota", "instances")
    for info in _store(index_dir).list():
        table.add_row(
            info.name,
            info.hint + "…",
            info.created,
            "yes" if info.enabled else "no",
            info.expires or "never",
            *_limits(info),
        )
    Console().print(table)


def _limits(info: KeyInfo) -> tuple[str, str, str]:
    return (
        str(info.qps) if info.qps is not None else "-",
        str(info.monthly_quota) if info.monthly_quota is not None else "-",
        ",".join(info.allowed_instances) or "any",
    )


@keys.command("limits")
@click.argument("name")
@index_option
@click.option("--qps", type=click.IntRange(min=1), default=None, help="Calls per second.")
@click.option("--no-qps", is_flag=True, help="Remove the per-second limit.")
@click.option("--monthly-quota", type=click.IntRange(min=0), default=None, help="Calls a month.")
@click.option("--no-quota", is_flag=True, help="Remove the monthly quota.")
@click.option("--instance", "instances", multiple=True, help="Allowed customConfig (repeat).")
@click.option("--any-instance", is_flag=True, help="Allow every instance again.")
def limits(
    name: str,
    index_dir: Path,
    qps: int | None,
    no_qps: bool,
    monthly_quota: int | None,
    no_quota: bool,
    instances: tuple[str, ...],
    any_instance: bool,
) -> None:
    """Change a key's limits (applies to running servers within seconds)."""
    allowed = () if any_instance else (instances or None)
    store = _store(index_dir)
    changed = store.set_limits(
        name,
        allowed_instances=allowed,
        qps=qps,
        monthly_quota=monthly_quota,
        clear_qps=no_qps,
        clear_quota=no_quota,
    )
    if not changed:
        raise click.ClickException(f"no key named {name!r}")
    info = store.get(name)
    assert info is not None
    qps_text, quota_text, instances_text = _limits(info)
    click.echo(f"{name}: qps {qps_text}, monthly quota {quota_text}, instances {instances_text}")


@keys.command("usage")
@click.argument("name")
@index_option
def usage(name: str, index_dir: Path) -> None:
    """Calls and throttled calls of key NAME per day (UTC)."""
    tenancy = _tenancy(index_dir)
    if tenancy.keys.get(name) is None:
        raise click.ClickException(f"no key named {name!r}")
    table = Table("day", "calls", "throttled")
    for day in tenancy.limiter.usage(name):
        table.add_row(day.day, str(day.calls), str(day.throttled))
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
