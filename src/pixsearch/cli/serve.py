"""`pixsearch serve`: the HTTP server (uvicorn, one or more worker processes)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import uvicorn

from pixsearch.cli.options import index_option, load_settings, setting_option
from pixsearch.cli.serve_sockets import SocketPerWorker, bind_worker_sockets, reuseport_available
from pixsearch.config import Settings
from pixsearch.observe.logs import LOG_FORMATS, logging_config
from pixsearch.observe.metrics import MULTIPROC_ENV
from pixsearch.registry import Unavailable
from pixsearch.wiring import build_tenancy

WORKER_START_SECONDS = 60  # how long uvicorn lets a new worker take to answer its health check


@click.command()
@index_option
@setting_option("host")
@setting_option("port")
@setting_option("workers")
@setting_option("public_url")
@setting_option("require_key", "--require-key/--no-auth")
@setting_option("log_format", type=click.Choice(LOG_FORMATS))
@setting_option("backend")
@setting_option("shards")
@setting_option("replicas")
@setting_option("ray_address")
def serve(
    index_dir: Path,
    host: str,
    port: int,
    workers: int,
    public_url: str,
    require_key: bool,
    log_format: str,
    backend: str,
    shards: str,
    replicas: int,
    ray_address: str,
) -> None:
    """Serve the Bing-compatible API and the search page over the index.

    With --backend sharded or ray, the index is N shard directories (--shards, or
    the shard-N folders of --index) and --index holds the service state; with
    ray, every shard is a Ray Serve deployment of --replicas replicas and
    --workers is the number of API replicas (docs/distributed.md).
    """
    if backend == "embedded" and not (index_dir / "meta.db").exists():
        raise click.ClickException(f"no index at {index_dir}: run `pixsearch ingest` first")
    settings = load_settings(
        index_dir=index_dir,
        host=host,
        port=port,
        workers=workers,
        public_url=public_url,
        require_key=require_key,
        log_format=log_format,
        backend=backend,
        shards=shards,
        replicas=replicas,
        ray_address=ray_address,
    )
    _check_service_state(settings)
    if backend == "ray":
        try:
            from pixsearch.cli.serve_ray import run_ray  # Ray is an optional extra
        except ImportError as exc:
            raise click.ClickException(f"{exc}: pip install 'pixsearch[ray]'") from None
        run_ray(settings)
    else:
        run_server(settings)


def _check_service_state(settings: Settings) -> None:
    """Open the service state and the rate limiter once, here, before any worker starts.

    A backend that cannot run (PostgreSQL or Redis unreachable, the redis
    package missing) then stops `serve` with one message, instead of every
    worker dying with a traceback while uvicorn starts it again.
    """
    try:
        tenancy = build_tenancy(settings)
    except Unavailable as exc:
        raise click.ClickException(str(exc)) from None
    tenancy.close()


def run_server(settings: Settings) -> None:
    # Workers are separate processes that build their own app: settings travel
    # through the environment, which Settings.load reads back. An absolute index
    # path, so a worker started elsewhere finds the same index.
    settings = dataclasses.replace(settings, index_dir=settings.index_dir.resolve())
    try:
        log_config = logging_config(settings.log_format)
    except ValueError as exc:  # from the environment: the option itself is a Choice
        raise click.ClickException(str(exc)) from None
    os.environ.update(settings.to_environ())
    options: dict[str, Any] = {
        "app": "pixsearch.api.app:create_app",
        "factory": True,
        "host": settings.host,
        "port": settings.port,
        "workers": settings.workers,
        "log_config": log_config,  # applied by uvicorn in every worker too
        "log_level": "warning",
        "access_log": False,  # ours is api/accesslog.py: trace ids and key names
        # A new worker imports the app and opens the index before it can answer
        # uvicorn's health check; under load that passed the 5 s default, and
        # uvicorn then killed and respawned workers in a loop (issue 13's cliff).
        "timeout_worker_healthcheck": WORKER_START_SECONDS,
    }
    with _shared_metrics(settings):
        if settings.workers > 1 and reuseport_available():
            config = uvicorn.Config(**options)
            SocketPerWorker(config, bind_worker_sockets(config, settings.workers)).run()
        else:  # one worker, or no SO_REUSEPORT: uvicorn's own (one shared socket)
            uvicorn.run(**options)


@contextmanager
def _shared_metrics(settings: Settings) -> Iterator[None]:
    """With several workers, a fresh folder where each keeps its metric values for /metrics.

    prometheus_client reads the variable when a worker imports it, so it is set
    before uvicorn starts them, and the folder is new each run: old values
    from a previous server must not be summed in.
    """
    if not settings.metrics or settings.workers <= 1:
        yield
        return
    folder = tempfile.mkdtemp(prefix="pixsearch-metrics-")
    before = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = folder
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = before
        shutil.rmtree(folder, ignore_errors=True)
