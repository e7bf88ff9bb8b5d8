"""A sharded build in several processes writes the very shards one process writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pixsearch.cli.main import cli
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.features.folder import FeatureFolder
from pixsearch.index.features.groups import assign_groups
from pixsearch.index.features.parallel import split_groups
from pixsearch.index.sharded.routing import shard_of
from tests.index.features.helpers import all_documents, corpus_features, page_counts


@pytest.fixture(scope="module")
def features(tmp_path_factory: pytest.TempPathFactory) -> FeatureFolder:
    return corpus_features(tmp_path_factory.mktemp("parallel"))


def build(features: FeatureFolder, index: Path, *extra: str) -> list[EmbeddedStore]:
    args = ["index", "build", features.location, "--index", str(index), "--shards", "3", *extra]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return [EmbeddedStore(index / f"shard-{i}") for i in range(3)]


def test_shards_written_side_by_side_equal_those_of_one_process(
    features: FeatureFolder, tmp_path: Path
) -> None:
    one = build(features, tmp_path / "one")
    side_by_side = build(features, tmp_path / "two", "--workers", "2")
    for a, b in zip(one, side_by_side, strict=True):
        assert all_documents(a) == all_documents(b)  # same doc ids, groups and places
        assert page_counts(a) == page_counts(b)
    assert sum(1 for s in one if all_documents(s)) > 1  # the corpus really was spread


def test_a_failed_shard_fails_the_build(features: FeatureFolder, tmp_path: Path) -> None:
    index = tmp_path / "broken"
    index.mkdir()
    (index / "shard-1").write_text("a file where a shard's folder must go")
    args = ["index", "build", features.location, "--index", str(index), "--shards", "3"]
    for workers in ("3", "1"):  # in worker processes, and in this one
        result = CliRunner().invoke(cli, [*args, "--workers", workers])
        assert result.exit_code == 1, result.output  # a message, not a traceback
        assert "index build stopped" in result.output and "shard-1" in result.output
        assert not (index / "shard-1").is_dir()
        for made in index.glob("shard-[02]"):
            shutil.rmtree(made)  # a sharded build starts from empty folders


def test_groups_are_cut_by_their_shard(features: FeatureFolder) -> None:
    groups = assign_groups(features.looks(features.names()), features.thumbnails.get)
    cut = split_groups(groups, 3)
    assert sum(len(part) for part in cut) == len(groups)
    for i, part in enumerate(cut):
        assert all(shard_of(key, 3) == i and groups[sha] == key for sha, key in part.items())
