"""Storage backends by name: what ``Settings.backend`` chooses.

Each factory takes the index location and ``writable``/``dup_distance``
keywords and returns a store implementing ``index.store.ReadStore`` (and
``WriteStore`` when writable). A second backend registers here; nothing above
``index/`` names a backend's class.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pixsearch.index.store import ReadStore, WriteStore
from pixsearch.registry import Registry, Unavailable


class BackendUnavailable(Unavailable):
    """The configured storage backend is unknown or cannot run here."""


BACKENDS: Registry[Any] = Registry(
    "storage backend",
    {"embedded": "pixsearch.index.embedded:EmbeddedStore"},
    error=BackendUnavailable,
)


def open_reader(name: str, root: Path, **options: Any) -> ReadStore:
    """The backend ``name`` opened for serving: the last committed state, read-only."""
    store: ReadStore = BACKENDS.create(name, root=root, writable=False, **options)
    return store


def open_writer(name: str, root: Path, **options: Any) -> WriteStore:
    """The backend ``name`` opened for ingestion (one writer at a time)."""
    store: WriteStore = BACKENDS.create(name, root=root, writable=True, **options)
    return store
