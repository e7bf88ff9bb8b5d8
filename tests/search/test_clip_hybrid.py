"""Text-to-image search with user-supplied CLIP weights, end to end on a tiny CLIP pair.

The tiny towers (tests/models/tiny_clip.py) put a red picture and the word
"tomato" on the same axis, and no text of the pictures says "tomato": only the
CLIP path can connect them. With ``PIXSEARCH_CLIP_MODEL_DIR`` unset nothing of
this happens.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from rich.console import Console

from pixsearch.cli.options import resolve_analyzers
from pixsearch.index.derived import DerivedVectors, folder_of
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.memory import MemoryStore
from pixsearch.models.clip_onnx import MIN_SIMILARITY, ClipOnnx
from pixsearch.search.clip import open_clip_matcher
from pixsearch.search.semantic import CompositeMatcher, combine_matchers
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import start_server, stop_server
from tests.models.tiny_clip import write_tiny_clip

COLOURS = {"crate": (215, 35, 30), "meadowpic": (35, 200, 45), "harbourpic": (30, 45, 210)}


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_clip(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three pictures, mostly one colour each, named with words unrelated to it."""
    folder = tmp_path_factory.mktemp("pictures")
    for i, (stem, colour) in enumerate(COLOURS.items()):
        image = Image.new("RGB", (160, 120), colour)
        image.paste((128, 128, 128), (10 + 40 * i, 15, 50 + 40 * i, 55))  # own structure
        image.save(folder / f"{stem}.png")
    return folder


def ingest(folder: Path, index: Path, env: dict[str, str], *extra: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pixsearch", "ingest", str(folder), "--index", str(index), *extra],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr


def search(base: str, key: str, query: str) -> list[str]:
    answer = httpx.get(
        base + "/v7.0/images/search",
        params={"q": query},
        headers={"Ocp-Apim-Subscription-Key": key},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return [image["name"] for image in answer.json()["value"]]


def test_clip_ingest_and_search(clip_dir: Path, pictures: Path, tmp_path: Path) -> None:
    env = {"PIXSEARCH_CLIP_MODEL_DIR": str(clip_dir)}
    index = tmp_path / "index"
    ingest(pictures, index, env)  # PIXSEARCH_ANALYZERS is "" here: clip comes from the folder

    # clipvectors/ holds the image model's output for each picture (int8 in the file).
    assert list(folder_of(index, "clip").glob("*.usearch")), "ingest wrote no CLIP vectors"
    stored = DerivedVectors(folder_of(index, "clip"))
    store = EmbeddedStore(index)
    docs = store.get(store.changed_since(-1))
    assert len(docs) == len(COLOURS) == len(stored)
    clip = ClipOnnx(clip_dir)
    for doc in docs:
        with Image.open(doc.occurrences[0].local_path) as image:
            expected = clip.embed_images([image.convert("RGB")])[0]
        got = stored.store.vectors([doc.doc_id])[doc.doc_id]
        assert np.allclose(got, expected, atol=0.02), (doc.occurrences[0].local_path, got)

    key = SqliteKeyStore(ServiceDb(index / "service.db")).create("tests")
    # Sentence embeddings on as well: the two matchers are combined (no text vectors here).
    process, base = start_server(index, env={**env, "PIXSEARCH_SEMANTIC": "1"})
    try:
        found = search(base, key, "tomato")
        assert found and "crate" in found[0].lower(), found
        assert not any("harbour" in name.lower() for name in found), found  # under the floor
        found = search(base, key, "ocean")
        assert found and "harbour" in found[0].lower(), found
        assert "meadow" in search(base, key, "meadowpic")[0].lower()  # BM25 as before
    finally:
        stop_server(process)

    # The same index served without clip_model_dir: no CLIP path, "tomato" finds nothing.
    process, base = start_server(index, env={"PIXSEARCH_CLIP_MODEL_DIR": ""})
    try:
        assert search(base, key, "tomato") == []
        assert "meadow" in search(base, key, "meadowpic")[0].lower()
    finally:
        stop_server(process)


def test_without_clip_dir_nothing_changes(pictures: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    ingest(pictures, index, {"PIXSEARCH_CLIP_MODEL_DIR": ""})
    assert not folder_of(index, "clip").exists()
    assert open_clip_matcher(MemoryStore(), "") is None


def test_analyzers_resolved(clip_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    console = Console(stderr=True)
    monkeypatch.setenv("PIXSEARCH_ANALYZERS", "")
    monkeypatch.setenv("PIXSEARCH_CLIP_MODEL_DIR", str(clip_dir))
    assert resolve_analyzers(None, False, console).used == ("clip",)
    assert resolve_analyzers("", False, console).used == ()  # the flag wins
    assert resolve_analyzers(None, True, console).used == ()  # --no-neural
    monkeypatch.setenv("PIXSEARCH_CLIP_MODEL_DIR", "")
    assert resolve_analyzers(None, False, console).used == ()


def test_floor_from_clip_json(tmp_path: Path) -> None:
    default = write_tiny_clip(tmp_path / "default")
    matcher = open_clip_matcher(MemoryStore(), default)
    assert matcher is not None and matcher.min_similarity == MIN_SIMILARITY
    strict = write_tiny_clip(tmp_path / "strict", min_similarity=0.9)
    matcher = open_clip_matcher(MemoryStore(), strict)
    assert matcher is not None and matcher.min_similarity == 0.9


class Fixed:
    def __init__(self, found: list[tuple[int, float]]) -> None:
        self.found = found

    def candidates(self, words: list[str]) -> list[tuple[int, float]]:
        return self.found


def test_composite_merges_by_rank() -> None:
    minilm = Fixed([(1, 0.9), (2, 0.8), (3, 0.5)])
    clip = Fixed([(3, 0.3), (4, 0.25)])
    merged = CompositeMatcher([minilm, clip]).candidates(["x"])
    # 3, found by both, first (its higher similarity kept); then by rank, ties by doc_id.
    assert merged[0] == (3, 0.5)
    assert [d for d, _ in merged] == [3, 1, 2, 4]
    assert combine_matchers(None, clip) is clip
    assert combine_matchers(None, None) is None
