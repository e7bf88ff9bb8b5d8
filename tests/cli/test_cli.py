"""The pixsearch command as a user runs it: real processes, real files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.store import Clause, StoreQuery, TextQuery


def pixsearch(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pixsearch", *args], capture_output=True, text=True, timeout=timeout
    )


def write_hostile_folder(folder: Path) -> None:
    folder.mkdir(parents=True)
    Image.new("RGB", (300, 200), (200, 20, 20)).save(folder / "good-red-barn.jpg")
    Image.new("RGB", (300, 200), (20, 20, 200)).save(folder / "good-blue-lake.png")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "random.jpg").write_bytes(os.urandom(4000))
    (folder / "notes.png").write_text("this is not a picture")
    good = (folder / "good-red-barn.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (folder / "dangling.jpg").symlink_to(folder / "does-not-exist.jpg")
    (folder / "loop").mkdir()
    (folder / "loop" / "again").symlink_to(folder, target_is_directory=True)


def test_ingest_rejects_bad_files_with_reasons_and_keeps_going(tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    write_hostile_folder(folder)
    result = pixsearch(
        "ingest", str(folder), "--index", str(tmp_path / "idx"), "--workers", "1", "--show-rejected"
    )
    assert result.returncode == 0, result.stderr
    out = result.stderr
    assert "indexed (new images)" in out and "│ 2 " in out
    for reason in ("empty", "not-an-image", "corrupt", "unreadable", "symlink-loop"):
        assert f"rejected: {reason}" in out, reason
    again = pixsearch("ingest", str(folder), "--index", str(tmp_path / "idx"), "--workers", "1")
    assert "unchanged (seen before)" in again.stderr and "│ 2 " in again.stderr
    found = pixsearch("search", "barn", "--index", str(tmp_path / "idx"), "--json")
    assert found.returncode == 0 and '"width": 300' in found.stdout
    # The folders above the one given (pytest's temporary ones) are not the pictures' words.
    store = EmbeddedStore(tmp_path / "idx")
    docs = store.get(store.changed_since(0))
    store.close()
    words = sorted(o.text["url_words"] for doc in docs for o in doc.occurrences)
    assert words == ["pics good blue lake", "pics good red barn"]


def test_search_reports_bad_filters_clearly(tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(folder / "dark-square.png")
    assert pixsearch("ingest", str(folder), "--index", str(tmp_path / "i")).returncode == 0
    bad = pixsearch("search", "square", "--index", str(tmp_path / "i"), "-p", "size=Huge")
    assert bad.returncode != 0 and "size" in bad.stderr


def test_keys_lifecycle_never_stores_the_key(tmp_path: Path) -> None:
    index = str(tmp_path / "i")
    created = pixsearch("keys", "create", "app-one", "--index", index)
    key = created.stdout.strip()
    assert created.returncode == 0 and key.startswith("psk_") and len(key) > 40
    assert pixsearch("keys", "create", "app-one", "--index", index).returncode != 0
    listing = pixsearch("keys", "list", "--index", index).stdout
    assert "app-one" in listing and key not in listing
    assert key.encode() not in (tmp_path / "i" / "service.db").read_bytes()
    assert pixsearch("keys", "revoke", "app-one", "--index", index).returncode == 0
    assert "app-one" not in pixsearch("keys", "list", "--index", index).stdout


def test_every_command_has_help() -> None:
    commands = ("ingest", "crawl", "import-urls", "import-warc", "serve", "search", "keys")
    for command in (*commands, "custom", "demo", "settings"):
        result = pixsearch(command, "--help")
        assert result.returncode == 0 and "Usage" in result.stdout, command


def test_kill_during_ingest_keeps_a_whole_index(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(400):
        pixels = rng.integers(0, 255, size=(8, 8, 3), dtype=np.uint8)
        Image.fromarray(pixels).resize((96, 96)).save(folder / f"mosaic-{i:04d}.png")
    index = tmp_path / "idx"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pixsearch",
            "ingest",
            str(folder),
            "--index",
            str(index),
            "--workers",
            "1",
            "--commit-every",
            "50",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until at least one commit landed
        if (index / "meta.db").exists():
            store = EmbeddedStore(index)
            if store.stats()["images"] >= 50:
                break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    reader = EmbeddedStore(index)
    hits = reader.search(StoreQuery(TextQuery(required=((Clause(("mosaic",)),),)), limit=1000))
    docs = reader.get([h.doc_id for h in hits.hits])
    assert len(docs) == len(hits.hits) == hits.total == reader.stats()["images"]
    assert hits.total % 50 == 0 and hits.total >= 50  # whole commits only
    assert all(reader.thumbnail(d.facts.sha256) for d in docs)
    rerun = pixsearch("ingest", str(folder), "--index", str(index), "--workers", "1")
    assert rerun.returncode == 0, rerun.stderr
    assert EmbeddedStore(index).stats()["images"] == 400
