"""A feature folder: Parquet feature shards and a content-addressed thumbnail store.

Layout, on a local folder or any ``pyarrow.fs`` filesystem (S3, GCS, HDFS, or
an ``fsspec`` one wrapped by ``pyarrow.fs.FSSpecHandler``)::

    FEATURES/shards/<name>.parquet          one per input shard, written whole
    FEATURES/thumbs/<sha[:2]>/<sha>.jpg     thumbnails, named by the original's sha256

A shard is written under a temporary name and then moved to its own, after its
thumbnails: a shard that exists is complete, so a rerun skips it (the same
input shard gets the same name) and a crash leaves at worst temporary files and
orphan thumbnails, never a torn shard. The pipeline's rejections of a shard's
files travel in the shard's Parquet metadata, so a resumed run still counts them.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pixsearch.index.features.schema import (
    GROUP_COLUMNS,
    FeatureRecord,
    Look,
    from_table,
    looks_of,
    to_table,
)
from pixsearch.records import Rejection

SHARDS = "shards"
THUMBS = "thumbs"
SUFFIX = ".parquet"
TEMP_PREFIX = ".tmp-"
REJECTIONS_KEY = b"pixsearch.rejections"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def filesystem_of(location: str | Path, filesystem: Any = None) -> tuple[pafs.FileSystem, str]:
    """(filesystem, path inside it) for a local path or URI, or for a given filesystem.

    `filesystem` may be a ``pyarrow.fs.FileSystem`` or an ``fsspec`` one.
    """
    if filesystem is not None:
        if not isinstance(filesystem, pafs.FileSystem):
            filesystem = pafs.PyFileSystem(pafs.FSSpecHandler(filesystem))
        return filesystem, str(location).rstrip("/")
    text = str(location)
    if "://" not in text:
        return pafs.LocalFileSystem(), str(Path(text).resolve())
    return pafs.FileSystem.from_uri(text)  # type: ignore[no-any-return]


class ThumbnailFiles:
    """Thumbnails by the sha256 of their original: writing one twice is harmless."""

    def __init__(self, fs: pafs.FileSystem, root: str) -> None:
        self.fs, self.root = fs, root

    def path_for(self, sha256: str) -> str:
        return f"{self.root}/{sha256[:2]}/{sha256}.jpg"

    def put(self, sha256: str, data: bytes) -> None:
        target = self.path_for(sha256)
        if self.fs.get_file_info(target).type == pafs.FileType.File:
            return
        folder = target.rsplit("/", 1)[0]
        self.fs.create_dir(folder, recursive=True)
        _write_then_move(self.fs, folder, target, data)

    def get(self, sha256: str) -> bytes | None:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            return None
        try:
            with self.fs.open_input_stream(self.path_for(sha256)) as stream:
                data: bytes = stream.read()
                return data
        except (FileNotFoundError, OSError):
            return None


def _write_then_move(fs: pafs.FileSystem, folder: str, target: str, data: bytes) -> None:
    temp = f"{folder}/{TEMP_PREFIX}{uuid.uuid4().hex}"
    try:
        with fs.open_output_stream(temp) as stream:
            stream.write(data)
        fs.move(temp, target)
    except BaseException:
        _remove_quietly(fs, temp)
        raise


def _remove_quietly(fs: pafs.FileSystem, path: str) -> None:
    with contextlib.suppress(OSError):  # FileNotFoundError included
        fs.delete_file(path)


class FeatureFolder:
    """Feature shards and their thumbnails under one location."""

    def __init__(self, location: str | Path, *, filesystem: Any = None) -> None:
        self.location = str(location)
        self.filesystem_given = filesystem is not None  # else the location alone opens it
        self.fs, self.root = filesystem_of(location, filesystem)
        self.shards_dir = f"{self.root}/{SHARDS}"
        self.thumbnails = ThumbnailFiles(self.fs, f"{self.root}/{THUMBS}")

    def create(self) -> FeatureFolder:
        self.fs.create_dir(self.shards_dir, recursive=True)
        self.fs.create_dir(self.thumbnails.root, recursive=True)
        return self

    def exists(self) -> bool:
        return bool(self.fs.get_file_info(self.shards_dir).type == pafs.FileType.Directory)

    def path_of(self, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(f"feature shard name {name!r}: letters, digits, '.', '_', '-' only")
        return f"{self.shards_dir}/{name}{SUFFIX}"

    def names(self) -> list[str]:
        """Finished shards, by name: the order an index build reads them in."""
        if not self.exists():
            return []
        infos = self.fs.get_file_info(pafs.FileSelector(self.shards_dir))
        return sorted(
            info.base_name[: -len(SUFFIX)]
            for info in infos
            if info.type == pafs.FileType.File
            and info.base_name.endswith(SUFFIX)
            and not info.base_name.startswith(TEMP_PREFIX)
        )

    def has_shard(self, name: str) -> bool:
        return bool(self.fs.get_file_info(self.path_of(name)).type == pafs.FileType.File)

    def write_shard(
        self,
        name: str,
        records: Sequence[FeatureRecord],
        thumbnails: Iterable[tuple[str, bytes]] = (),
        rejections: Sequence[Rejection] = (),
    ) -> None:
        """Write shard `name` whole: thumbnails first, then the table, moved into place."""
        target = self.path_of(name)
        self.create()
        for sha256, data in thumbnails:
            self.thumbnails.put(sha256, data)
        refused = [[r.source, r.reason, r.detail] for r in rejections]
        table = to_table(records, metadata={REJECTIONS_KEY: orjson.dumps(refused)})
        temp = f"{self.shards_dir}/{TEMP_PREFIX}{name}-{uuid.uuid4().hex}{SUFFIX}"
        try:
            pq.write_table(table, temp, filesystem=self.fs, compression="zstd")
            self.fs.move(temp, target)
        except BaseException:
            _remove_quietly(self.fs, temp)
            raise

    def read_shard(self, name: str) -> list[FeatureRecord]:
        return list(from_table(pq.read_table(self.path_of(name), filesystem=self.fs)))

    def records(self, names: Sequence[str] | None = None) -> Iterator[FeatureRecord]:
        """Every record of the shards (default: all finished ones), shard by shard."""
        for name in self.names() if names is None else names:
            yield from self.read_shard(name)

    def looks(self, names: Sequence[str] | None = None) -> Iterator[Look]:
        """What grouping needs of every record, in the order ``records`` gives them."""
        for name in self.names() if names is None else names:
            path = self.path_of(name)
            present = set(pq.read_schema(path, filesystem=self.fs).names)
            columns = [c for c in GROUP_COLUMNS if c in present]
            yield from looks_of(pq.read_table(path, filesystem=self.fs, columns=columns))

    def count(self, names: Sequence[str] | None = None) -> int:
        """Records in the shards (default: all finished ones), from their footers alone."""
        return sum(
            pq.read_metadata(self.path_of(name), filesystem=self.fs).num_rows
            for name in (self.names() if names is None else names)
        )

    def rejections(self, name: str) -> list[Rejection]:
        """The files of shard `name` that the pipeline refused."""
        metadata = pq.read_schema(self.path_of(name), filesystem=self.fs).metadata or {}
        raw = orjson.loads(metadata.get(REJECTIONS_KEY, b"[]"))
        return [Rejection(source, reason, detail) for source, reason, detail in raw]

    def remove_temporary(self) -> int:
        """Delete the shards' temporary files a dead writer left; how many.

        Only while no writer runs (before a run starts): a live writer's file
        is temporary too.
        """
        if not self.exists():
            return 0
        infos = self.fs.get_file_info(pafs.FileSelector(self.shards_dir))
        stale = [i.path for i in infos if i.base_name.startswith(TEMP_PREFIX)]
        for path in stale:
            _remove_quietly(self.fs, path)
        return len(stale)
