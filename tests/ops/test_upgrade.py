"""Upgrades: an index an older pixsearch wrote opens, answers, and takes new images.

docs/operations.md ("Upgrades") makes these claims. The old index is made here
the way version 1 left it: a Tantivy index created with the version-1 schema
(no stemmed fields, no site field), and a SQLite database without the records
table and without the columns of the image facts added since the foundation.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import tantivy

from pixsearch.demo.samples import BACKGROUNDS, COLOURS, draw_shape
from pixsearch.index.factrows import FACT_FIELDS
from pixsearch.index.schema import build_schema, index_version
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import ingest_folder, start_server, stop_server

# ImageFacts of the foundation commit (2f60c58), whose index was schema version 1.
VERSION_1_FACTS = (
    "sha256",
    "width",
    "height",
    "content_size",
    "encoding_format",
    "frame_count",
    "animated",
    "transparent",
    "accent_color",
    "color_name",
    "monochrome",
    "phash",
    "image_types",
    "captured_at",
    "thumb_width",
    "thumb_height",
)


def draw(folder: Path, pictures: list[tuple[str, str]]) -> None:
    folder.mkdir()
    for colour, shape in pictures:
        path = folder / f"{colour}-{shape}-on-white.png"
        draw_shape(shape, COLOURS[colour], BACKGROUNDS["white"]).save(path)


def build_version_1_index(pictures: Path, index: Path) -> None:
    (index / "text").mkdir(parents=True)
    tantivy.Index(build_schema(1), path=str(index / "text"))  # as version 1 created it
    ingest_folder(pictures, index)
    with sqlite3.connect(index / "meta.db") as db:
        db.execute("DROP TABLE records")
        for name in FACT_FIELDS:
            if name not in VERSION_1_FACTS:
                db.execute(f"ALTER TABLE images DROP COLUMN {name}")


def columns(index: Path) -> set[str]:
    with sqlite3.connect(index / "meta.db") as db:
        return {row[1] for row in db.execute("PRAGMA table_info(images)")}


def tables(index: Path) -> set[str]:
    with sqlite3.connect(index / "meta.db") as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def names(client: httpx.Client, base: str, q: str) -> list[str]:
    answer = client.get(f"{base}/v7.0/images/search", params={"q": q, "count": 20})
    assert answer.status_code == 200, answer.text
    return [value["name"] for value in answer.json()["value"]]


def test_a_version_1_index_opens_answers_and_takes_new_images(tmp_path: Path) -> None:
    old, new, index = tmp_path / "old", tmp_path / "new", tmp_path / "index"
    draw(old, [("red", "circle"), ("red", "square"), ("green", "triangle")])
    draw(new, [("blue", "star"), ("red", "star")])
    build_version_1_index(old, index)
    assert index_version(index / "text") == 1
    assert "records" not in tables(index) and "tags" not in columns(index)

    key = SqliteKeyStore(ServiceDb(index / "service.db")).create("ops")
    server, base = start_server(index)
    try:
        with httpx.Client(headers={"Ocp-Apim-Subscription-Key": key}, timeout=30) as client:
            assert len(names(client, base, "red")) == 2
            command = ["ingest", str(new), "--index", str(index)]
            ingest = subprocess.run(
                [sys.executable, "-m", "pixsearch.cli.main", *command],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert ingest.returncode == 0, ingest.stderr
            deadline = time.monotonic() + 10  # the server looks for commits every 0.1 s here
            while len(found := names(client, base, "star")) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(found) == 2, found
            assert len(names(client, base, "red")) == 3
    finally:
        stop_server(server)
    # Still version 1 (the new images were analysed the old way), now with the new tables.
    assert index_version(index / "text") == 1
    assert "records" in tables(index) and set(FACT_FIELDS) <= columns(index)
