"""`pixsearch search`: the API's search from the terminal, as a table or as the API's JSON.

Read-only: it opens the index through the wiring root without a query log and
writes nothing into the index directory (tokens in the JSON are signed with
the server's secret.key when there is one, else with a key kept in memory).
"""

from __future__ import annotations

from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.table import Table

from pixsearch.api.errors import BingError
from pixsearch.api.params import parse_search
from pixsearch.api.render import Renderer
from pixsearch.api.tokens import TokenSigner
from pixsearch.api.urls import Urls
from pixsearch.cli.options import index_option, load_settings
from pixsearch.search.service import SearchPage
from pixsearch.wiring import build_searcher


@click.command()
@click.argument("query")
@index_option
@click.option("--count", type=int, default=10, show_default=True)
@click.option("--offset", type=int, default=0, show_default=True)
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Any search parameter of the API, e.g. -p color=Red -p size=Large.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON answer.")
@click.option(
    "--base-url",
    default="http://127.0.0.1:8080",
    show_default=True,
    help="Base of the URLs in the answer.",
)
def search(
    query: str,
    index_dir: Path,
    count: int,
    offset: int,
    params: tuple[str, ...],
    as_json: bool,
    base_url: str,
) -> None:
    """Search the index for QUERY (filters as in the API)."""
    if not (index_dir / "meta.db").exists():
        raise click.ClickException(f"no index at {index_dir}")
    query_params = {"q": query, "count": str(count), "offset": str(offset)}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--param")
        query_params[name] = value
    try:
        parsed = parse_search(query_params)
    except BingError as exc:
        raise click.ClickException(f"{exc.parameter}: {exc.message}") from None
    searcher = build_searcher(load_settings(index_dir=index_dir))
    page = searcher.search.search(parsed.request)
    if as_json:
        signer = TokenSigner.from_file(index_dir / "secret.key", create=False)
        answer = Renderer(Urls(base_url), signer).answer(query, page)
        click.echo(orjson.dumps(answer, option=orjson.OPT_INDENT_2))
    else:
        Console().print(_table(page, offset))


def _table(page: SearchPage, offset: int) -> Table:
    table = Table(
        "#",
        "name",
        "size",
        "format",
        "colour",
        "imageId",
        "found at",
        title=f"{page.total_estimated} matches · next offset {page.next_offset}",
    )
    for rank, result in enumerate(page.results, start=offset + 1):
        facts = result.doc.facts
        where = result.occurrence.host_page_url or result.occurrence.local_path or ""
        table.add_row(
            str(rank),
            result.occurrence.title,
            f"{facts.width}×{facts.height}",
            facts.encoding_format,
            facts.color_name,
            result.doc.image_id[:12] + "…",
            where,
        )
    return table
