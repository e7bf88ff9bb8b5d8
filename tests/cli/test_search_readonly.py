"""`pixsearch search` reads the index and writes nothing into its directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image


def pixsearch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pixsearch", *args], capture_output=True, text=True, timeout=120
    )


def listing(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under `root` with its size and modification time (ns)."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
    }


def test_search_writes_nothing_into_the_index(tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    Image.new("RGB", (300, 200), (200, 20, 20)).save(folder / "red-barn.png")
    Image.new("RGB", (200, 300), (20, 20, 200)).save(folder / "blue-barn.png")
    index = tmp_path / "index"
    assert pixsearch("ingest", str(folder), "--index", str(index)).returncode == 0
    before = listing(index)
    found = pixsearch("search", "barn", "--index", str(index), "--json")
    assert found.returncode == 0, found.stderr
    answer = json.loads(found.stdout)
    assert len(answer["value"]) == 2
    assert all(image["imageInsightsToken"].startswith("ccid_") for image in answer["value"])
    table = pixsearch("search", "barn", "--index", str(index), "-p", "aspect=Wide")
    assert table.returncode == 0 and "red barn" in table.stdout
    assert listing(index) == before
    assert not {"secret.key", "service.db", "uploads"} & set(before)
