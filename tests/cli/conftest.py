"""What the serve commands' tests share: an empty index, one per test module."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixsearch.index.embedded import EmbeddedStore


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("serve") / "index"
    store = EmbeddedStore(folder, writable=True)
    store.commit()
    store.close()
    return folder
