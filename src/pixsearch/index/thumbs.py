"""Content-addressed thumbnail files inside the index directory.

A thumbnail is named by the sha256 of its original, so writing it twice is
harmless and a crash can at worst leave an orphan file, never a torn one.

A writer's thumbnails are written to temporary files as images are added and
take their names in ``sync()``, which the store calls before it commits: each
file is flushed to disk first, then renamed. One fsync per file costs 6-8 ms on
this machine's disk when they are issued one after another (it was the ingest's
largest cost); issued together from a few threads, the file system commits them
in a few journal transactions. A crash before ``sync()`` leaves temporary files
(orphans), never a named file whose bytes did not reach the disk.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SYNC_THREADS = 16  # fsyncs in flight at once; enough for the journal to group them


class ThumbnailStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._pending: dict[str, Path] = {}  # sha256 → its written, not yet named file

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.jpg"

    def put(self, sha256: str, data: bytes) -> None:
        """Write a thumbnail; this store reads it at once, others after ``sync()``."""
        target = self.path_for(sha256)
        if sha256 in self._pending or target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._pending[sha256] = Path(tmp)

    def sync(self) -> None:
        """Make every thumbnail put since the last sync durable, then give it its name."""
        if not self._pending:
            return
        pending = list(self._pending.items())
        with ThreadPoolExecutor(min(SYNC_THREADS, len(pending))) as pool:
            list(pool.map(_fsync, [tmp for _, tmp in pending]))
        for sha256, tmp in pending:
            os.replace(tmp, self.path_for(sha256))
        self._pending.clear()

    def discard(self) -> None:
        """Remove the thumbnails put since the last sync (their images were not committed)."""
        for tmp in self._pending.values():
            tmp.unlink(missing_ok=True)
        self._pending.clear()

    def get(self, sha256: str) -> bytes | None:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            return None
        try:
            return self._pending.get(sha256, self.path_for(sha256)).read_bytes()
        except OSError:
            return None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
