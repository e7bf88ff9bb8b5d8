"""Storage backends by name: what ``Settings.backend`` chooses.

Each factory takes the index location and ``writable``/``dup_distance``
keywords (plus what ``reader_options`` adds for its kind) and returns a store
implementing ``index.store.ReadStore`` (and ``WriteStore`` when writable). A
second backend registers here; nothing above ``index/`` names a backend's class.

- ``embedded``: one directory (Tantivy + SQLite + files), read and written.
- ``sharded``: N embedded directories on this machine, merged (index/sharded/).
- ``ray``: N shards served by Ray Serve deployments, merged in the API's process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pixsearch.config import Settings
from pixsearch.index.store import ReadStore, WriteStore
from pixsearch.registry import Registry, Unavailable


class BackendUnavailable(Unavailable):
    """The configured storage backend is unknown or cannot run here."""


BACKENDS: Registry[Any] = Registry(
    "storage backend",
    {
        "embedded": "pixsearch.index.embedded:EmbeddedStore",
        "sharded": "pixsearch.index.sharded.local:open_sharded",
        "ray": "pixsearch.index.sharded.ray_shards:open_ray",
    },
    error=BackendUnavailable,
)
SHARDED = frozenset({"sharded", "ray"})  # backends over several shard directories


def reader_options(settings: Settings) -> dict[str, Any]:
    """The keywords ``settings.backend``'s factory takes beyond the index location."""
    options: dict[str, Any] = {"dup_distance": settings.dup_distance}
    if settings.backend in SHARDED:
        options.update(shards=settings.shards, timeout=settings.shard_timeout)
    if settings.backend != "ray":  # a Ray shard's replicas get it from cli/serve_ray.py
        options.update(result_cache=settings.result_cache)
    return options


def open_reader(name: str, root: Path, **options: Any) -> ReadStore:
    """The backend ``name`` opened for serving: the last committed state, read-only."""
    store: ReadStore = BACKENDS.create(name, root=root, writable=False, **options)
    return store


def open_writer(name: str, root: Path, **options: Any) -> WriteStore:
    """The backend ``name`` opened for ingestion (one writer at a time)."""
    store: WriteStore = BACKENDS.create(name, root=root, writable=True, **options)
    return store
