"""`pixsearch demo`: a website of packaged pictures, crawled for real, then searched over HTTP.

The crawl runs without image analyzers (tests/conftest.py switches them off); what
is checked is what the website gives the index: licences, several pages and
several sizes of one picture, and the words of its caption.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from pixsearch.cli import demo as demo_cli
from pixsearch.cli.main import cli
from pixsearch.demo.pictures import catalogue, choose
from pixsearch.index.embedded import EmbeddedStore
from tests.conftest import free_port, start_server, stop_server
from tests.debian import apt_install

PICTURES = 40


def _key(output: str) -> str:
    return next(line.split()[-1] for line in output.splitlines() if line.startswith("API key:"))


def _search(client: httpx.Client, base: str, **params: str | int) -> list[dict]:
    answer = client.get(f"{base}/v7.0/images/search", params={"count": 50, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()["value"]


@pytest.fixture(scope="module")
def site_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(index dir, demo key) of a demo run over 40 pictures, openclipart's among them."""
    reason = apt_install("openclipart-png")  # public-domain drawings: licences to find
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("demo")
    args = ["demo", "--dir", str(root), "--pictures", str(PICTURES), "--no-serve", "--no-install"]
    result = CliRunner().invoke(cli, [*args, "--port", str(free_port())])
    assert result.exit_code == 0, result.output
    return root / "site" / "index", _key(result.output)


def test_demo_site_crawl_gives_licences_pages_sizes_and_caption_words(
    site_index: tuple[Path, str],
) -> None:
    index_dir, key = site_index
    chosen = choose(catalogue(), PICTURES)
    store = EmbeddedStore(index_dir)
    try:
        assert store.stats()["images"] >= PICTURES  # every picture, some in several sizes
    finally:
        store.close()
    drawing = next(p for p in chosen if p.package == "openclipart-png")
    server, base = start_server(index_dir)
    try:
        with httpx.Client(headers={"Ocp-Apim-Subscription-Key": key}, timeout=30) as client:
            public = _search(client, base, q=drawing.title, license="Public")
            mine = [v for v in public if drawing.slug in v["contentUrl"]]
            assert mine, f"{drawing.title!r} not found among {[v['name'] for v in public]}"
            # Its own page, its section's listing, the "more" strips of its neighbours.
            assert mine[0]["insightsMetadata"]["pagesIncludingCount"] > 1
            photo = next(p for p in chosen if p.photo)  # scikit-image's, at least
            shown = [
                v for v in _search(client, base, q=photo.title) if photo.slug in v["contentUrl"]
            ]
            assert shown, f"{photo.title!r} not found"
            assert shown[0]["insightsMetadata"]["availableSizesCount"] > 1
            word = max(drawing.caption.split(), key=len)  # a word of its caption
            found = _search(client, base, q=word)
            assert any(drawing.slug in v["contentUrl"] for v in found), word
    finally:
        stop_server(server)


def test_demo_falls_back_to_the_samples_without_packaged_pictures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_cli, "catalogue", lambda: [])
    args = ["demo", "--dir", str(tmp_path), "--no-serve", "--no-install"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # rich wraps its lines
    assert "indexing the generated samples instead" in said
    assert "API key: psk_" in result.output
    store = EmbeddedStore(tmp_path / "index")
    try:
        assert store.stats()["images"] > 40
    finally:
        store.close()
