"""`pixsearch custom`: create, update, delete, list and show Custom Search instances.

Definitions come from YAML or JSON files (YAML is a superset of JSON, so one
loader reads both). Running servers pick changes up within a second.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the environment
from rich.console import Console
from rich.table import Table

from pixsearch.api.instance_defaults import check_defaults
from pixsearch.cli.options import index_option
from pixsearch.config import Settings
from pixsearch.tenancy.instances import Instance, InstanceError, InstanceStore, parse_instance
from pixsearch.wiring import build_tenancy


def _store(index_dir: Path) -> InstanceStore:
    return build_tenancy(Settings.load(index_dir=index_dir)).instances


def _read(path: Path) -> Instance:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return parse_instance(data, check_defaults=check_defaults)
    except (OSError, yaml.YAMLError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None
    except InstanceError as exc:
        raise click.ClickException(f"{path}: {exc}") from None


@click.group()
def custom() -> None:
    """Manage Custom Image Search instances (slices of the index with pins and boosts).

    An instance file (YAML or JSON); every field but config_id is optional:

    \b
      config_id: shop-1          # the customConfig callers send
      name: Our shop
      sites: [example.com]       # a host and all its subdomains
      hosts: [www.example.org]   # exactly this host
      url_prefixes: [example.net/photos/]
      excluded_sites: [ads.example.com]
      excluded_url_prefixes: [example.com/private/]
      boosted_sites: [blog.example.com]
      demoted_sites: [old.example.com]
      pins:                      # on the first page for this query
        - {query: red shoes, image_id: <40-hex imageId>, position: 1}
      defaults: {mkt: en-GB, safeSearch: Strict, aspect: Wide}
    """


@custom.command("create")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@index_option
def create(file: Path, index_dir: Path) -> None:
    """Create the instance defined in FILE (YAML or JSON)."""
    instance = _read(file)
    try:
        _store(index_dir).put(instance, create=True)
    except InstanceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {instance.config_id}")


@custom.command("update")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@index_option
def update(file: Path, index_dir: Path) -> None:
    """Replace an existing instance with the definition in FILE."""
    instance = _read(file)
    try:
        _store(index_dir).put(instance, create=False)
    except KeyError:
        raise click.ClickException(f"no instance {instance.config_id!r}") from None
    click.echo(f"updated {instance.config_id}")


@custom.command("delete")
@click.argument("config_id")
@index_option
def delete(config_id: str, index_dir: Path) -> None:
    """Delete instance CONFIG_ID (its customConfig stops working)."""
    if not _store(index_dir).delete(config_id):
        raise click.ClickException(f"no instance {config_id!r}")
    click.echo(f"deleted {config_id}")


@custom.command("list")
@index_option
def list_instances(index_dir: Path) -> None:
    """List instances with the size of their slice definitions."""
    table = Table("customConfig", "name", "sites", "hosts", "prefixes", "excluded", "pins")
    for i in _store(index_dir).list():
        table.add_row(
            i.config_id,
            i.name,
            str(len(i.sites)),
            str(len(i.hosts)),
            str(len(i.url_prefixes)),
            str(len(i.excluded_sites) + len(i.excluded_url_prefixes)),
            str(len(i.pins)),
        )
    Console().print(table)


@custom.command("show")
@click.argument("config_id")
@index_option
def show(config_id: str, index_dir: Path) -> None:
    """Print instance CONFIG_ID as JSON (the form `create` reads back)."""
    instance = _store(index_dir).load(config_id)
    if instance is None:
        raise click.ClickException(f"no instance {config_id!r}")
    click.echo(json.dumps(instance.to_json(), indent=2))
