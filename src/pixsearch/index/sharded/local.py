"""The ``sharded`` backend: N embedded shard directories on this machine, served as one store.

The shards are the directories the ``shards`` setting lists, or else the
``shard-0``, ``shard-1``, ... folders of the index directory. The index
directory itself still holds what belongs to the service, not to a shard:
keys, instances, the query log, the token secret, uploads and the vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.schema import BODY_FIELD
from pixsearch.index.sharded.merge import ShardedStore
from pixsearch.index.sharded.termstats import WordCounts
from pixsearch.index.textindex import RESULTS

SHARD_DIR = re.compile(r"shard-(\d+)")


def shard_dirs(root: Path, shards: str = "") -> list[Path]:
    """The shard directories: `shards` (comma-separated) if given, else root's shard-N folders.

    Listed shards keep their order (shard i is the i-th); found ones go by number,
    and the numbers must run 0..N-1 without a gap, since a missing shard would
    silently shift every later one.
    """
    if shards.strip():
        return [Path(part.strip()) for part in shards.split(",") if part.strip()]
    found = {
        int(m.group(1)): p
        for p in (root.iterdir() if root.is_dir() else [])
        if p.is_dir() and (m := SHARD_DIR.fullmatch(p.name))
    }
    if sorted(found) != list(range(len(found))):
        raise FileNotFoundError(f"shard folders of {root} do not run shard-0..shard-N-1")
    if not found:
        raise FileNotFoundError(f"no shards listed and no shard-N folders in {root}")
    return [found[i] for i in range(len(found))]


def open_sharded(
    root: Path,
    *,
    writable: bool = False,
    dup_distance: int = 6,
    shards: str = "",
    timeout: float = 2.0,
    result_cache: int = RESULTS,
) -> ShardedStore:
    """The backend's factory (index/backends.py): every shard read-only, merged."""
    if writable:
        raise PermissionError(
            "the sharded backend is read-only: build each shard as an embedded index"
        )
    dirs = shard_dirs(root, shards)
    for folder in dirs:
        if not (folder / "meta.db").exists():
            raise FileNotFoundError(f"no index at shard {folder}")
    stores = [
        EmbeddedStore(folder, dup_distance=dup_distance, result_cache=result_cache)
        for folder in dirs
    ]
    return ShardedStore(
        stores,
        timeout=timeout,
        names=[str(d) for d in dirs],
        term_stats=[EmbeddedTermStats(store) for store in stores],
    )


class EmbeddedTermStats:
    """TermStats of an embedded index: its analyzer's tokens and Tantivy's own counts."""

    def __init__(self, store: EmbeddedStore) -> None:
        self.store = store

    def doc_freqs(self, words: Sequence[str]) -> WordCounts:
        return embedded_doc_freqs(self.store, words)


def embedded_doc_freqs(store: EmbeddedStore, words: Sequence[str]) -> WordCounts:
    searcher = store.text.index.searcher()
    tokens = {word: tuple(store.text.analyzer.analyze(word)) for word in words}
    return WordCounts(
        num_docs=searcher.num_docs,  # the commit marker included, as BM25 counts it
        df={t: int(searcher.doc_freq(BODY_FIELD, t)) for ts in tokens.values() for t in ts},
        tokens=tokens,
    )
