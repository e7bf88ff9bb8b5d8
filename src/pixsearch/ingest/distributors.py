"""Distributors: who runs the pipeline over input shards and writes their feature shards.

As in img2dataset, a name picks one (``DISTRIBUTORS``; an unknown name raises):

- ``local``: this machine's process pool (ingest/parallel.py: all cores, a
  crashing file isolated and rejected as "crashed");
- ``ray``: Ray Data over a Ray cluster, one actor per core with its models
  loaded once (ingest/ray_distributor.py).

An input shard is a fixed list of files, named by its position and a digest of
the list, so the same input gives the same shard names and a rerun skips the
shards whose feature files exist. A shard whose writing fails is retried up to
``attempts`` times, then reported with its error; the run goes on with the
others. Each finished shard is announced as a ``ShardOutcome`` as soon as it
is written, so the index can be built from it while others are still running.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.parallel import Outcome, process_many
from pixsearch.ingest.pipeline import Processed, process_file
from pixsearch.records import Rejection
from pixsearch.registry import Registry, Unavailable

if TYPE_CHECKING:  # pyarrow (feature shards) is optional: imported where shards are written
    from pixsearch.index.features.build import Loader
    from pixsearch.index.features.folder import FeatureFolder
    from pixsearch.index.features.schema import FeatureRecord

SHARD_FILES = 256  # files per input shard: small enough to retry, big enough to amortise
ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class InputShard:
    name: str
    paths: tuple[str, ...]  # absolute: any worker on any machine reads the same files
    payload: str = ""  # what a job needs beside the paths, as text (a URL list's rows)


@dataclass(frozen=True, slots=True)
class ShardOutcome:
    name: str
    ok: bool
    error: str = ""  # why it failed, after every attempt
    files: int = 0  # files the pipeline saw (0 when skipped)
    skipped: bool = False  # its feature file existed already
    attempts: int = 0


class ShardJob(Protocol):
    """What an input shard's paths are turned into: the pipeline's outcomes, in order.

    Sent to every worker (pickled), so an implementation is a module-level
    function or a small object holding what all shards share.
    """

    def __call__(self, shard: InputShard, config: PipelineConfig) -> list[Outcome]: ...


def image_files(shard: InputShard, config: PipelineConfig) -> list[Outcome]:
    """The default job: every path is an image file."""
    return [process_file(Path(path), config) for path in shard.paths]


class Distributor(Protocol):
    def run(
        self,
        shards: Sequence[InputShard],
        features: FeatureFolder,
        config: PipelineConfig,
        job: ShardJob = image_files,
    ) -> Iterator[ShardOutcome]:
        """Write the feature shards of `shards` (skipping finished ones); each as it ends."""
        ...


class DistributorUnavailable(Unavailable):
    """The distributor named is unknown or cannot run here (Ray not installed)."""


DISTRIBUTORS: Registry[Distributor] = Registry(
    "distributor",
    {
        "local": "pixsearch.ingest.distributors:LocalDistributor",
        "ray": "pixsearch.ingest.ray_distributor:RayDistributor",
    },
    error=DistributorUnavailable,
)


def join_ray(address: str) -> bool:
    """Join the Ray at `address` (or start a local one without); whether it was started here,
    to be shut down by the caller. A Ray already initialised in this process is used as is.
    Here rather than beside the Ray distributor, which needs pyarrow: a crawl on Ray does not.
    """
    import ray  # the [ray] extra: only callers that checked it is there get here

    if ray.is_initialized():
        return False
    try:
        ray.init(address=address or None, include_dashboard=False, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise DistributorUnavailable(f"cannot reach Ray at {address!r}: {exc}") from exc
    return True


def open_distributor(name: str, **options: Any) -> Distributor:
    """The distributor `name`, built with its options (workers, address, attempts)."""
    return DISTRIBUTORS.create(name, **options)


def split_paths(paths: Iterable[Path | str], size: int = SHARD_FILES) -> list[InputShard]:
    """Files in order, made absolute, each once, cut into shards of `size`."""
    if size < 1:
        raise ValueError(f"an input shard holds at least one file, not {size}")
    unique = list(dict.fromkeys(os.path.abspath(p) for p in paths))
    shards = []
    for number, start in enumerate(range(0, len(unique), size)):
        chunk = tuple(unique[start : start + size])
        shards.append(InputShard(shard_name(number, chunk), chunk))
    return shards


def shard_name(number: int, items: Sequence[str]) -> str:
    """An input shard's name: its position and a digest of what it holds."""
    digest = hashlib.blake2b("\n".join(items).encode(), digest_size=6).hexdigest()
    return f"{number:06d}-{digest}"


def records_of(
    outcomes: Iterable[Outcome],
) -> tuple[list[FeatureRecord], list[tuple[str, bytes]], list[Rejection]]:
    """Pipeline outcomes as feature records, thumbnails by sha256, and rejections."""
    records: list[FeatureRecord] = []
    thumbnails: list[tuple[str, bytes]] = []
    rejections: list[Rejection] = []
    for outcome in outcomes:
        if isinstance(outcome, Rejection):
            rejections.append(outcome)
            continue
        records.append(_record(outcome))
        if outcome.thumbnail:
            thumbnails.append((outcome.facts.sha256, outcome.thumbnail))
    return records, thumbnails, rejections


def _record(processed: Processed) -> FeatureRecord:
    from pixsearch.index.features.schema import FeatureRecord

    # first_seen stays unset: the build stamps the time the index first holds the image.
    return FeatureRecord(
        facts=processed.facts,
        occurrences=[processed.occurrence],
        embedding=processed.embedding,
        clip_embedding=processed.clip_embedding,
        has_thumbnail=bool(processed.thumbnail),
    )


def write_outcomes(
    features: FeatureFolder, shard: InputShard, outcomes: Sequence[Outcome], attempts: int
) -> ShardOutcome:
    """Write one shard's feature file from its outcomes, trying up to `attempts` times."""
    records, thumbnails, rejections = records_of(outcomes)
    error = ""
    for attempt in range(1, attempts + 1):
        try:
            features.write_shard(shard.name, records, thumbnails, rejections)
            return ShardOutcome(shard.name, True, files=len(outcomes), attempts=attempt)
        except Exception as exc:  # a full disk, a lost mount, a refused upload
            error = f"{type(exc).__name__}: {exc}"[:500]
    return ShardOutcome(shard.name, False, error, len(outcomes), attempts=attempts)


def process_shard(
    shard: InputShard,
    features: FeatureFolder,
    config: PipelineConfig,
    attempts: int = ATTEMPTS,
    job: ShardJob = image_files,
) -> ShardOutcome:
    """Run the pipeline over one shard in this process and write its feature file."""
    if features.has_shard(shard.name):
        return ShardOutcome(shard.name, True, skipped=True)
    return write_outcomes(features, shard, job(shard, config), attempts)


def finished(shards: Sequence[InputShard], features: FeatureFolder) -> list[InputShard]:
    """The shards whose feature files exist (a rerun skips them)."""
    done = set(features.names())
    return [s for s in shards if s.name in done]


class LocalDistributor:
    """This machine's process pool; a shard is written once all its files are back."""

    def __init__(self, *, workers: int | None = None, attempts: int = ATTEMPTS, **_: Any) -> None:
        self.workers = workers
        self.attempts = attempts

    def run(
        self,
        shards: Sequence[InputShard],
        features: FeatureFolder,
        config: PipelineConfig,
        job: ShardJob = image_files,
    ) -> Iterator[ShardOutcome]:
        features.create().remove_temporary()
        done = {s.name for s in finished(shards, features)}
        for shard in shards:
            if shard.name in done:
                yield ShardOutcome(shard.name, True, skipped=True)
        pending = [s for s in shards if s.name not in done]
        if job is not image_files:
            # Another job's paths are not image files for the pool: a shard at a time,
            # here (an archive is read from start to end anyway).
            for shard in pending:
                yield process_shard(shard, features, config, self.attempts, job)
            return
        owner = {path: i for i, shard in enumerate(pending) for path in shard.paths}
        waiting = [len(shard.paths) for shard in pending]
        results: dict[int, list[Outcome]] = {}
        files = (Path(p) for p in chain.from_iterable(s.paths for s in pending))
        for outcome in process_many(files, config, workers=self.workers):
            i = owner[_source(outcome)]
            results.setdefault(i, []).append(outcome)
            waiting[i] -= 1
            if waiting[i] == 0:
                shard = pending[i]
                order = {path: n for n, path in enumerate(shard.paths)}
                outcomes = sorted(results.pop(i), key=lambda o: order[_source(o)])
                yield write_outcomes(features, shard, outcomes, self.attempts)


def _source(outcome: Outcome) -> str:
    """The absolute path an outcome came from (what the pipeline names it by)."""
    return outcome.source if isinstance(outcome, Rejection) else outcome.occurrence.source


@dataclass(slots=True)
class DistributedRun:
    """What a distributed ingest did, shard by shard."""

    written: int = 0  # shards processed and written by this run
    skipped: int = 0  # shards a previous run had finished
    failed: list[ShardOutcome] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)  # the pipeline's, all shards


def ingest_shards(
    distributor: Distributor,
    shards: Sequence[InputShard],
    features: FeatureFolder,
    config: PipelineConfig,
    loader: Loader,
    *,
    job: ShardJob = image_files,
    on_shard: Callable[[ShardOutcome], None] | None = None,
) -> DistributedRun:
    """Process `shards` into feature shards and load each into the index as it is written.

    Shards finished by an earlier run are loaded too (their images are then
    "unchanged" in an index that holds them already). The loader is finished
    (committed) at the end, failures or not.
    """
    run = DistributedRun()
    try:
        for outcome in distributor.run(shards, features, config, job):
            if outcome.ok:
                loader.load(outcome.name)
                run.rejections += features.rejections(outcome.name)
                if outcome.skipped:
                    run.skipped += 1
                else:
                    run.written += 1
            else:
                run.failed.append(outcome)
            if on_shard is not None:
                on_shard(outcome)
    finally:
        loader.finish()
    return run
