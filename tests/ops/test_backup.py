"""docs/operations.md's backup script, run as written while an ingest writes and a server serves.

The copy must open at a generation the ingest committed, with the text index and
SQLite agreeing on it, answer searches, and take the rest of the ingest when it
is rerun into it (the restore path).
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from pixsearch.config import Settings
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.search.service import SearchRequest
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from pixsearch.wiring import build_searcher
from tests.conftest import start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
PICTURES = 1000  # enough that the ingest is still running when the backup is taken
COMMIT_EVERY = 25


def backup_script() -> str:
    """The first sh block after the marker comment in docs/operations.md."""
    page = (ROOT / "docs" / "operations.md").read_text()
    marker = page.index("<!-- tests/ops/test_backup.py runs this script as written")
    match = re.search(r"```sh\n(.*?)```", page[marker:], re.DOTALL)
    assert match is not None, "the backup script's code block is missing"
    return match.group(1)


def write_mosaics(folder: Path, count: int) -> None:
    """Distinct little pictures (random 4x4 blocks), all described by the word 'mosaic'."""
    folder.mkdir()
    rng = np.random.default_rng(11)
    for i in range(count):
        blocks = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
        image = Image.fromarray(blocks).resize((48, 48), Image.Resampling.NEAREST)
        image.save(folder / f"mosaic-{i:05d}.png")


def committed(index: Path) -> int:
    try:
        with sqlite3.connect(f"file:{index / 'meta.db'}?mode=ro", uri=True) as db:
            row = db.execute("SELECT value FROM meta WHERE key='committed_gen'").fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0]) if row else 0


def images_up_to(index: Path, gen: int) -> int:
    with sqlite3.connect(f"file:{index / 'meta.db'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM images WHERE gen<=?", (gen,)).fetchone()[0])


def ingest_command(pictures: Path, index: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pixsearch.cli.main",
        "ingest",
        str(pictures),
        "--index",
        str(index),
        "--workers",
        "1",
        "--commit-every",
        str(COMMIT_EVERY),
    ]


def test_backup_taken_during_an_ingest_opens_at_a_committed_generation(tmp_path: Path) -> None:
    pictures, index, backup = tmp_path / "pictures", tmp_path / "index", tmp_path / "backup"
    write_mosaics(pictures, PICTURES)
    EmbeddedStore(index, writable=True).close()  # an empty index for the server to open
    key = SqliteKeyStore(ServiceDb(index / "service.db")).create("ops")
    server, base = start_server(index)
    ingest = subprocess.Popen(
        ingest_command(pictures, index), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while committed(index) < 2 and ingest.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ingest.poll() is None, "the ingest ended before the backup could be taken"
        script = tmp_path / "backup-index"
        script.write_text(backup_script())
        done = subprocess.run(
            ["sh", str(script), str(index), str(backup), str(ingest.pid)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        with httpx.Client(headers={"Ocp-Apim-Subscription-Key": key}, timeout=30) as client:
            answer = client.get(f"{base}/v7.0/images/search", params={"q": "mosaic"})
        assert answer.status_code == 200  # the server answered through the backup
        _, stderr = ingest.communicate(timeout=300)  # thawed: it runs to its end
        assert ingest.returncode == 0, stderr.decode()[-2000:]
    finally:
        if ingest.poll() is None:
            ingest.kill()
        stop_server(server)

    final = committed(index)
    copy = EmbeddedStore(backup)
    try:
        gen = copy.generation
        stats = copy.stats()
    finally:
        copy.close()
    assert 2 <= gen < final  # a generation the ingest committed, taken while it ran
    assert stats["images"] == images_up_to(index, gen)  # SQLite at that generation ...
    assert stats["documents"] == stats["images"]  # ... and the text index with it
    searcher = build_searcher(Settings.load(index_dir=backup))
    page = searcher.search.search(SearchRequest(q="mosaic", count=10))
    assert len(page.results) == 10
    assert not (backup / "uploads").exists() and not (backup / "vocabulary").exists()

    # Restore: the rerun ingest adds to the copy what the backup did not catch.
    rerun = subprocess.run(ingest_command(pictures, backup), capture_output=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
    assert images_up_to(backup, committed(backup)) == PICTURES
