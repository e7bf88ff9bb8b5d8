"""The opt-in "ocr" analyzer: words rendered into a picture become searchable.

Real parts only: Debian's tesseract (installed here if missing and possible), the
real `pixsearch ingest` command and a real server answering over HTTP.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pixsearch.models.analyzer import AnalyzerUnavailable, Understanding
from pixsearch.models.ocr import OcrWord, clean_text, parse_tsv
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import start_server, stop_server
from tests.debian import apt_install

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
WORDS = ("Marmalade", "Zeppelin", "Festival", "2026")


def _tesseract_or_skip() -> None:
    if shutil.which("tesseract") is None:
        apt_install("tesseract-ocr", "tesseract-ocr-eng")
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed and could not be (apt-get install tesseract-ocr)")


@pytest.fixture(scope="module")
def analyzer():
    _tesseract_or_skip()
    from pixsearch.models.ocr import OcrAnalyzer

    try:
        return OcrAnalyzer()
    except AnalyzerUnavailable as exc:
        pytest.skip(str(exc))


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    if DEJAVU.exists():
        return ImageFont.truetype(str(DEJAVU), size)
    return ImageFont.load_default(size=size)


def poster(width: int = 900, height: int = 520) -> Image.Image:
    """Dark print on a light, slightly noisy background, like a photographed sign."""
    rng = np.random.default_rng(4)
    base = rng.normal(236, 6, (height, width, 1)).repeat(3, axis=2)
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.text((40, 60), f"{WORDS[0]} {WORDS[1]}", font=_font(64), fill=(20, 20, 20))
    draw.text((40, 260), f"{WORDS[2]} {WORDS[3]} !", font=_font(64), fill=(120, 20, 20))
    return image


def test_words_of_a_rendered_picture(analyzer) -> None:
    found = Understanding()
    analyzer.analyze(poster().resize((474, 274)), found)  # the size analyzers are handed
    words = set(found.ocr_text.split())
    assert set(WORDS) <= words, found.ocr_text
    assert "!" not in found.ocr_text


def test_a_blank_picture_has_no_words(analyzer) -> None:
    found = Understanding()
    analyzer.analyze(Image.new("RGB", (474, 300), (250, 250, 250)), found)
    assert found.ocr_text == ""


def test_tsv_parsing_and_denoising() -> None:
    tsv = (
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight"
        "\tconf\ttext\n"
        "1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n"
        "5\t1\t1\t1\t1\t1\t0\t0\t10\t10\t91.5\tHello,\n"
        "5\t1\t1\t1\t1\t2\t0\t0\t10\t10\t12.0\tgarbage\n"
        "5\t1\t1\t1\t1\t3\t0\t0\t10\t10\t88\tl|\n"
        '5\t1\t1\t1\t1\t4\t0\t0\t10\t10\t77\t"world-42"\n'
    )
    words = parse_tsv(tsv)
    assert [w.text for w in words] == ["Hello,", "garbage", "l|", '"world-42"']
    assert clean_text(words) == "Hello world 42"
    assert clean_text([OcrWord("x" * 10, 99.0)] * 1000).count("x") <= 2000


def test_ocr_words_are_searchable_after_cli_ingest(analyzer, tmp_path: Path) -> None:
    folder = tmp_path / "pictures"
    folder.mkdir()
    poster().save(folder / "poster-0001.png")  # the file name shares no word with the print
    Image.new("RGB", (400, 300), (30, 90, 160)).save(folder / "plain-blue.png")
    index_dir = tmp_path / "index"
    command = [sys.executable, "-m", "pixsearch.cli.main", "ingest", str(folder)]
    command += ["--index", str(index_dir), "--workers", "1", "--analyzers", "ocr"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    key = SqliteKeyStore(ServiceDb(index_dir / "service.db")).create("ocr-test")
    process, base = start_server(index_dir)
    try:
        headers = {"Ocp-Apim-Subscription-Key": key}
        url = base + "/v7.0/images/search"
        hits = httpx.get(url, params={"q": "zeppelin"}, headers=headers, timeout=30).json()
        names = [hit["name"] for hit in hits["value"]]
        assert len(names) == 1 and "poster" in names[0].lower(), hits
        none = httpx.get(url, params={"q": "quixotic"}, headers=headers, timeout=30).json()
        assert none["value"] == []
    finally:
        stop_server(process)
