"""A server started by the test fixtures ends when the test process ends, however it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A test run that dies outright: it starts a server as the fixtures do, and exits
# without stopping it.
CRASHING_RUN = """
import os, sys
from pathlib import Path
from tests.conftest import start_server
process, base = start_server(Path(sys.argv[1]))
print(process.pid, flush=True)
os._exit(1)
"""


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # exited and not yet reaped counts as gone


def test_a_test_server_ends_with_the_run_that_started_it(corpus: tuple[Path, Path]) -> None:
    _, index_dir = corpus
    run = subprocess.run(
        [sys.executable, "-c", CRASHING_RUN, str(index_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1, run.stderr
    server = int(run.stdout.split()[0])  # it answered /healthz before the run died
    try:
        deadline = time.monotonic() + 15
        while running(server) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not running(server)
    finally:
        if running(server):
            os.kill(server, signal.SIGKILL)
