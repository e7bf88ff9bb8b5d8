"""WARC/ARC archives as a distributor's input shards: one archive a shard.

A page in one archive may show an image stored in another, so the places of
every image are collected first, here, from the pages of all archives
(``warc.collect_refs``: HTML only, no image decoded); then each archive's image
records go through the pipeline wherever the distributor runs it, with the
places of its images (``WarcJob``), as ``import_warcs`` does in one process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pixsearch.crawl.warc import WarcStats, collect_refs, image_outcomes
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.distributors import InputShard, split_paths
from pixsearch.ingest.parallel import Outcome
from pixsearch.records import Occurrence


@dataclass(frozen=True, slots=True)
class WarcJob:
    """The ShardJob of an archive: its image records, each once for every place it is shown."""

    refs: dict[str, list[Occurrence]] = field(default_factory=dict)

    def __call__(self, shard: InputShard, config: PipelineConfig) -> list[Outcome]:
        stats = WarcStats()  # the run's counts come from the feature shards and the index
        return [
            outcome
            for path in shard.paths
            for outcome in image_outcomes(Path(path), self.refs, config, stats)
        ]


def warc_shards(paths: list[Path]) -> tuple[list[InputShard], WarcJob, WarcStats]:
    """(one input shard per archive, the job that knows every page's images, pages counted)."""
    stats = WarcStats()
    refs = collect_refs(paths, stats)
    return split_paths(paths, size=1), WarcJob(refs), stats
