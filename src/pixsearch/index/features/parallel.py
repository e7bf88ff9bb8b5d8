"""The shards of a sharded build written side by side, a process each.

Grouping must see every image in the ingest's order (groups.py), so it runs once,
here. After it each shard is on its own: its images, their groups, its own
directory. Writing is Python per record under one interpreter lock, so threads
would not help; W processes write W shards at once. Each reads every feature
shard and keeps the records routed to it: reading costs about a tenth of writing
a record (docs/distributed.md), so the reading each process repeats is small next
to the writing it shares out.

Processes are spawned, not forked: the parent holds Tantivy and usearch handles
and their threads, which a fork would copy in whatever state they were in. A
failed shard fails the build, as in one process: a sharded build starts from
empty folders, so it is rerun into new ones.

What is not about processes (planning the shards, adding up their summaries)
is ``build_sharded``'s, which ray_build.py shares: there each shard is a Ray task.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing.sharedctypes import SynchronizedArray
from pathlib import Path
from typing import Any

from pixsearch.index.features.build import BuildSummary, Loader, Progress, Target, build_index
from pixsearch.index.features.folder import FeatureFolder
from pixsearch.index.features.groups import Mapper, assign_groups
from pixsearch.index.sharded.routing import shard_of
from pixsearch.lifeline import die_with

OpenTarget = Callable[[Path], Target]  # picklable: a module's function or a partial of one
RunJobs = Callable[[list["ShardJob"], Progress | None], list[BuildSummary]]  # summaries in order
POLL_SECONDS = 0.25  # how often the parent adds up the shards' progress

_written: Any = None  # in a worker: records written so far, one slot a shard


@dataclass(frozen=True, slots=True)
class ShardJob:
    """One shard to write: what a worker process needs, and nothing it could share."""

    location: str  # the feature folder, reopened in the worker
    names: tuple[str, ...]
    shard: int
    folder: Path
    # sha256 → group key, for this shard's images only; None for the one shard of an
    # unsharded build, whose store groups its images itself as a one-process build's does
    groups: dict[str, str] | None
    commit_every: int


def build_into(
    features: FeatureFolder,
    folders: Sequence[Path],
    open_target: OpenTarget,
    *,
    workers: int = 1,
    names: Sequence[str] | None = None,
    commit_every: int = 2000,
    dup_distance: int = 6,
    progress: Progress | None = None,
) -> BuildSummary:
    """`build_index` into the stores `open_target` opens at `folders`, closed after: side
    by side when there are several and `workers` over 1, else in this process."""
    if workers > 1 and len(folders) > 1:
        return build_shards_side_by_side(
            features,
            folders,
            open_target,
            workers=workers,
            names=names,
            commit_every=commit_every,
            dup_distance=dup_distance,
            progress=progress,
        )
    targets = [open_target(folder) for folder in folders]
    try:
        return build_index(
            features,
            targets,
            names=names,
            commit_every=commit_every,
            dup_distance=dup_distance,
            progress=progress,
        )
    finally:
        for target in targets:
            target.store.close()


def build_shards_side_by_side(
    features: FeatureFolder,
    folders: Sequence[Path],
    open_target: OpenTarget,
    *,
    workers: int,
    names: Sequence[str] | None = None,
    commit_every: int = 2000,
    dup_distance: int = 6,
    progress: Progress | None = None,
) -> BuildSummary:
    """`build_index` into the N shards at `folders`, `workers` of them written at once."""

    def run(jobs: list[ShardJob], progress: Progress | None) -> list[BuildSummary]:
        return _run(jobs, open_target, workers, progress)

    return build_sharded(
        features,
        folders,
        run,
        names=names,
        commit_every=commit_every,
        dup_distance=dup_distance,
        progress=progress,
    )


def build_sharded(
    features: FeatureFolder,
    folders: Sequence[Path],
    run: RunJobs,
    *,
    names: Sequence[str] | None = None,
    commit_every: int = 2000,
    dup_distance: int = 6,
    progress: Progress | None = None,
    mapper: Mapper | None = None,
) -> BuildSummary:
    """The shards at `folders` planned here (grouping included, its parts run by `mapper`),
    written by `run` (processes here, or Ray tasks: ray_build.py), their summaries added up."""
    if features.filesystem_given:
        raise ValueError("a build in several processes opens the feature folder by its location")
    names = tuple(features.names() if names is None else names)
    started = time.perf_counter()
    jobs = shard_jobs(features, folders, names, commit_every, dup_distance, mapper)
    summary = BuildSummary(grouping_seconds=time.perf_counter() - started)
    started = time.perf_counter()
    done = run(jobs, progress)
    summary.writing_seconds = time.perf_counter() - started
    summary.records = sum(d.records for d in done)
    summary.indexed = [d.indexed[0] for d in done]
    summary.duplicates = sum(d.duplicates for d in done)
    summary.unchanged = sum(d.unchanged for d in done)
    summary.commits = sum(d.commits for d in done)
    return summary


def shard_jobs(
    features: FeatureFolder,
    folders: Sequence[Path],
    names: tuple[str, ...],
    commit_every: int,
    dup_distance: int,
    mapper: Mapper | None = None,
) -> list[ShardJob]:
    """A job per folder: with several, the grouping pass first, each job given its groups."""
    # Absolute, so a process with another working directory (a Ray worker) finds them.
    location = features.location if "://" in features.location else features.root
    if len(folders) == 1:
        return [ShardJob(location, names, 0, folders[0].absolute(), None, commit_every)]
    looks = features.looks(names)
    thumbnail = features.thumbnails.get
    groups = assign_groups(looks, thumbnail, max_distance=dup_distance, mapper=mapper)
    per_shard = split_groups(groups, len(folders))
    return [
        ShardJob(location, names, i, folder.absolute(), per_shard[i], commit_every)
        for i, folder in enumerate(folders)
    ]


def split_groups(groups: dict[str, str], n: int) -> list[dict[str, str]]:
    """`groups` (sha256 → group key) cut by the shard each group goes to."""
    shards = {key: shard_of(key, n) for key in set(groups.values())}
    out: list[dict[str, str]] = [{} for _ in range(n)]
    for sha, key in groups.items():
        out[shards[key]][sha] = key
    return out


def _run(
    jobs: list[ShardJob], open_target: OpenTarget, workers: int, progress: Progress | None
) -> list[BuildSummary]:
    """Each job's summary, in job order; the first failure is raised once all have stopped."""
    context = multiprocessing.get_context("spawn")
    written = context.Array("q", len(jobs), lock=False)
    with ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(jobs))),
        mp_context=context,
        initializer=_share,
        initargs=(written, os.getpid()),
    ) as pool:
        futures = [pool.submit(_write_shard, job, open_target) for job in jobs]
        pending: set[Future[BuildSummary]] = set(futures)
        while pending:
            _, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_EXCEPTION)
            if progress is not None:
                progress(sum(written))
            if any(f.done() and f.exception() is not None for f in futures):
                for future in pending:
                    future.cancel()  # those not started; the running ones finish their shard
                break
        return [future.result() for future in futures]


def _share(written: SynchronizedArray[int], owner: int) -> None:
    """In a worker, first: where to count its records, and whom to die with (a build killed
    by `kill -9` leaves no worker behind, waiting on its task queue forever)."""
    global _written
    _written = written
    die_with(owner)


def _write_shard(job: ShardJob, open_target: OpenTarget) -> BuildSummary:
    """In a worker process: `write_shard`, its progress counted in the shared array."""
    return write_shard(job, open_target, _progress_of(job.shard))


def write_shard(job: ShardJob, open_target: OpenTarget, progress: Progress) -> BuildSummary:
    """Write one shard's records, committing as the one-process build does."""
    features = FeatureFolder(job.location)
    target = open_target(job.folder)
    groups = job.groups
    try:
        loader = Loader(
            features,
            [target],
            route=None if groups is None else lambda r: 0 if r.facts.sha256 in groups else None,
            groups=groups,
            commit_every=job.commit_every,
            progress=progress,
        )
        for name in job.names:
            loader.load(name)
        return loader.finish()
    finally:
        target.store.close()


def _progress_of(shard: int) -> Progress:
    def report(done: int) -> None:
        if _written is not None:
            _written[shard] = done

    return report
