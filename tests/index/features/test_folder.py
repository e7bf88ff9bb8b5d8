"""Feature folders: atomic, idempotent shards and content-addressed thumbnails, anywhere."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pytest

from pixsearch.index.features.folder import FeatureFolder
from pixsearch.index.features.schema import FeatureRecord
from pixsearch.records import Rejection
from tests.index.features.helpers import thumbnail_jpeg
from tests.index.helpers import make_doc


def records(start: int, count: int) -> list[FeatureRecord]:
    return [
        FeatureRecord(make_doc(n, f"word{n}").facts, make_doc(n, f"word{n}").occurrences)
        for n in range(start, start + count)
    ]


def check_round_trip(folder: FeatureFolder) -> None:
    first, second = records(0, 3), records(3, 2)
    refused = [Rejection("/pics/bad.jpg", "corrupt", "truncated")]
    thumbs = [(r.facts.sha256, thumbnail_jpeg(i)) for i, r in enumerate(first)]
    folder.write_shard("000001-b", second)
    folder.write_shard("000000-a", first, thumbs, refused)
    assert folder.names() == ["000000-a", "000001-b"]
    assert folder.read_shard("000000-a") == first
    assert list(folder.records()) == first + second
    assert folder.count() == 5
    assert folder.rejections("000000-a") == refused and folder.rejections("000001-b") == []
    assert folder.thumbnails.get(first[1].facts.sha256) == thumbs[1][1]
    assert folder.thumbnails.get(second[0].facts.sha256) is None
    assert [look.sha256 for look in folder.looks()] == [r.facts.sha256 for r in first + second]


def test_local_folder_round_trip(tmp_path: Path) -> None:
    check_round_trip(FeatureFolder(tmp_path / "features"))


def test_fsspec_filesystem_round_trip() -> None:
    memory = fsspec.filesystem("memory")
    check_round_trip(FeatureFolder("/features-test", filesystem=memory))
    assert memory.exists("/features-test/shards/000000-a.parquet")
    memory.rm("/features-test", recursive=True)


def test_uri_location(tmp_path: Path) -> None:
    check_round_trip(FeatureFolder(f"file://{tmp_path}/uri"))
    assert (tmp_path / "uri" / "shards" / "000000-a.parquet").is_file()


def test_rewriting_a_shard_replaces_it_whole(tmp_path: Path) -> None:
    folder = FeatureFolder(tmp_path)
    folder.write_shard("s", records(0, 4))
    folder.write_shard("s", records(10, 1))
    assert folder.read_shard("s") == records(10, 1)
    assert [p.name for p in (tmp_path / "shards").iterdir()] == ["s.parquet"]


def test_temporary_files_are_not_shards_and_are_removed(tmp_path: Path) -> None:
    folder = FeatureFolder(tmp_path).create()
    folder.write_shard("done", records(0, 1))
    (tmp_path / "shards" / ".tmp-half-1234.parquet").write_bytes(b"PAR1 torn")
    assert folder.names() == ["done"] and not folder.has_shard("half")
    assert folder.remove_temporary() == 1
    assert [p.name for p in (tmp_path / "shards").iterdir()] == ["done.parquet"]


def test_a_thumbnail_written_twice_is_kept_once(tmp_path: Path) -> None:
    thumbs = FeatureFolder(tmp_path).create().thumbnails
    sha = "ab" * 32
    thumbs.put(sha, b"first")
    thumbs.put(sha, b"second")  # same content address: the first stands
    assert thumbs.get(sha) == b"first"
    assert thumbs.get("../../etc/passwd") is None


def test_shard_names_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="feature shard name"):
        FeatureFolder(tmp_path).write_shard("../escape", records(0, 1))


def test_an_empty_location_has_no_shards(tmp_path: Path) -> None:
    assert FeatureFolder(tmp_path / "nothing").names() == []
