"""`pixsearch crawl --features`: a crawl's commits kept as feature shards that rebuild its index."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from tests.crawl.conftest import Site, jpeg, serve
from tests.index.features.helpers import all_documents, page_counts, partition

from pixsearch.cli.main import cli
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.features.folder import FeatureFolder


def same_index(built: Path, crawled: Path) -> None:
    """Same images with the same places, the same groups, the same page counts."""
    got, expected = EmbeddedStore(built), EmbeddedStore(crawled)
    try:
        places = {k: v[1] for k, v in all_documents(got).items()}
        assert places and places == {k: v[1] for k, v in all_documents(expected).items()}
        assert partition(got) == partition(expected)
        assert page_counts(got) == page_counts(expected)
    finally:
        got.close()
        expected.close()


def images(index: Path) -> int:
    store = EmbeddedStore(index)
    try:
        return int(store.stats()["images"])
    finally:
        store.close()


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_crawl_features_rebuild_the_index_and_a_failed_write_commits_nothing(
    tmp_path: Path,
) -> None:
    owl = jpeg(1)
    with contextmanager(serve)(Site()) as site:
        site.page("/", '<a href="/p2">on</a><img src="/a.jpg" alt="an owl"><img src="/b.jpg">')
        site.page("/p2", '<img src="/a.jpg" alt="owl again"><img src="/broken.jpg" alt="x">')
        site.image("/a.jpg", owl)
        site.image("/b.jpg", jpeg(2))
        site.image("/broken.jpg", b"\xff\xd8\xffbroken")
        common = ["crawl", f"{site.base}/", "--allow-private", "--delay", "0", "--quiet"]
        common += ["--analyzers", ""]
        features = tmp_path / "features"
        first = run(*common, "--index", str(tmp_path / "crawled"), "--features", str(features))
        assert first.exit_code == 0, first.output
        names = FeatureFolder(str(features)).names()
        assert names and all(name.startswith("crawl-000001-") for name in names)
        rejected = FeatureFolder(str(features)).rejections(names[0])
        assert [r.reason for r in rejected] == ["corrupt"]

        # A resumed crawl with nothing left to fetch writes no shard.
        again = run(*common, "--index", str(tmp_path / "crawled"), "--features", str(features))
        assert again.exit_code == 0, again.output
        assert FeatureFolder(str(features)).names() == names

        # The owl's thumbnail cannot be stored: the crawl stops, the index commits nothing.
        broken = tmp_path / "broken"
        sha = hashlib.sha256(owl).hexdigest()
        (broken / "thumbs").mkdir(parents=True)
        (broken / "thumbs" / sha[:2]).write_bytes(b"not a folder")
        index = tmp_path / "second"
        failed = CliRunner().invoke(
            cli, [*common, "--index", str(index), "--features", str(broken)]
        )
        assert failed.exit_code == 1 and "not written" in failed.output, failed.output
        assert images(index) == 0 and FeatureFolder(str(broken)).names() == []
        (broken / "thumbs" / sha[:2]).unlink()
        resumed = run(*common, "--index", str(index), "--features", str(broken))
        assert resumed.exit_code == 0, resumed.output
        assert images(index) == 2

    built = run("index", "build", str(features), "--index", str(tmp_path / "built"))
    assert built.exit_code == 0, built.output
    same_index(tmp_path / "built", tmp_path / "crawled")
    rebuilt = run("index", "build", str(broken), "--index", str(tmp_path / "rebuilt"))
    assert rebuilt.exit_code == 0, rebuilt.output
    same_index(tmp_path / "rebuilt", tmp_path / "crawled")
