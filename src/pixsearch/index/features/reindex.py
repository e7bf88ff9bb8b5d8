"""Rebuild an index under the current schema from its own stored features, then swap it in.

An index keeps everything an image's document is made of: facts, occurrences,
first-seen date, visual embedding, thumbnail (and, beside it, CLIP vectors).
``reindex`` reads them back through the store, writes them as feature shards in
a workspace next to the index, builds a new index from those with today's code
(schema, fields, grouping rule), and exchanges the two directories' contents in
one step. Documents keep their order, so they keep their doc_ids (bar gaps left
by deletions). The index directory's other files (service.db, secret.key,
uploads: whatever is not in INDEX_ENTRIES) are copied into the new one before
the exchange, so keys, instances and the query log survive; the server should
be stopped meanwhile, since its writes to them after the copy would be lost.

The old store stays open for writing throughout, so no ingest can run (it would
find the index locked) until the new index is in place. A crash before the
exchange leaves the old index untouched and a workspace the next run removes.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pixsearch.index.derived import DerivedVectors, folder_of
from pixsearch.index.features.build import BuildSummary, Progress, Target
from pixsearch.index.features.folder import FeatureFolder
from pixsearch.index.features.parallel import build_into
from pixsearch.index.features.schema import FeatureRecord
from pixsearch.index.store import ReadStore, WriteStore

# What an embedded index directory holds of the index itself; all else is the service's.
INDEX_ENTRIES = frozenset(
    {
        "text",  # Tantivy
        "meta.db",  # SQLite rows and records
        "meta.db-wal",
        "meta.db-shm",
        "thumbs",
        "vectors",  # visual embeddings
        "textvectors",  # derived: text vectors
        "clipvectors",  # derived: CLIP image vectors
        "vocabulary",  # derived: cached vocabularies, keyed by generation
        "chrome",  # derived: site chrome answers shared by serving processes, likewise
    }
)
SHARD_SIZE = 10_000  # documents per feature shard written
_RENAME_EXCHANGE = 2  # renameat2 flag: swap two paths atomically (Linux)
_AT_FDCWD = -100

ClipLookup = Callable[[list[int]], dict[int, np.ndarray]]
# What writes the new shards: build_into(features, folders, open_target, *, commit_every,
# dup_distance, progress) with its workers bound, or build_on_ray with its attempts.
WriteShards = Callable[..., BuildSummary]


@dataclass(frozen=True, slots=True)
class ReindexSummary:
    documents: int
    build: BuildSummary


def workspace_of(index_dir: Path) -> Path:
    return index_dir.parent / f".{index_dir.name}.reindex"


def clip_lookup(index_dir: Path) -> ClipLookup | None:
    """The stored CLIP vectors of an embedded index, by doc_id; None without any."""
    folder = folder_of(index_dir, "clip")
    if not folder.exists():
        return None
    vectors = DerivedVectors(folder)
    return vectors.store.vectors if len(vectors) else None


def export_features(
    store: ReadStore,
    features: FeatureFolder,
    *,
    clip: ClipLookup | None = None,
    shard_size: int = SHARD_SIZE,
    prefix: str = "",
) -> int:
    """Write every visible document of `store` as feature shards, in doc_id order; how many.

    The shards are named `prefix` + their number, so several stores can share one folder.
    """
    ids = store.changed_since(0)
    for shard, start in enumerate(range(0, len(ids), shard_size)):
        chunk = ids[start : start + shard_size]
        clips = clip(chunk) if clip is not None else {}
        records, thumbnails = [], []
        for doc in store.get(chunk):
            thumbnail = store.thumbnail(doc.facts.sha256)
            if thumbnail is not None:
                thumbnails.append((doc.facts.sha256, thumbnail))
            records.append(
                FeatureRecord(
                    facts=doc.facts,
                    occurrences=doc.occurrences,
                    first_seen=doc.first_seen,
                    embedding=store.vector(doc.doc_id),
                    clip_embedding=clips.get(doc.doc_id),
                    has_thumbnail=thumbnail is not None,
                )
            )
        features.write_shard(f"{prefix}{shard:06d}", records, thumbnails)
    return len(ids)


def reindex(
    old: WriteStore,
    index_dir: Path,
    open_target: Callable[[Path], Target],
    *,
    commit_every: int = 50_000,
    dup_distance: int = 6,
    progress: Progress | None = None,
) -> ReindexSummary:
    """Rebuild the index at `index_dir` (open as `old`) and put the new one in its place.

    `open_target` opens a writable store (with its derived-data writers) on a new
    directory. `old` is closed at the end.
    """
    return reindex_shards(
        {"": old},
        index_dir,
        open_target,
        commit_every=commit_every,
        dup_distance=dup_distance,
        progress=progress,
    )


def reindex_shards(
    olds: dict[str, WriteStore],
    index_dir: Path,
    open_target: Callable[[Path], Target],
    *,
    commit_every: int = 50_000,
    dup_distance: int = 6,
    progress: Progress | None = None,
    workers: int = 1,
    write: WriteShards | None = None,
) -> ReindexSummary:
    """Rebuild the shards of `index_dir` (by folder name, e.g. "shard-0"; "" for
    `index_dir` itself) as one index.

    The features of every shard go through one grouping pass, so a group the current
    rule finds across two old shards ends up whole on one new shard. The same number
    of shards is built, `workers` of them written at once (parallel.py: then
    `open_target` must be picklable), or by `write` (`build_into`'s keywords bar
    `workers`: e.g. `ray_build.build_on_ray`, whose tasks then need the workspace next
    to `index_dir` on a filesystem every node sees). The folder holding them is swapped
    in one step: a reader never sees old and new shards together, which could show an
    image twice. If the build fails, the old index stays as it was and the workspace
    is removed.
    """
    if not olds:
        raise ValueError("no shards to rebuild")
    workspace = workspace_of(index_dir)
    shutil.rmtree(workspace, ignore_errors=True)  # what a crashed run left
    features = FeatureFolder(workspace / "features").create()
    documents = 0
    for n, (name, old) in enumerate(olds.items()):
        clip = clip_lookup(index_dir / name)
        documents += export_features(old, features, clip=clip, prefix=f"{n:04d}-")
    fresh = workspace / "index"
    write = write or functools.partial(build_into, workers=workers)
    try:
        build = write(
            features,
            [fresh / name for name in olds],
            open_target,
            commit_every=commit_every,
            dup_distance=dup_distance,
            progress=progress,
        )
    except BaseException:
        for old in olds.values():
            old.close()
        shutil.rmtree(workspace, ignore_errors=True)
        raise
    for name in olds:
        if name:
            copy_service_files(index_dir / name, fresh / name)
    copy_service_files(index_dir, fresh)
    exchange(fresh, index_dir)  # the old index now lies at `fresh`
    for old in olds.values():
        old.close()
    shutil.rmtree(workspace, ignore_errors=True)
    return ReindexSummary(documents, build)


def copy_service_files(index_dir: Path, fresh: Path) -> None:
    """Copy what is not the index itself (service.db, secret.key, ...) into `fresh`."""
    for entry in index_dir.iterdir():
        if entry.name in INDEX_ENTRIES or (fresh / entry.name).exists():
            continue
        if entry.is_dir():
            shutil.copytree(entry, fresh / entry.name, symlinks=True)
        else:
            shutil.copy2(entry, fresh / entry.name, follow_symlinks=False)


def exchange(a: Path, b: Path) -> None:
    """Swap two directories: atomically where the kernel can (renameat2), else two renames."""
    # The symbols already loaded (libc's); find_library("c") would run `ldconfig -p`.
    libc = ctypes.CDLL(None, use_errno=True) if os.name == "posix" else None
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        done = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
        if done == 0:
            return
    aside = a.with_name(a.name + ".aside")
    os.rename(b, aside)
    os.rename(a, b)
    os.rename(aside, a)
