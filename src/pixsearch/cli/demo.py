"""`pixsearch demo`: crawl a generated website of real pictures, then serve it with a key.

The website (demo/site.py) is built from pictures that Debian packages ship,
served on loopback and crawled by the same crawler as `pixsearch crawl`, with
private addresses allowed for this crawl only. Where the packages cannot be had,
or with --samples, the generated sample pictures are ingested instead (fast).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pixsearch.cli.ingest import Models, print_summary, run_ingest
from pixsearch.cli.options import (
    AnalyzerChoice,
    analyzer_options,
    open_indexer,
    resolve_analyzers,
    semantic_skipped,
)
from pixsearch.cli.serve import run_server
from pixsearch.config import Settings
from pixsearch.crawl.crawler import (
    DEFAULT_USER_AGENT,
    Crawler,
    CrawlOptions,
    CrawlStats,
    crawl_db_path,
)
from pixsearch.crawl.fetcher import FetchSettings
from pixsearch.crawl.frontier import Frontier
from pixsearch.crawl.scope import Scope
from pixsearch.crawl.urls import host_of
from pixsearch.demo import packages
from pixsearch.demo.pictures import Picture, catalogue, choose
from pixsearch.demo.samples import write_samples
from pixsearch.demo.site import DemoSite, Route, build_site, serve_site
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.sources import roots_of
from pixsearch.wiring import build_tenancy

DEMO_KEY_NAME = "demo"
# 1,219 picture files: 74 s of CPU to crawl with both default analyzers on the 2-core
# development machine (3 to 6 minutes of wall time while four other jobs shared it).
DEFAULT_PICTURES = 1000
EXAMPLE_WORDS = ("flower", "cat", "apple", "car", "tree", "bird")


@click.command()
@click.option(
    "--dir",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    default="demo-index",
    show_default=True,
    help="Where the website's files and the index go.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True, help="Of the search server.")
@click.option("--no-serve", is_flag=True, help="Build the index and key, then exit.")
@click.option(
    "--pictures",
    type=click.IntRange(min=1),
    default=DEFAULT_PICTURES,
    show_default=True,
    help="Pictures on the demo website (more take longer to crawl).",
)
@click.option(
    "--samples",
    is_flag=True,
    help="Ingest the generated sample pictures instead of crawling a website (seconds).",
)
@click.option(
    "--install/--no-install",
    default=True,
    show_default=True,
    help="apt-get install the picture packages when missing (needs root).",
)
@analyzer_options
def demo(
    root: Path,
    host: str,
    port: int,
    no_serve: bool,
    pictures: int,
    samples: bool,
    install: bool,
    analyzers: str | None,
    no_neural: bool,
) -> None:
    """Crawl a loopback website of real, licensed pictures, then serve the search."""
    console = Console(stderr=True)
    choice = resolve_analyzers(analyzers, no_neural, console)
    found = [] if samples else _find_pictures(install, console)
    with contextlib.ExitStack() as stack:
        if found:
            routes: dict[str, Route] = {}
            # The search results link to the site's pages: it stays up while the search does.
            site_port = port + 1 if port < 65535 else 0  # stable, so a rerun can reuse its index
            site_base = stack.enter_context(serve_site(routes, port=site_port))
            chosen = choose(found, pictures)
            index_dir, query = _site_index(root, chosen, site_base, routes, choice, console)
            _embed_text(index_dir, console, background=not no_serve)
        else:
            index_dir, query = root / "index", "red"
            _sample_index(root, index_dir, choice, console)
        key = _fresh_key(index_dir)
        base = f"http://{host}:{port}"
        # Plain echo, not rich: a key must never be wrapped across lines.
        click.echo(f"\npixsearch demo at {base}/search?q={query}#key={key}\nAPI key: {key}")
        click.echo(
            f"try: curl -H 'Ocp-Apim-Subscription-Key: {key}' "
            f"'{base}/v7.0/images/search?q={query}&count=5'"
        )
        if not no_serve:
            run_server(Settings.load(index_dir=index_dir, host=host, port=port))


def _find_pictures(install: bool, console: Console) -> list[Picture]:
    """The packaged pictures, installing the packages first when allowed; [] to fall back."""
    missing = packages.missing()
    if missing and install:
        console.print(
            f"installing {', '.join(missing)} (about {packages.DOWNLOAD_MB} MB, once) ..."
        )
        why = packages.install(missing)
        if why:
            console.print(f"[yellow]could not install the picture packages: {why}[/]")
    elif missing:
        console.print(f"not installed, so left out: {', '.join(missing)}")
    found = catalogue()
    if not found:
        console.print(
            "[yellow]no packaged pictures on this machine (Debian packages "
            f"{', '.join(packages.FOLDERS)}): indexing the generated samples instead[/]"
        )
    return found


def _models(settings: Settings, choice: AnalyzerChoice) -> Models:
    return Models(choice.used, choice.skipped + semantic_skipped(settings))


def _sample_index(root: Path, index_dir: Path, choice: AnalyzerChoice, console: Console) -> None:
    """The fast path: the generated samples (plus scikit-image's photos) ingested from files."""
    samples = write_samples(root / "samples")
    config = PipelineConfig(analyzers=choice.used, roots=roots_of([root / "samples"]))
    console.print(f"{len(samples)} sample images in {root / 'samples'}")
    settings = Settings.load(index_dir=index_dir)
    store, indexer = open_indexer(settings, config.analyzers)
    run_ingest([root / "samples"], config, indexer, workers=None, console=console)
    indexer.commit()
    store.close()
    print_summary(console, indexer, _models(settings, choice), False)


def _site_index(
    root: Path,
    chosen: list[Picture],
    site_base: str,
    routes: dict[str, Route],
    choice: AnalyzerChoice,
    console: Console,
) -> tuple[Path, str]:
    """Build and serve the site, crawl it into a fresh index unless the last run's fits."""
    started = time.monotonic()
    site = build_site(chosen, root / "site" / "files", site_base, datetime.now(UTC))
    routes.update(site.routes)
    console.print(
        f"demo website at {site_base}/: {len(chosen)} pictures, {site.images} picture files, "
        f"{len(site.routes) - site.images} pages and files"
    )
    index_dir = root / "site" / "index"
    manifest = root / "site" / "built.json"
    wanted = _fingerprint(site_base, chosen, choice.used)
    if index_dir.exists() and _read(manifest) == wanted:
        console.print(f"the index in {index_dir} was crawled from this same site: reusing it")
        return index_dir, _example_query(chosen)
    if index_dir.exists():
        shutil.rmtree(index_dir)  # a different site (port, pictures): its URLs are gone
    manifest.unlink(missing_ok=True)
    _crawl(site, site_base, index_dir, choice, console)
    manifest.write_text(wanted)
    console.print(f"website built and crawled in {time.monotonic() - started:.0f} s")
    return index_dir, _example_query(chosen)


def _crawl(
    site: DemoSite, site_base: str, index_dir: Path, choice: AnalyzerChoice, console: Console
) -> None:
    settings = Settings.load(index_dir=index_dir)
    # Text vectors once at the end (_embed_text), not after every checkpoint: each new
    # page of a picture would embed its text again, and that tripled the crawl's time.
    store, indexer = open_indexer(dataclasses.replace(settings, semantic=False), choice.used)
    frontier = Frontier(crawl_db_path(index_dir))
    options = CrawlOptions(
        seeds=[site_base + "/"],
        scope=Scope(hosts={host_of(site_base)}),
        # The one crawl that may reach loopback: the demo's own site, no politeness delay.
        fetch=FetchSettings(user_agent=DEFAULT_USER_AGENT, allow_private=True, delay=0.0),
        pipeline=PipelineConfig(analyzers=choice.used),
    )
    crawler = Crawler(options, indexer, frontier)
    try:
        with _progress(console, site.images) as update:
            stats = asyncio.run(crawler.run(update))
    finally:
        frontier.close()
        store.close()
    failed = ", ".join(f"{n} {reason}" for reason, n in sorted(stats.errors.items()))
    console.print(
        f"crawled {stats.pages} pages and {stats.images} picture files"
        + (f"; failed: {failed}" if failed else "")
    )
    print_summary(console, indexer, _models(settings, choice), False)


@contextlib.contextmanager
def _progress(console: Console, total: int) -> Iterator[Callable[[CrawlStats], None]]:
    """A bar over the site's picture files, fed by the crawler's progress callback."""
    columns = (
        TextColumn("[bold]crawl"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pictures  {task.fields[pages]} pages  {task.fields[rate]:.1f}/s"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("crawl", total=total, pages=0, rate=0.0)

        def update(stats: CrawlStats) -> None:
            failed = sum(n for k, n in stats.errors.items() if k.startswith("image:"))
            done = stats.images + failed
            bar.update(task, completed=done, pages=stats.pages, rate=done / stats.elapsed)

        yield update


def _embed_text(index_dir: Path, console: Console, *, background: bool) -> None:
    """The sentence vectors of every picture's text, for semantic search (minutes of CPU).

    In the background while the demo serves: BM25 answers at once, and the server
    picks the vector file up when it lands. An interrupted run is caught up next time.
    """
    settings = Settings.load(index_dir=index_dir)
    if not settings.semantic or semantic_skipped(settings):
        return  # off, or no model: the crawl's summary said so

    def catch_up() -> None:
        try:
            store, indexer = open_indexer(settings, ())
        except click.ClickException as exc:
            console.print(f"[yellow]no text vectors: {exc.message}[/]")
            return
        try:
            indexer.commit()  # nothing new to commit: runs the text vectors' catch-up
        finally:
            store.close()
        console.print("semantic search ready: every picture's text is embedded")

    if background:
        console.print("embedding the pictures' text for semantic search in the background")
        threading.Thread(target=catch_up, name="demo-text-vectors", daemon=True).start()
    else:
        console.print("embedding the pictures' text for semantic search ...")
        catch_up()


def _fingerprint(site_base: str, chosen: list[Picture], analyzers: tuple[str, ...]) -> str:
    digest = hashlib.sha256("\n".join(p.slug for p in chosen).encode()).hexdigest()
    return json.dumps({"site": site_base, "pictures": digest, "analyzers": list(analyzers)})


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _example_query(chosen: list[Picture]) -> str:
    """A word the demo's captions use, so the first search shows something."""
    text = " ".join(p.caption.lower() for p in chosen).split()
    for word in EXAMPLE_WORDS:
        if word in text:
            return word
    return chosen[0].title.split()[0].lower()


def _fresh_key(index_dir: Path) -> str:
    keys = build_tenancy(Settings.load(index_dir=index_dir)).keys
    keys.revoke(DEMO_KEY_NAME)  # a fresh key each run: the old one was never stored in clear
    return keys.create(DEMO_KEY_NAME)
