"""Distributors: input shards → feature shards → index, locally and on a real local Ray."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from tests.conftest import ingest_folder
from tests.index.features.helpers import (
    all_documents,
    image_files,
    page_counts,
    partition,
    write_corpus,
)

from pixsearch.cli.main import cli
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.features.folder import FeatureFolder
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.distributors import (
    DistributorUnavailable,
    LocalDistributor,
    open_distributor,
    split_paths,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(pictures, an index ingested from them by the default path)."""
    root = tmp_path_factory.mktemp("distributors")
    write_corpus(root / "pictures")
    ingest_folder(root / "pictures", root / "direct", workers=2)
    return root / "pictures", root / "direct"


def ingest(*args: str) -> Any:
    return CliRunner().invoke(cli, ["ingest", *args], catch_exceptions=False)


def same_index(built: Path, direct: Path) -> None:
    """Same images with the same places, the same groups, the same page counts."""
    got, expected = EmbeddedStore(built), EmbeddedStore(direct)
    places = {k: v[1] for k, v in all_documents(got).items()}
    assert places == {k: v[1] for k, v in all_documents(expected).items()}
    assert partition(got) == partition(expected)
    assert page_counts(got) == page_counts(expected)


def test_input_shards_are_named_by_their_files(tmp_path: Path) -> None:
    paths = [tmp_path / f"{i}.jpg" for i in range(5)]
    shards = split_paths([*paths, paths[0]], 2)
    assert [len(s.paths) for s in shards] == [2, 2, 1]
    assert shards[0].paths[0] == os.path.abspath(paths[0])
    assert [s.name for s in split_paths(paths, 2)] == [s.name for s in shards]
    assert split_paths(paths[1:], 2)[0].name != shards[0].name  # other files, other name
    assert [s.name[:6] for s in shards] == ["000000", "000001", "000002"]


def test_an_unknown_distributor_is_refused() -> None:
    with pytest.raises(DistributorUnavailable, match="known: local, ray"):
        open_distributor("spark")


def test_local_distributor_skips_finished_shards_and_reports_failed_ones(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    pictures, _ = corpus
    shards = split_paths(image_files(pictures), 6)
    features = FeatureFolder(tmp_path / "features").create()
    (tmp_path / "features" / "shards" / f"{shards[1].name}.parquet").mkdir()  # unwritable
    first = list(LocalDistributor(workers=2, attempts=2).run(shards, features, PipelineConfig()))
    failed = [o for o in first if not o.ok]
    assert [o.name for o in failed] == [shards[1].name]
    assert failed[0].attempts == 2 and failed[0].error
    assert sorted(features.names()) == sorted(s.name for s in shards if s != shards[1])
    (tmp_path / "features" / "shards" / f"{shards[1].name}.parquet").rmdir()
    again = list(LocalDistributor(workers=2).run(shards, features, PipelineConfig()))
    assert sorted(o.name for o in again if o.skipped) == sorted(o.name for o in first if o.ok)
    assert [o.name for o in again if not o.skipped and o.ok] == [shards[1].name]


def test_local_with_features_equals_the_default_path(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    pictures, direct = corpus
    index = tmp_path / "index"
    args = [str(pictures), "--index", str(index), "--workers", "2", "--shard-files", "4"]
    result = ingest(*args, "--features", str(tmp_path / "features"), "--show-rejected")
    assert "rejected: corrupt" in result.output and "broken-picture.jpg" in result.output
    same_index(index, direct)
    again = ingest(*args, "--features", str(tmp_path / "features"))
    assert "unchanged (seen before)" in again.output and "│ 18 " in again.output


def test_a_failed_shard_fails_the_command_after_the_others_are_indexed(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    pictures, _ = corpus
    shards = split_paths(image_files(pictures), 5)
    (tmp_path / "features" / "shards" / f"{shards[0].name}.parquet").mkdir(parents=True)
    result = CliRunner().invoke(
        cli,
        [
            "ingest",
            str(pictures),
            "--index",
            str(tmp_path / "index"),
            "--shard-files",
            "5",
            "--features",
            str(tmp_path / "features"),
            "--shard-attempts",
            "2",
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 1
    assert f"failed shard {shards[0].name}" in result.output
    indexed = EmbeddedStore(tmp_path / "index").stats()["images"]
    assert 0 < indexed < len(image_files(pictures))


# -- a real local Ray ----------------------------------------------------------


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, object_store_memory=100 * 1024 * 1024, include_dashboard=False)
    try:
        yield
    finally:
        ray.shutdown()


def test_ray_ingest_equals_local(
    corpus: tuple[Path, Path], tmp_path: Path, ray_cluster: None
) -> None:
    pictures, direct = corpus
    index = tmp_path / "index"
    result = ingest(
        str(pictures), "--index", str(index), "--distributor", "ray", "--shard-files", "4"
    )
    assert result.exit_code == 0, result.output
    assert "rejected: corrupt" in result.output
    same_index(index, direct)
    assert not list(tmp_path.glob(".index.features-*"))  # the temporary features are gone


class _Dying:
    """Stands in for the Ray worker class: its process dies on shard 000001, every time."""

    def __init__(self, **options: Any) -> None:
        from pixsearch.ingest.ray_distributor import _ShardWorker

        self.worker = _ShardWorker(**options)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        if any(str(name).startswith("000001") for name in batch["name"]):
            os._exit(1)
        return self.worker(batch)


def test_ray_reports_a_shard_whose_worker_keeps_dying(
    corpus: tuple[Path, Path],
    tmp_path: Path,
    ray_cluster: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ray import cloudpickle

    from pixsearch.ingest import ray_distributor

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    monkeypatch.setattr(ray_distributor, "_ShardWorker", _Dying)
    pictures, _ = corpus
    shards = split_paths(image_files(pictures), 5)
    features = FeatureFolder(tmp_path / "features")
    outcomes = list(open_distributor("ray", attempts=2).run(shards, features, PipelineConfig()))
    failed = [o for o in outcomes if not o.ok]
    assert [o.name for o in failed] == [shards[1].name]
    assert "died" in failed[0].error and failed[0].attempts == 2
    assert sorted(features.names()) == sorted(s.name for s in shards if s != shards[1])
