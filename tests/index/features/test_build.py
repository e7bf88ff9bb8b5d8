"""Indexes built from feature shards: the same documents and groups as a direct ingest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pixsearch.cli.main import cli
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.features.build import Loader, Target, build_index
from pixsearch.index.features.folder import FeatureFolder
from pixsearch.index.features.groups import assign_groups
from pixsearch.index.features.schema import Look
from pixsearch.index.sharded.routing import shard_of
from tests.conftest import ingest_folder
from tests.index.features.helpers import (
    all_documents,
    page_counts,
    partition,
    write_corpus,
    write_features,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FeatureFolder, Path]:
    """(pictures, their feature shards, an index ingested from them directly)."""
    root = tmp_path_factory.mktemp("build")
    write_corpus(root / "pictures")
    features = FeatureFolder(root / "features")
    write_features(root / "pictures", features)
    ingest_folder(root / "pictures", root / "direct")
    return root / "pictures", features, root / "direct"


def build(features: FeatureFolder, folders: list[Path]) -> list[EmbeddedStore]:
    targets = [Target(EmbeddedStore(f, writable=True)) for f in folders]
    build_index(features, targets, commit_every=7)
    for target in targets:
        target.store.close()
    return [EmbeddedStore(f) for f in folders]


def test_one_index_equals_a_direct_ingest(
    corpus: tuple[Path, FeatureFolder, Path], tmp_path: Path
) -> None:
    _, features, direct = corpus
    (built,) = build(features, [tmp_path / "built"])
    expected = EmbeddedStore(direct)
    assert all_documents(built) == all_documents(expected)  # same numbering, same groups
    assert page_counts(built) == page_counts(expected)
    assert len(all_documents(built)) == 16  # 19 files: one broken, two exact copies
    assert any(len(group) > 1 for group in partition(built))  # the near-copies joined
    for doc in built.get(built.changed_since(0)):
        assert built.thumbnail(doc.facts.sha256) == expected.thumbnail(doc.facts.sha256)


def test_shards_keep_every_group_whole(
    corpus: tuple[Path, FeatureFolder, Path], tmp_path: Path
) -> None:
    _, features, direct = corpus
    shards = build(features, [tmp_path / f"shard-{i}" for i in range(3)])
    expected = EmbeddedStore(direct)
    where = {image_id: i for i, s in enumerate(shards) for image_id in all_documents(s)}
    assert sorted(where) == sorted(all_documents(expected))
    for group in partition(expected):
        assert len({where[image_id] for image_id in group}) == 1, group
    assert set().union(*(partition(s) for s in shards)) == partition(expected)
    counts = {k: v for s in shards for k, v in page_counts(s).items()}
    assert counts == page_counts(expected)
    assert sum(1 for s in shards if all_documents(s)) > 1  # the corpus really was spread


def test_shards_take_the_global_groups_as_their_own_look_up_finds_them(
    corpus: tuple[Path, FeatureFolder, Path], tmp_path: Path
) -> None:
    # The build hands each shard store its images' global groups (no look-up); a
    # store grouping its own shard's images must come to the very same rows.
    _, features, _ = corpus
    given = build(features, [tmp_path / f"given-{i}" for i in range(3)])
    groups = assign_groups(features.looks(features.names()), features.thumbnails.get)
    targets = [Target(EmbeddedStore(tmp_path / f"own-{i}", writable=True)) for i in range(3)]
    loader = Loader(
        features, targets, route=lambda r: shard_of(groups[r.facts.sha256], 3), commit_every=7
    )
    for name in features.names():
        loader.load(name)
    loader.finish()
    for target in targets:
        target.store.close()
    own = [EmbeddedStore(tmp_path / f"own-{i}") for i in range(3)]
    for mine, theirs in zip(given, own, strict=True):
        assert all_documents(mine) == all_documents(theirs)  # same doc ids, same group ids
        assert page_counts(mine) == page_counts(theirs)
    assert any(len(group) > 1 for s in given for group in partition(s))


def test_building_again_changes_nothing(
    corpus: tuple[Path, FeatureFolder, Path], tmp_path: Path
) -> None:
    _, features, _ = corpus
    target = Target(EmbeddedStore(tmp_path / "twice", writable=True))
    build_index(features, [target])
    again = build_index(features, [target])
    target.store.close()
    assert again.indexed == [0] and again.duplicates == 0 and again.unchanged == again.records


def look(n: int, phash: int, vector: list[float] | None = None) -> Look:
    embedding = None if vector is None else np.asarray(vector, dtype=np.float32)
    return Look(f"{n:064x}", phash, "", False, embedding)


def test_groups_follow_the_ingest_rule() -> None:
    base = 0x0123_4567_89AB_CDEF
    looks = [
        look(1, base),
        look(2, base ^ 0b111),  # 3 bits away: a copy
        look(3, ~base & ((1 << 64) - 1)),  # far away
        look(1, base),  # the same bytes again
        look(4, base ^ ((1 << 20) - 1)),  # 20 bits away
    ]
    groups = assign_groups(looks, lambda sha: None, max_distance=6)
    assert groups == {
        f"{1:064x}": f"{1:064x}",
        f"{2:064x}": f"{1:064x}",
        f"{3:064x}": f"{3:064x}",
        f"{4:064x}": f"{4:064x}",
    }
    assert shard_of(groups[f"{2:064x}"], 4) == shard_of(groups[f"{1:064x}"], 4)


def test_an_embedding_match_needs_its_pixels() -> None:
    # Close vectors alone never group: without thumbnails the pixel check cannot confirm.
    looks = [look(1, 0, [1.0, 0.0, 0.0]), look(2, (1 << 64) - 1, [1.0, 0.01, 0.0])]
    groups = assign_groups(looks, lambda sha: None)
    assert groups[f"{2:064x}"] == f"{2:064x}"


def test_index_build_command(corpus: tuple[Path, FeatureFolder, Path], tmp_path: Path) -> None:
    _, features, direct = corpus
    index = tmp_path / "sharded"
    args = ["index", "build", features.location, "--index", str(index), "--shards", "2"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    shards = [EmbeddedStore(index / f"shard-{i}") for i in range(2)]
    assert sum(s.stats()["images"] for s in shards) == EmbeddedStore(direct).stats()["images"]
    again = CliRunner().invoke(cli, args)
    assert again.exit_code != 0 and "already holds an index" in again.output
    empty = CliRunner().invoke(cli, ["index", "build", str(tmp_path / "none"), "--index", "x"])
    assert empty.exit_code != 0 and "no feature shards" in empty.output
