"""Feeds pipeline results into a writable store, committing in batches.

Exact duplicates (same sha256) become one image with another occurrence; a
file seen before with the same text changes nothing. The counts it keeps are
the ingest summary.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import numpy as np

from pixsearch.index.store import WriteStore
from pixsearch.ingest.pipeline import Processed
from pixsearch.records import ImageDocument, Rejection


@dataclass(slots=True)
class IngestSummary:
    indexed: int = 0  # new distinct images
    duplicates: int = 0  # same bytes as an indexed image: added as another occurrence
    unchanged: int = 0  # seen before with the same text: nothing to do
    rejected: Counter[str] = field(default_factory=Counter)
    commits: int = 0

    @property
    def seen(self) -> int:
        return self.indexed + self.duplicates + self.unchanged + sum(self.rejected.values())


class VectorSink(Protocol):
    """Per-image vectors kept beside the index (CLIP's clipvectors/, index/clipvectors.py)."""

    def add(self, doc_id: int, vector: np.ndarray) -> None: ...

    def __call__(self) -> None:
        """Save what was added under the store's generation, just committed."""
        ...


class ChangeLog(Protocol):
    """What an index was given, also kept elsewhere (a crawl's feature shards)."""

    def add(self, item: Processed | Rejection) -> None: ...

    def flush(self) -> None:
        """Keep what was added since the last flush; raise ``ChangeLogError`` if it cannot."""
        ...


class ChangeLogError(RuntimeError):
    """The change log could not keep a batch: the run must stop before the index commits
    it, or the log would miss what the index holds (and a resumed run never refetches)."""


class Indexer:
    def __init__(
        self,
        store: WriteStore,
        *,
        commit_every: int = 2000,
        after_commit: Callable[[], None] | None = None,
        clip_vectors: VectorSink | None = None,
        changes: ChangeLog | None = None,
    ) -> None:
        self.store = store
        self.commit_every = commit_every
        # Derived data kept beside the index (text vectors) catches up after each commit.
        self.after_commit = after_commit
        # CLIP image vectors of new images: held until the commit, then saved under its
        # generation. A crash between the two loses that one batch's vectors, and a
        # rerun does not bring them back (the files are "unchanged" by then).
        self.clip_vectors = clip_vectors
        # Flushed before each commit, so it never holds less than the index.
        self.changes = changes
        self.summary = IngestSummary()
        self._since_commit = 0
        self.rejections: list[Rejection] = []

    def handle(self, item: Processed | Rejection) -> str:
        """Index one pipeline result; returns the outcome counted in the summary."""
        if isinstance(item, Rejection):
            if self.changes is not None:
                self.changes.add(item)
            self.summary.rejected[item.reason] += 1
            if len(self.rejections) < 10_000:
                self.rejections.append(item)
            return "rejected"
        existing = self.store.find_by_sha(item.facts.sha256)
        if existing is None:
            doc = ImageDocument(
                facts=item.facts, occurrences=[item.occurrence], first_seen=datetime.now(UTC)
            )
            self.store.add(doc, item.thumbnail, item.embedding)
            if item.embedding is not None:
                self.store.add_vector(doc.doc_id, item.embedding)
            if item.clip_embedding is not None and self.clip_vectors is not None:
                self.clip_vectors.add(doc.doc_id, item.clip_embedding)
            self.summary.indexed += 1
            outcome = "indexed"
        elif self.store.add_occurrence(existing.doc_id, item.occurrence):
            self.summary.duplicates += 1
            outcome = "duplicate"
        else:
            self.summary.unchanged += 1
            return "unchanged"
        if self.changes is not None:
            self.changes.add(item)
        self._since_commit += 1
        if self._since_commit >= self.commit_every:
            self.commit()
        return outcome

    def commit(self) -> None:
        if self.changes is not None:
            self.changes.flush()
        if self._since_commit:
            self.store.commit()
            self.summary.commits += 1
            self._since_commit = 0
        if self.clip_vectors is not None:
            self.clip_vectors()  # after the commit: its vectors name a landed generation
        if self.after_commit is not None:
            # also with nothing new: a run killed before its catch-up is made whole here
            self.after_commit()
