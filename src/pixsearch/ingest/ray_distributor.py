"""The ``ray`` distributor: input shards processed by Ray Data actors, one per core.

``ray.data.from_items`` holds one input shard per block; ``map_batches`` hands
them one at a time (``batch_size=1``) to a fixed pool of ``_ShardWorker``
actors, each reserving one CPU and loading the pipeline's models once, in its
constructor. A worker runs the shard's job (the pipeline over its files; an
archive's image records for import-warc; a chunk of URLs, fetched, for
import-urls) and writes the feature shard itself (a shared folder or object
store every node reaches), so only a one-line outcome travels back per shard.

Failures, bounded (img2dataset's Ray path retries nothing): a shard whose
writing fails is retried inside the worker (``attempts`` times); a worker
process that dies (a decoder's segfault, the OOM killer) is restarted by Ray
and its shard retried ``attempts - 1`` more times, after which the block is
counted as errored (``DataContext.max_errored_blocks`` lets the run go on) and
the shard is reported as failed. Ray defaults to retrying a dead actor's task
forever; one poisonous shard would then hang the run.

A crawl does not cut its input into shards: crawl/ray_images.py has Ray
actors fetch and process its images while the frontier stays in the command.

Ray is imported only when this distributor is built: ``pip install
'pixsearch[ray]'``. Without an address a local Ray is started for the run and
stopped after; with one (``auto``, ``ray://head:10001``) the run joins that
cluster, whose nodes must reach the input files and the feature folder at the
same paths, and have pixsearch installed.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from pixsearch.index.features.folder import FeatureFolder
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.distributors import (
    ATTEMPTS,
    InputShard,
    ShardJob,
    ShardOutcome,
    finished,
    image_files,
    join_ray,
    process_shard,
)
from pixsearch.ingest.parallel import tune_worker_memory
from pixsearch.models.analyzer import load_analyzer

try:
    import ray
    import ray.data
    from ray.data import ActorPoolStrategy, DataContext
except ImportError as exc:  # the registry turns this into DistributorUnavailable
    raise ImportError(f"{exc}; install it with: pip install 'pixsearch[ray]'") from exc

OUTCOME_FIELDS = ("name", "ok", "error", "files", "skipped", "attempts")


class _ShardWorker:
    """A Ray Data actor: models loaded once, then one input shard per call."""

    def __init__(self, location: str, config: PipelineConfig, attempts: int, job: ShardJob) -> None:
        tune_worker_memory()
        for name in config.analyzers:
            load_analyzer(name)  # cached per process: every shard of this actor reuses it
        self.features = FeatureFolder(location)
        self.config = config
        self.attempts = attempts
        self.job = job

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {field: [] for field in OUTCOME_FIELDS}
        for name, paths, payload in zip(
            batch["name"], batch["paths"], batch["payload"], strict=True
        ):
            shard = InputShard(str(name), tuple(str(paths).split("\n")), str(payload))
            try:
                outcome = process_shard(shard, self.features, self.config, self.attempts, self.job)
            except Exception as exc:  # the pipeline never raises; the folder might
                outcome = ShardOutcome(shard.name, False, f"{type(exc).__name__}: {exc}"[:500])
            for field in OUTCOME_FIELDS:
                out[field].append(getattr(outcome, field))
        return out


class RayDistributor:
    """Input shards on a Ray cluster (or a local Ray started for the run)."""

    def __init__(
        self,
        *,
        workers: int | None = None,
        address: str = "",
        attempts: int = ATTEMPTS,
        **_: Any,
    ) -> None:
        self.workers = workers
        self.address = address
        self.attempts = attempts

    def run(
        self,
        shards: Sequence[InputShard],
        features: FeatureFolder,
        config: PipelineConfig,
        job: ShardJob = image_files,
    ) -> Iterator[ShardOutcome]:
        if features.filesystem_given:
            raise ValueError(
                "Ray workers open the feature folder by its location: give a path or URI"
            )
        started_here = join_ray(self.address)
        try:
            features.create().remove_temporary()
            done = {s.name for s in finished(shards, features)}
            for shard in shards:
                if shard.name in done:
                    yield ShardOutcome(shard.name, True, skipped=True)
            pending = [s for s in shards if s.name not in done]
            if pending:
                yield from self._process(pending, features, config, job)
        finally:
            if started_here:
                ray.shutdown()

    def _process(
        self,
        pending: list[InputShard],
        features: FeatureFolder,
        config: PipelineConfig,
        job: ShardJob,
    ) -> Iterator[ShardOutcome]:
        cores = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        items = [
            {"name": s.name, "paths": "\n".join(s.paths), "payload": s.payload} for s in pending
        ]
        with warnings.catch_warnings():
            # Ray Data warns of its own deprecated settings, and max_restarts /
            # max_task_retries have no named parameter yet (Ray 2.60); without them
            # a dead actor's shard would be retried forever.
            warnings.simplefilter("ignore", DeprecationWarning)
            context = DataContext.get_current()
            context.max_errored_blocks = len(pending)  # a lost shard is reported, not fatal
            context.enable_progress_bars = False
            dataset = ray.data.from_items(items, override_num_blocks=len(items))
            mapped = dataset.map_batches(
                _ShardWorker,
                fn_constructor_kwargs={
                    "location": features.location,
                    "config": config,
                    "attempts": self.attempts,
                    "job": job,
                },
                # One shard at a time per actor: a shard queued behind one whose
                # worker dies would be charged that death as one of its own tries.
                compute=ActorPoolStrategy(
                    size=min(cores, len(pending)), max_tasks_in_flight_per_actor=1
                ),
                batch_size=1,
                num_cpus=1,
                max_restarts=-1,
                max_task_retries=self.attempts - 1,
            )
        reported: set[str] = set()
        for row in mapped.iter_rows():
            outcome = ShardOutcome(**{field: _plain(row[field]) for field in OUTCOME_FIELDS})
            reported.add(outcome.name)
            yield outcome
        for shard in pending:
            if shard.name not in reported:
                why = f"its worker died on each of {self.attempts} attempts"
                yield ShardOutcome(shard.name, False, why, len(shard.paths), False, self.attempts)


def _plain(value: Any) -> Any:
    """A numpy scalar from a Ray block as the plain Python value ShardOutcome holds."""
    return value.item() if isinstance(value, np.generic) else value
