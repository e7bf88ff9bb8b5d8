"""The `pixsearch` command: one group, one module per command family."""

from __future__ import annotations

import logging

import click

from pixsearch import __version__
from pixsearch.cli.crawl import crawl, import_urls, import_warc
from pixsearch.cli.custom import custom
from pixsearch.cli.demo import demo
from pixsearch.cli.ingest import ingest
from pixsearch.cli.keys import keys
from pixsearch.cli.models import models
from pixsearch.cli.search import search
from pixsearch.cli.serve import serve
from pixsearch.cli.settings import settings_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pixsearch")
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
def cli(verbose: bool) -> None:
    """pixsearch: a self-hosted image search engine with the Bing Image Search v7 API."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


for command in (
    ingest,
    crawl,
    import_warc,
    import_urls,
    serve,
    search,
    keys,
    models,
    custom,
    demo,
    settings_command,
):
    cli.add_command(command)


if __name__ == "__main__":
    cli()
