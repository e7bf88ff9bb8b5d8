"""The Redis rate-limit backend against a real redis-server, with two worker processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.api.test_limits import keys_of
from tests.bursts import assert_limit_held
from tests.conftest import free_port, start_server, stop_server
from tests.debian import apt_install

pytest.importorskip("redis", reason="the redis package is not installed")


def redis_binary() -> str:
    if shutil.which("redis-server") is None:
        apt_install("redis-server")
    found = shutil.which("redis-server")
    if found is None:
        pytest.skip("redis-server is not installed and apt-get could not install it")
    return found


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            redis_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.skip("redis-server did not start")
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_server(corpus: tuple[Path, Path], redis_url: str) -> Iterator[tuple[str, Path]]:
    _, index_dir = corpus
    settings = {"PIXSEARCH_RATE_LIMIT_BACKEND": "redis", "PIXSEARCH_REDIS_URL": redis_url}
    os.environ.update(settings)  # start_server hands this environment to the server
    try:
        process, base = start_server(index_dir, workers=2)
    finally:
        for name in settings:
            del os.environ[name]
    try:
        yield base, index_dir
    finally:
        stop_server(process)


def get(base: str, key: str) -> httpx.Response:
    return httpx.get(
        base + "/v7.0/images/search",
        params={"q": "circle"},
        headers={"Ocp-Apim-Subscription-Key": key},
        timeout=30,
    )


def test_redis_quota_qps_and_usage(redis_server: tuple[str, Path], redis_url: str) -> None:
    base, index_dir = redis_server
    name = f"r-{uuid.uuid4().hex[:8]}"
    key = keys_of(index_dir).create(name, monthly_quota=3)
    codes = [get(base, key).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 403, 403]
    assert get(base, key).json()["errors"][0]["code"] == "RateLimitExceeded"
    env = {**os.environ, "PIXSEARCH_RATE_LIMIT_BACKEND": "redis", "PIXSEARCH_REDIS_URL": redis_url}
    shown = subprocess.run(
        [sys.executable, "-m", "pixsearch", "keys", "usage", name, "--index", str(index_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    row = next(line for line in shown.stdout.splitlines() if today in line)
    assert [cell.strip() for cell in row.strip("│ ").split("│")] == [today, "3", "3"]


def test_redis_burst_holds_the_qps_limit(redis_server: tuple[str, Path]) -> None:
    base, index_dir = redis_server
    key = keys_of(index_dir).create(f"rb-{uuid.uuid4().hex[:8]}", qps=5)
    assert_limit_held([base], key, qps=5)
