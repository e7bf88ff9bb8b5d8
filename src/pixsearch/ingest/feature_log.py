"""A crawl's changes kept as feature shards, one shard per index commit.

``pixsearch crawl --features DIR`` indexes as it goes and also writes what it
gave the index to DIR, so ``pixsearch index build DIR`` can rebuild the index
(or N shards of it) later without fetching or decoding anything again. A crawl
has no fixed input shards to name its output after, so each commit's batch is
a shard named by its sequence number and a run id: ``crawl-000007-1a2b3c4d``.
Names sort in the order the batches were indexed, which is the order a build
reads them in; a resumed crawl continues the numbering; two crawls writing one
folder at once do not overwrite each other (the run ids differ).

The batch is written before the index commits it (``Indexer.commit``), so the
shards never hold less than the index: a crash in between leaves a shard of
changes the index lost, and the resumed crawl, fetching those pages again,
writes them once more, which a build reads as duplicates that change nothing.
"""

from __future__ import annotations

import re
import uuid

from pixsearch.index.features.folder import FeatureFolder
from pixsearch.ingest.distributors import ATTEMPTS, records_of
from pixsearch.ingest.indexer import ChangeLogError
from pixsearch.ingest.pipeline import Processed
from pixsearch.records import Rejection

PREFIX = "crawl"
_NUMBERED = re.compile(rf"^{PREFIX}-(\d{{6,}})-")


class FeatureLog:
    """An Indexer's ``ChangeLog`` writing each commit's batch to a feature folder."""

    def __init__(self, folder: FeatureFolder, attempts: int = ATTEMPTS) -> None:
        self.folder = folder.create()
        self.attempts = attempts
        self.run_id = uuid.uuid4().hex[:8]
        self.next_number = 1 + max(
            (int(m.group(1)) for name in folder.names() if (m := _NUMBERED.match(name))),
            default=0,
        )
        self.pending: list[Processed | Rejection] = []
        self.written = 0  # shards this run

    def add(self, item: Processed | Rejection) -> None:
        self.pending.append(item)

    def flush(self) -> None:
        if not self.pending:
            return
        records, thumbnails, rejections = records_of(self.pending)
        name = f"{PREFIX}-{self.next_number:06d}-{self.run_id}"
        error = ""
        for _ in range(self.attempts):
            try:
                self.folder.write_shard(name, records, thumbnails, rejections)
                break
            except Exception as exc:  # a full disk, a lost mount, a refused upload
                error = f"{type(exc).__name__}: {exc}"[:500]
        else:
            # Kept pending: the index does not commit this batch either.
            raise ChangeLogError(f"feature shard {name} not written: {error}")
        self.pending.clear()
        self.next_number += 1
        self.written += 1
