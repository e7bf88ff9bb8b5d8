"""`pixsearch serve --backend ray`: each shard a Ray Serve deployment, the API their ingress.

The Serve application ``pixsearch`` holds one deployment per shard
(``shard-0`` ... with ``replicas`` replicas each, index/sharded/ray_shards.py)
and the ``ingress`` deployment (``workers`` replicas) running the API's own
ASGI app (``api.app.create_app``) over the ``ray`` backend: a ShardedStore whose
shards call those deployments. Keys, instances and the query log stay where
the settings put them (``index_dir``, or PostgreSQL for several ingress nodes).

On an existing cluster, either join it (``--ray-address auto``) or deploy the
application with Ray's own CLI, which calls ``app`` below with its arguments
as settings::

    serve run pixsearch.cli.serve_ray:app index_dir=/srv/pixsearch \\
        shards=/data/shard-0,/data/shard-1 replicas=2 workers=2
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click
import ray
from ray import serve
from starlette.types import ASGIApp

from pixsearch.api.app import create_app
from pixsearch.config import Settings
from pixsearch.index.sharded.local import shard_dirs
from pixsearch.index.sharded.ray_shards import APP_NAME, QUIET, shard_applications

INGRESS = "ingress"


class ApiIngress:
    """The ingress deployment: Serve serves the ASGI app ``application`` builds in each replica.

    The shard deployments are bound to it so that deploying the ingress deploys
    them; the app reaches them by name (``ray_shards.open_ray``).
    """

    def __init__(self, *shards: Any) -> None:
        self.shards = shards


def application(settings: Settings) -> serve.Application:
    """The Serve application for `settings`: the shard deployments and the API ingress."""
    dirs = [str(Path(d).absolute()) for d in shard_dirs(settings.index_dir, settings.shards)]
    shards = shard_applications(
        dirs,
        replicas=settings.replicas,
        cpus=settings.ray_replica_cpus,
        dup_distance=settings.dup_distance,
        result_cache=settings.result_cache,
    )
    served = dataclasses.replace(
        settings, backend="ray", shards=",".join(dirs), index_dir=settings.index_dir.absolute()
    )

    def build_app() -> ASGIApp:
        # Settings travel inside this function to every ingress replica, on any node;
        # the environment too, for code that reads Settings.load() itself.
        os.environ.update(served.to_environ())
        return create_app(served)

    ingress = serve.deployment(
        name=INGRESS,
        num_replicas=settings.workers,
        ray_actor_options={"num_cpus": settings.ray_replica_cpus},
        logging_config=QUIET,  # the API writes its own access log (api/accesslog.py)
    )(serve.ingress(build_app)(ApiIngress))
    return ingress.bind(*shards)


def app(args: dict[str, str]) -> serve.Application:
    """Ray's application builder (``serve run pixsearch.cli.serve_ray:app key=value ...``)."""
    return application(Settings.load(**args))


def run_ray(settings: Settings) -> None:
    """Start (or join) Ray, deploy the application, serve until SIGINT or SIGTERM."""
    try:
        shards = len(shard_dirs(settings.index_dir, settings.shards))
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    joined = bool(settings.ray_address)
    if joined:
        ray.init(address=settings.ray_address, logging_level=logging.WARNING)
    else:
        # Ray schedules by reserved CPUs, not load: a local Ray as small as this machine
        # could not place every replica, and they share its cores anyway.
        replicas = shards * settings.replicas + settings.workers
        cpus = max(os.cpu_count() or 1, math.ceil(replicas * settings.ray_replica_cpus))
        ray.init(num_cpus=cpus, include_dashboard=False, logging_level=logging.WARNING)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        serve.start(http_options={"host": settings.host, "port": settings.port})
        serve.run(application(settings), name=APP_NAME, route_prefix="/")
        click.echo(f"pixsearch on Ray Serve at http://{settings.host}:{settings.port}")
        stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if joined:
            serve.delete(APP_NAME)  # the cluster and its Serve outlive this command
        else:
            serve.shutdown()
        ray.shutdown()
