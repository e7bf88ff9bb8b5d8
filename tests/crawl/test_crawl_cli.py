"""The three commands through click: import-urls, import-warc, crawl errors."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from click.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pixsearch.cli.main import cli
from pixsearch.index.embedded import EmbeddedStore


def _images(index_dir: Path) -> int:
    store = EmbeddedStore(index_dir)
    try:
        return store.stats()["images"]
    finally:
        store.close()


def test_import_urls_command(site, tools, tmp_path: Path) -> None:
    site.image("/a.jpg", tools.jpeg(1))
    site.image("/b.jpg", tools.jpeg(2))
    listing = tmp_path / "urls.jsonl"
    listing.write_text(
        f'{{"url": "{site.base}/a.jpg", "caption": "a"}}\n{{"url": "{site.base}/b.jpg"}}\n'
        '{"url": "not a url"}\n'
    )
    index_dir = tmp_path / "index"
    args = ["import-urls", str(listing), "--index", str(index_dir), "--quiet", "--delay", "0"]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 0 and _images(index_dir) == 0  # loopback refused by default
    assert "unsafe-destination" in refused.output
    other = tmp_path / "other"  # failures are final in crawl.db: a fresh index to try again
    args[3] = str(other)
    result = CliRunner().invoke(cli, [*args, "--allow-private"])
    assert result.exit_code == 0, result.output
    assert _images(other) == 2


def test_import_warc_command(tools, tmp_path: Path) -> None:
    path = tmp_path / "a.warc"
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=False)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
        record = writer.create_warc_record(
            "http://ex.com/x.jpg", "response", payload=BytesIO(tools.jpeg(3)), http_headers=headers
        )
        writer.write_record(record)
    result = CliRunner().invoke(cli, ["import-warc", str(path), "--index", str(tmp_path / "i")])
    assert result.exit_code == 0, result.output
    assert _images(tmp_path / "i") == 1


def test_crawl_rejects_bad_seed_and_regex(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["crawl", "ftp://x", "--index", str(tmp_path)]).exit_code == 2
    bad = runner.invoke(cli, ["crawl", "http://x/", "--exclude", "(", "--index", str(tmp_path)])
    assert bad.exit_code == 2
