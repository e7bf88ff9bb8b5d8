"""Build an index, or the N shards of one, from feature shards: no decoding, no model.

Every record goes through the ``WriteStore`` seam as the ingest's Indexer would
send it: a new image is added with its thumbnail (from the feature folder's
thumbnail store) and visual embedding, an image the store already holds gets
the record's occurrences, and the stores commit every ``commit_every`` changes
and at the end. With several targets, ``groups.assign_groups`` first gives every
image its near-duplicate group over all shards, and each image goes to the
shard ``shard_of(group key, N)``: a group never spans shards. The shard stores
take those groups as they are (``add(..., grouped=True)``) rather than look
each image up again: the global pass applied the store's own rule in the same
order, and a shard's own look-up could only differ where a visual match lay
beyond the global search's nearest few (then it merged two groups of one shard).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import numpy as np

from pixsearch.index.features.folder import FeatureFolder
from pixsearch.index.features.groups import assign_groups
from pixsearch.index.features.schema import FeatureRecord
from pixsearch.index.sharded.routing import shard_of
from pixsearch.index.store import WriteStore
from pixsearch.records import ImageDocument


class VectorSink(Protocol):
    """Per-image vectors kept beside an index (CLIP's, index/clipvectors.py)."""

    def add(self, doc_id: int, vector: np.ndarray) -> None: ...

    def __call__(self) -> None:
        """Save what was added under the store's generation, just committed."""
        ...


@dataclass(slots=True)
class Target:
    """One index being built: its store and what is derived beside it after each commit."""

    store: WriteStore
    clip_vectors: VectorSink | None = None
    after_commit: Callable[[], None] | None = None  # e.g. text vectors catching up
    indexed: int = 0  # new images
    duplicates: int = 0  # records that gave an indexed image new occurrences
    unchanged: int = 0  # records that changed nothing
    commits: int = 0
    pending: int = 0  # changes since the last commit

    def commit(self) -> None:
        if self.pending:
            self.store.commit()
            self.commits += 1
            self.pending = 0
        if self.clip_vectors is not None:
            self.clip_vectors()  # after the commit: its vectors name a landed generation
        if self.after_commit is not None:
            self.after_commit()


@dataclass(slots=True)
class BuildSummary:
    records: int = 0
    indexed: list[int] = field(default_factory=list)  # per target
    duplicates: int = 0
    unchanged: int = 0
    commits: int = 0
    grouping_seconds: float = 0.0
    writing_seconds: float = 0.0
    nodes: int = 0  # the Ray nodes that wrote shards, in a build on Ray


Progress = Callable[[int], None]  # called with the records done so far


class Loader:
    """Feeds feature shards to target stores, one shard at a time, committing as it goes.

    ``route`` picks each record's target (default: the first), or None for a record
    that is not this loader's to write (another process writes it). The ingest's
    distributors call ``load`` as shards finish; ``build_index`` for all at once.
    """

    def __init__(
        self,
        features: FeatureFolder,
        targets: Sequence[Target],
        *,
        route: Callable[[FeatureRecord], int | None] | None = None,
        groups: Mapping[str, str] | None = None,
        commit_every: int = 2000,
        progress: Progress | None = None,
    ) -> None:
        if not targets:
            raise ValueError("an index build needs at least one target store")
        self.features = features
        self.targets = targets
        self.route: Callable[[FeatureRecord], int | None] = route or (lambda record: 0)
        self.groups = groups  # sha256 → its group's key, when grouped beforehand
        self.commit_every = commit_every
        self.progress = progress
        self.summary = BuildSummary()
        self._before = [_counts(t) for t in targets]  # a target may have built before

    def load(self, name: str) -> int:
        """Write feature shard `name`'s records (those routed here); how many."""
        written = 0
        for record in self.features.read_shard(name):
            where = self.route(record)
            if where is None:
                continue
            target = self.targets[where]
            group = None if self.groups is None else self.groups.get(record.facts.sha256)
            _write(target, record, self.features, group)
            if target.pending >= self.commit_every:
                target.commit()
            written += 1
            self.summary.records += 1
            if self.progress is not None:
                self.progress(self.summary.records)
        return written

    def finish(self) -> BuildSummary:
        """Commit every target (and bring its derived data up to date); the totals."""
        for target in self.targets:
            target.commit()
        done = [
            tuple(now - then for now, then in zip(_counts(t), before, strict=True))
            for t, before in zip(self.targets, self._before, strict=True)
        ]
        summary = self.summary
        summary.indexed = [counts[0] for counts in done]
        summary.duplicates = sum(counts[1] for counts in done)
        summary.unchanged = sum(counts[2] for counts in done)
        summary.commits = sum(counts[3] for counts in done)
        return summary


def _counts(target: Target) -> tuple[int, int, int, int]:
    return target.indexed, target.duplicates, target.unchanged, target.commits


def build_index(
    features: FeatureFolder,
    targets: Sequence[Target],
    *,
    names: Sequence[str] | None = None,
    commit_every: int = 2000,
    dup_distance: int = 6,
    progress: Progress | None = None,
) -> BuildSummary:
    """Write the records of `features`' shards (all finished ones, or `names`) to `targets`."""
    names = list(features.names() if names is None else names)
    started = time.perf_counter()
    groups = _groups(features, names, len(targets), dup_distance)
    route = _router(groups, len(targets))
    grouping = time.perf_counter() - started
    loader = Loader(
        features,
        targets,
        route=route,
        groups=groups,
        commit_every=commit_every,
        progress=progress,
    )
    started = time.perf_counter()
    for name in names:
        loader.load(name)
    summary = loader.finish()
    summary.grouping_seconds = grouping
    summary.writing_seconds = time.perf_counter() - started
    return summary


def _groups(
    features: FeatureFolder, names: Sequence[str], n: int, dup_distance: int
) -> dict[str, str] | None:
    """Every image's group key before any is written, when there are several targets."""
    if n == 1:
        return None  # the one store groups its images itself, as an ingest does
    return assign_groups(features.looks(names), features.thumbnails.get, max_distance=dup_distance)


def _router(groups: Mapping[str, str] | None, n: int) -> Callable[[FeatureRecord], int]:
    """record → the target it goes to: one target takes all; N, by the record's group."""
    if groups is None:
        return lambda record: 0
    shards = {key: shard_of(key, n) for key in set(groups.values())}
    return lambda record: shards[groups[record.facts.sha256]]


def _write(
    target: Target, record: FeatureRecord, features: FeatureFolder, group: str | None
) -> None:
    """Add or update one record's image; `group`, its group's key if grouped beforehand."""
    store = target.store
    existing = store.find_by_sha(record.facts.sha256)
    if existing is None:
        doc: ImageDocument = record.document(datetime.now(UTC))
        thumbnail = features.thumbnails.get(record.facts.sha256) if record.has_thumbnail else None
        grouped = group is not None and _join(store, doc, group)
        store.add(doc, thumbnail, record.embedding, grouped=grouped)
        if record.embedding is not None:
            store.add_vector(doc.doc_id, record.embedding)
        if record.clip_embedding is not None and target.clip_vectors is not None:
            target.clip_vectors.add(doc.doc_id, record.clip_embedding)
        target.indexed += 1
    else:
        changed = [store.add_occurrence(existing.doc_id, o) for o in record.occurrences]
        if not any(changed):
            target.unchanged += 1
            return
        target.duplicates += 1
    target.pending += 1


def _join(store: WriteStore, doc: ImageDocument, group: str) -> bool:
    """Set `doc`'s group to that of the image keyed `group` (0: a new group); False
    when that image is not in this store, so the store must look the group up."""
    if group == doc.facts.sha256:
        doc.group_id = 0
        return True
    first = store.find_by_sha(group)
    if first is None:
        return False
    doc.group_id = first.group_id
    return True
