"""The `memory` marker: search tests that run on the in-memory store, without Tantivy or SQLite.

test_memory_guard.py runs every module marked so in a fresh interpreter where
importing tantivy or sqlite3 fails; fixtures they share live in corpus.py (a
plain module), not here, because that run loads no conftest.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "memory: runs over the in-memory store, without Tantivy or SQLite"
    )
