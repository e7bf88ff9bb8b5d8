"""The `pixsearch` command: one group, one module per command family."""

from __future__ import annotations

import logging

import click

from pixsearch import __version__
from pixsearch.registry import Registry

# Imported only when run (or listed by --help): spawned server workers re-import this
# module, and importing every command took seconds (onnx, the crawler, the demo)
# before a worker could answer uvicorn's health check.
COMMANDS: Registry[click.Command] = Registry(
    "command",
    {
        "ingest": "pixsearch.cli.ingest:ingest",
        "crawl": "pixsearch.cli.crawl:crawl",
        "import-warc": "pixsearch.cli.import_warc:import_warc",
        "import-urls": "pixsearch.cli.import_urls:import_urls",
        "index": "pixsearch.cli.index_cmd:index_group",
        "reindex": "pixsearch.cli.index_cmd:reindex",
        "serve": "pixsearch.cli.serve:serve",
        "search": "pixsearch.cli.search:search",
        "keys": "pixsearch.cli.keys:keys",
        "models": "pixsearch.cli.models:models",
        "custom": "pixsearch.cli.custom:custom",
        "demo": "pixsearch.cli.demo:demo",
        "settings": "pixsearch.cli.settings:settings_command",
    },
)


class LazyGroup(click.Group):
    """A group whose subcommands are imported from COMMANDS when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        command = COMMANDS.factory(cmd_name)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pixsearch")
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
def cli(verbose: bool) -> None:
    """pixsearch: a self-hosted image search engine with the Bing Image Search v7 API."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


if __name__ == "__main__":
    cli()
