"""No outbound connection nobody asked for: ingest and serve, with models, stay on the machine.

Every proxy variable points at a loopback listener, and HOME is a fresh folder.
The listener catches any HTTP client that honours the proxy variables. onnxruntime's
telemetry (1.32) does not: it resolves its Microsoft events host directly (seen
with strace), so its footprint is what gives it away here: the device id it writes
under ~/.cache/Microsoft from `import onnxruntime` on, unless ORT_DISABLE_TELEMETRY
was set first (models/runtime.py). Without that, this test finds the folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pixsearch.models.analyzer import AnalyzerUnavailable, load_analyzer
from pixsearch.models.cache import cache_dir
from pixsearch.models.runtime import TELEMETRY_SWITCH
from tests.conftest import start_server, stop_server
from tests.reliability.conftest import Canary, picture

ANALYZERS = "nudenet,visual"  # the default analyzers: both run onnxruntime


@pytest.fixture
def models_or_skip() -> None:
    for name in ANALYZERS.split(","):
        try:
            load_analyzer(name)
        except AnalyzerUnavailable as exc:
            pytest.skip(f"model {name} not installed: {exc}")


def offline_environment(home: Path, proxy: str) -> dict[str, str]:
    """A fresh HOME, every proxy variable at `proxy`, models named, built graphs reused."""
    proxies = {name: proxy for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")}
    proxies |= {name.lower(): value for name, value in proxies.items()}
    return {
        **proxies,
        "NO_PROXY": "",
        "no_proxy": "",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PIXSEARCH_MODEL_CACHE": str(cache_dir()),  # else the visual graph is rebuilt (slow)
        "PIXSEARCH_ANALYZERS": ANALYZERS,
        "PIXSEARCH_SEMANTIC": "1",  # the text embedder is an onnxruntime session too
    }


def test_ingest_and_serve_connect_nowhere(
    tmp_path: Path, canary: Canary, models_or_skip: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This process set the switch when it imported pixsearch; the commands must set it
    # themselves, so they must not inherit it.
    monkeypatch.delenv(TELEMETRY_SWITCH, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    env = offline_environment(home, f"http://127.0.0.1:{canary.port}")
    folder = tmp_path / "pictures"
    folder.mkdir()
    for i in range(2):
        (folder / f"picture-{i}.jpg").write_bytes(picture(200 + i))
    index_dir = tmp_path / "index"

    ingest = [sys.executable, "-m", "pixsearch.cli.main", "ingest", str(folder)]
    ingest += ["--index", str(index_dir), "--analyzers", ANALYZERS, "--workers", "2"]
    done = subprocess.run(
        ingest, env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]

    process, base = start_server(index_dir, extra=("--no-auth",), env=env)
    try:
        search = httpx.get(base + "/v7.0/images/search", params={"q": "picture"}, timeout=30)
        assert search.status_code == 200, search.text[:500]
        upload = httpx.post(
            base + "/v7.0/images/visualsearch",
            files={"image": ("a.jpg", picture(300), "image/jpeg")},
            timeout=30,
        )
        assert upload.status_code == 200, upload.text[:500]
    finally:
        stop_server(process)

    assert canary.count == 0, canary.connections[:3]
    telemetry = home / ".cache" / "Microsoft"
    assert not telemetry.exists(), sorted(p.name for p in telemetry.rglob("*"))
