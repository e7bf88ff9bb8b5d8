"""Each backend's factory takes the options its settings give it."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from pixsearch.config import Settings
from pixsearch.index.backends import BACKENDS, reader_options


@pytest.mark.parametrize("name", ["embedded", "sharded", "ray"])
def test_a_backends_factory_takes_what_its_settings_give(name: str, tmp_path: Path) -> None:
    if name == "ray":
        pytest.importorskip("ray.serve")
    settings = Settings.load(index_dir=tmp_path, backend=name, result_cache=7)
    options = reader_options(settings)
    # A keyword the factory lacks would fail only when a server opens the index.
    inspect.signature(BACKENDS.factory(name)).bind(root=tmp_path, writable=False, **options)
    # The ray backend's shard replicas get it from cli/serve_ray.py, not through the client.
    assert options.get("result_cache") == (None if name == "ray" else 7)
