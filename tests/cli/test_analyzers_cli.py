"""Choosing image analyzers per run: --analyzers, --no-neural, PIXSEARCH_ANALYZERS."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image
from skimage import data

from pixsearch.config import parse_names
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.records import ImageFacts


def pixsearch(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pixsearch", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )


def stored_facts(index: Path) -> list[ImageFacts]:
    store = EmbeddedStore(index)
    try:
        return [doc.facts for doc in store.get([1, 2])]
    finally:
        store.close()


def test_analyzers_flag_environment_and_no_neural(tmp_path: Path) -> None:
    pics = tmp_path / "pics"
    pics.mkdir()
    Image.fromarray(data.astronaut()).save(pics / "astronaut.png")
    named = pixsearch("ingest", str(pics), "--index", str(tmp_path / "a"), "--analyzers", "nudenet")
    assert named.returncode == 0, named.stderr
    (facts,) = stored_facts(tmp_path / "a")
    assert facts.analyzed == ("nudenet",) and facts.image_content == ("portrait",)
    assert len(facts.faces) == 1
    # The environment names the analyzers; --no-neural turns them off for one run.
    off = pixsearch(
        "ingest", str(pics), "--index", str(tmp_path / "b"), "--no-neural",
        PIXSEARCH_ANALYZERS="nudenet",
    )  # fmt: skip
    assert off.returncode == 0, off.stderr
    (facts,) = stored_facts(tmp_path / "b")
    assert facts.analyzed == () and facts.faces == ()


def test_an_analyzer_asked_for_that_cannot_load_stops_the_run(tmp_path: Path) -> None:
    pics = tmp_path / "pics"
    pics.mkdir()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(pics / "green.png")
    flag = pixsearch("ingest", str(pics), "--index", str(tmp_path / "i"), "--analyzers", "nosuch")
    assert flag.returncode != 0 and "unknown analyzer 'nosuch'" in flag.stderr
    assert "Traceback" not in flag.stderr
    env = pixsearch("ingest", str(pics), "--index", str(tmp_path / "i"), PIXSEARCH_ANALYZERS="x")
    assert env.returncode != 0 and "PIXSEARCH_ANALYZERS" in env.stderr
    assert not (tmp_path / "i").exists()  # refused before the index was opened


def test_parse_names() -> None:
    assert parse_names(" NudeNet, visual,,nudenet ") == ("nudenet", "visual")
    assert parse_names("") == ()
