"""`pixsearch serve --backend ray --shards ...` as a user starts it: a real process, a local Ray.

The command starts its own Ray, deploys the shards and the API ingress, answers
a keyed search over HTTP like the single index does, and on SIGTERM takes its
Ray down with it: no process it started (Ray's GCS, raylet, workers, the Serve
proxy) is left behind. Its processes are found by a marker in their environment,
which every process Ray starts inherits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("ray.serve")

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.sharded.split import split_store
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import Server, free_port

MARKER = "PIXSEARCH_TEST_RUN"
START_SECONDS = 120  # a local Ray and four deployments on a busy 2-core machine
QUERY = "red circle"


def marked(marker: str) -> list[int]:
    """Pids of the live processes whose environment carries `marker`."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def groups(index_dir: Path, answer: dict[str, Any]) -> list[int]:
    """The near-duplicate group, in the single index, of each image of an answer."""
    whole = EmbeddedStore(index_dir)
    try:
        docs = [whole.get_by_image_id(v["imageId"]) for v in answer["value"]]
    finally:
        whole.close()
    return sorted(doc.group_id for doc in docs if doc is not None)


def wait_ready(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            ready = httpx.get(base + "/readyz", timeout=2)
            if ready.status_code == 200 and ready.json()["status"] == "ok":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"serve --backend ray did not become ready in {START_SECONDS} s")


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc")
def test_serve_backend_ray_answers_and_leaves_nothing_behind(
    server: Server, tmp_path: Path
) -> None:
    whole = EmbeddedStore(server.index_dir)  # read-only: the session's server holds it
    shards = [tmp_path / f"shard-{i}" for i in range(2)]
    targets = [EmbeddedStore(folder, writable=True) for folder in shards]
    split_store(whole, targets)
    for store in (*targets, whole):
        store.close()
    service = tmp_path / "service"
    key = SqliteKeyStore(ServiceDb(service / "service.db")).create("tests")
    marker = uuid.uuid4().hex
    port = free_port()
    command = [sys.executable, "-m", "pixsearch.cli.main", "serve", "--backend", "ray"]
    command += ["--index", str(service), "--shards", ",".join(str(s) for s in shards)]
    command += ["--port", str(port), "--host", "127.0.0.1"]
    env = {
        **os.environ,
        MARKER: marker,
        "PIXSEARCH_RAY_REPLICA_CPUS": "0.25",
        "PIXSEARCH_ANALYZERS": "",
        "PIXSEARCH_SEMANTIC": "0",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(process, base, log)
        headers = {"Ocp-Apim-Subscription-Key": key}
        params = {"q": QUERY, "count": 50}
        got = httpx.get(base + "/v7.0/images/search", params=params, headers=headers, timeout=30)
        one = httpx.get(
            server.base + "/v7.0/images/search",
            params=params,
            headers={"Ocp-Apim-Subscription-Key": server.key},
            timeout=30,
        )
        assert got.status_code == 200, got.text
        many, single = got.json(), one.json()
        assert many["totalEstimatedMatches"] == single["totalEstimatedMatches"] > 0
        # The same pictures, up to which member of a near-duplicate group heads it.
        assert groups(server.index_dir, many) == groups(server.index_dir, single)
        assert len(marked(marker)) > 1  # Ray's own processes run beside the command
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0, log.read_text()
    deadline = time.monotonic() + 20  # Ray's workers notice their raylet is gone
    while (left := marked(marker)) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in left:  # never leak them into the rest of the run, but fail
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left behind: {left}"
