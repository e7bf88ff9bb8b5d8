"""Distributors: input shards → feature shards → index, locally and on a real local Ray."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from tests.conftest import ingest_folder
from tests.crawl.conftest import Site, html, jpeg, serve
from tests.index.features.helpers import (
    all_documents,
    image_files,
    page_counts,
    partition,
    write_corpus,
)
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pixsearch.cli.main import cli
from pixsearch.crawl.warc_shards import warc_shards
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.features.folder import FeatureFolder
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.distributors import (
    DistributorUnavailable,
    LocalDistributor,
    open_distributor,
    split_paths,
)
from pixsearch.records import Rejection


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


def write_warc(path: Path, records: list[tuple[str, str, bytes]]) -> None:
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for url, kind, body in records:
            headers = StatusAndHeaders("200 OK", [("Content-Type", kind)], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url, "response", payload=BytesIO(body), http_headers=headers
            )
            writer.write_record(record)


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three archives; pages in one show images stored in another."""
    root = tmp_path_factory.mktemp("warcs")
    birds = html('<img src="/img/owl.jpg" alt="snowy owl"><img src="/img/fox.jpg" alt="red fox">')
    more = html('<img src="/img/owl.jpg" alt="owl again">', "<title>More</title>")
    contents = [
        [
            ("http://ex.com/birds", "text/html", birds),
            ("http://ex.com/img/owl.jpg", "image/jpeg", jpeg(1)),
            ("http://ex.com/img/bad.jpg", "image/jpeg", b"\xff\xd8\xffbroken"),
        ],
        [
            ("http://ex.com/img/fox.jpg", "image/jpeg", jpeg(2)),  # shown in the first archive
            ("http://ex.com/more", "text/html", more),
        ],
        [
            ("http://other.org/cat.jpg", "image/jpeg", jpeg(3)),  # on no page
            ("http://other.org/owl-copy.jpg", "image/jpeg", jpeg(1)),  # the owl's bytes again
        ],
    ]
    paths = [root / f"part-{i}.warc.gz" for i in range(len(contents))]
    for path, records in zip(paths, contents, strict=True):
        write_warc(path, records)
    return paths


def import_warc(*args: str) -> Any:
    return CliRunner().invoke(cli, ["import-warc", *args], catch_exceptions=False)


def test_an_archive_job_gives_its_images_every_page_of_every_archive(
    archives: list[Path],
) -> None:
    shards, job, stats = warc_shards(archives)
    assert [len(s.paths) for s in shards] == [1, 1, 1] and stats.pages == 2
    fox = job(shards[1], PipelineConfig(analyzers=()))
    assert [o.occurrence.text["caption"] for o in fox if not isinstance(o, Rejection)] == [
        "red fox"
    ]
    owl = job(shards[0], PipelineConfig(analyzers=()))
    captions = sorted(o.occurrence.text["caption"] for o in owl if not isinstance(o, Rejection))
    assert captions == ["owl again", "snowy owl"]
    assert [o.reason for o in owl if isinstance(o, Rejection)] == ["corrupt"]


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


def test_ray_import_warc_equals_local(
    archives: list[Path], tmp_path: Path, ray_cluster: None
) -> None:
    files = [str(p) for p in archives]
    local = import_warc(*files, "--index", str(tmp_path / "local"), "--analyzers", "")
    assert local.exit_code == 0, local.output
    ray = import_warc(
        *files, "--index", str(tmp_path / "ray"), "--analyzers", "", "--distributor", "ray"
    )
    assert ray.exit_code == 0, ray.output
    same_index(tmp_path / "ray", tmp_path / "local")
    # Three images (the owl stored twice is one image with two places) and the broken one.
    assert EmbeddedStore(tmp_path / "ray").stats()["images"] == 3
    for output in (local.output, ray.output):
        assert "failed: corrupt" in output and "new places of indexed images" in output
    assert not list(tmp_path.glob(".ray.features-*"))  # the temporary features are gone


def test_ray_import_urls_equals_local(tmp_path: Path, ray_cluster: None) -> None:
    with contextmanager(serve)(Site()) as site:
        site.image("/a.jpg", jpeg(1))
        site.image("/b.jpg", jpeg(2))
        site.image("/c.png", jpeg(3), "image/png")  # a mislabelled type: sniffed
        site.page("/page.html", "<p>not a picture</p>")
        rows = [
            ("a.jpg", "https://blog.example/one", "an owl"),
            ("b.jpg", "", "a fox"),
            ("a.jpg", "https://blog.example/two", "the owl again"),  # a second place
            ("missing.jpg", "", ""),
            ("page.html", "", ""),
            ("c.png", "", "a cat"),
        ]
        listing = tmp_path / "urls.csv"
        lines = [f"{site.base}/{path},{page},{caption}" for path, page, caption in rows]
        listing.write_text("\n".join(["url,page_url,caption", *lines, "not a url,,"]) + "\n")
        common = ["import-urls", str(listing), "--allow-private", "--delay", "0", "--quiet"]
        common += ["--analyzers", ""]
        local = CliRunner().invoke(cli, [*common, "--index", str(tmp_path / "local")])
        assert local.exit_code == 0, local.output
        ray = CliRunner().invoke(
            cli,
            [
                *common,
                "--index",
                str(tmp_path / "ray"),
                "--distributor",
                "ray",
                "--shard-urls",
                "2",
            ],
        )
        assert ray.exit_code == 0, ray.output
    same_index(tmp_path / "ray", tmp_path / "local")
    assert EmbeddedStore(tmp_path / "ray").stats()["images"] == 3
    for output in (local.output, ray.output):
        assert "image:http-404" in output and "image:wrong-content-type" in output
        assert "1 rows without a usable url skipped" in output


def test_ray_crawl_equals_local(tmp_path: Path, ray_cluster: None) -> None:
    """The frontier and the pages stay in the command; Ray actors fetch and process the images."""
    with contextmanager(serve)(Site()) as site:
        site.page("/", '<a href="/p2">on</a><img src="/a.jpg" alt="an owl"><img src="/b.jpg">')
        site.page("/p2", '<img src="/a.jpg" alt="owl again"><img src="/broken.jpg" alt="x">')
        site.image("/a.jpg", jpeg(1))
        site.image("/b.jpg", jpeg(2))
        site.image("/broken.jpg", b"\xff\xd8\xffbroken")
        common = ["crawl", f"{site.base}/", "--allow-private", "--delay", "0", "--quiet"]
        common += ["--analyzers", ""]
        local = CliRunner().invoke(cli, [*common, "--index", str(tmp_path / "local")])
        assert local.exit_code == 0, local.output
        distributed = [*common, "--index", str(tmp_path / "ray"), "--distributor", "ray"]
        distributed += ["--workers", "1"]  # one actor takes every image
        ray = CliRunner().invoke(cli, distributed)
        assert ray.exit_code == 0, ray.output
    same_index(tmp_path / "ray", tmp_path / "local")
    assert EmbeddedStore(tmp_path / "ray").stats()["images"] == 2
    for output in (local.output, ray.output):
        assert "image:corrupt" in output


def test_import_warc_keeps_feature_shards_that_build_the_same_index(
    archives: list[Path], tmp_path: Path
) -> None:
    files = [str(p) for p in archives]
    direct = import_warc(*files, "--index", str(tmp_path / "direct"), "--analyzers", "")
    assert direct.exit_code == 0, direct.output
    features = tmp_path / "features"
    common = [*files, "--analyzers", "", "--features", str(features)]
    kept = import_warc(*common, "--index", str(tmp_path / "kept"))
    assert kept.exit_code == 0, kept.output
    same_index(tmp_path / "kept", tmp_path / "direct")
    assert sorted(FeatureFolder(str(features)).names()) == sorted(
        s.name for s in warc_shards(archives)[0]
    )
    written = {p: p.stat().st_mtime_ns for p in features.rglob("*") if p.is_file()}
    # A rerun processes no archive again: every shard is there, and nothing is new.
    again = import_warc(*common, "--index", str(tmp_path / "kept"))
    assert again.exit_code == 0, again.output
    assert {p: p.stat().st_mtime_ns for p in features.rglob("*") if p.is_file()} == written
    assert re.search(r"indexed \(new images\) +│ 0 ", again.output), again.output
    assert EmbeddedStore(tmp_path / "kept").stats()["images"] == 3
    built = CliRunner().invoke(
        cli, ["index", "build", str(features), "--index", str(tmp_path / "built")]
    )
    assert built.exit_code == 0, built.output
    same_index(tmp_path / "built", tmp_path / "direct")
