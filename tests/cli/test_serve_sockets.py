"""`serve --workers 2` over real HTTP: one SO_REUSEPORT socket per worker (cli/serve_sockets.py).

Which worker answered is the pid of the request's access line (--log-format json).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pixsearch.cli import serve as serve_module
from pixsearch.cli import serve_sockets
from pixsearch.config import Settings
from tests.api.test_accesslog import LoggedServer, search, start_logged

pytestmark = pytest.mark.skipif(
    not serve_sockets.reuseport_available(),
    reason="SO_REUSEPORT balancing and /proc are Linux's; the supervisor mirrors uvicorn "
    f"{serve_sockets.SUPERVISOR_OF}x only",
)


@pytest.fixture(scope="module")
def workers2(index_dir: Path) -> Iterator[LoggedServer]:
    running = start_logged(index_dir, workers=2)
    try:
        yield running
    finally:
        running.stop()


def port_of(running: LoggedServer) -> int:
    return int(running.base.rsplit(":", 1)[1])


def listening_sockets(port: int, count: int = 2) -> set[str]:
    """The inodes of the sockets listening on 127.0.0.1:`port` (/proc/net/tcp, state 0A),
    once there are `count` (each worker listens when it has started); what there is
    after 30 s otherwise."""
    deadline = time.monotonic() + 30
    while True:
        inodes = set()
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.split(":")[1], 16) == port:
                inodes.add(inode)
        if len(inodes) >= count or time.monotonic() > deadline:
            return inodes
        time.sleep(0.1)


def answering_pids(running: LoggedServer, requests: int) -> dict[int, int]:
    """Answers per worker pid for `requests` requests, each on a fresh connection."""
    trace_ids = []
    for _ in range(requests):
        response = search(running, running.key)  # a new connection each
        assert response.status_code == 200
        trace_ids.append(response.headers["BingAPIs-TraceId"])
    counts: dict[int, int] = {}
    for trace_id in trace_ids:
        pid = running.access(trace_id)["pid"]
        counts[pid] = counts.get(pid, 0) + 1
    return counts


def test_each_worker_accepts_on_its_own_socket(workers2: LoggedServer) -> None:
    assert len(listening_sockets(port_of(workers2))) == 2
    counts = answering_pids(workers2, 60)
    # The kernel hashes each connection's ports: 60 fresh ones all on one of two
    # sockets would be a 2 × 2^-60 chance.
    assert len(counts) == 2, counts


def test_a_second_server_on_the_port_fails(workers2: LoggedServer, index_dir: Path) -> None:
    for workers in ("2", "1"):
        command = [sys.executable, "-m", "pixsearch.cli.main", "serve", "--index", str(index_dir)]
        command += ["--port", str(port_of(workers2)), "--workers", workers, "--no-auth"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert result.returncode == 3, result.stderr[-2000:]  # uvicorn's STARTUP_FAILURE
        assert "address already in use" in result.stderr.lower(), result.stderr[-2000:]
    assert answering_pids(workers2, 4)  # the first server still answers


def children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (/proc/*/stat's fourth field)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended while we looked
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def new_child(parent: int, known: set[int]) -> int:
    deadline = time.monotonic() + 30  # uvicorn notices a dead worker within 0.5 s
    while not (fresh := children(parent) - known):
        assert time.monotonic() < deadline, f"no replacement started by {parent}"
        time.sleep(0.01)
    return fresh.pop()


def test_a_killed_worker_leaves_its_connections_to_the_other(workers2: LoggedServer) -> None:
    supervisor, port = workers2.process.pid, port_of(workers2)
    before = listening_sockets(port)
    served = answering_pids(workers2, 40)
    victim = min(served)
    (survivor,) = set(served) - {victim}
    known = children(supervisor)
    os.kill(victim, signal.SIGKILL)
    # The replacement is held before it can listen: a slow start, made certain. It
    # takes seconds to import the app; this takes milliseconds.
    replacement = new_child(supervisor, known)
    os.kill(replacement, signal.SIGSTOP)
    try:
        listening = listening_sockets(port, count=1)
        assert len(listening) == 1 and listening < before, (before, listening)
        # Fresh connections all reach the survivor, none waits in the dead socket's queue.
        assert answering_pids(workers2, 20) == {survivor: 20}
    finally:
        os.kill(replacement, signal.SIGCONT)
    deadline = time.monotonic() + 60
    while True:  # the replacement serves on a socket of its own
        counts = answering_pids(workers2, 20)
        if set(counts) == {survivor, replacement}:
            break
        assert time.monotonic() < deadline, f"{replacement} does not answer: {counts}"
        time.sleep(0.5)
    after = listening_sockets(port)  # the survivor's and a new one; the victim's is gone
    assert len(after) == 2 and listening < after and len(after - before) == 1, (before, after)


def test_a_worker_that_dies_while_checked_is_replaced_at_once(workers2: LoggedServer) -> None:
    supervisor = workers2.process.pid
    victim = min(answering_pids(workers2, 20))
    known = children(supervisor)
    # Stopped, it cannot answer the health check, which waits up to 60 s
    # (WORKER_START_SECONDS). Killed in that wait, as a SIGKILL that takes a while
    # to end a large process is, its end must end the wait.
    os.kill(victim, signal.SIGSTOP)
    time.sleep(1.5)  # the supervisor checks every 0.5 s
    os.kill(victim, signal.SIGKILL)
    new_child(supervisor, known)  # within its 30 s, not after the 60 s check
    deadline = time.monotonic() + 60
    while len(counts := answering_pids(workers2, 20)) < 2 or victim in counts:
        assert time.monotonic() < deadline, f"no second worker answers: {counts}"
        time.sleep(0.5)


def recorded_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, workers: int, reuseport: bool
) -> list[str]:
    """Which way run_server starts uvicorn, with both ways replaced by recorders."""
    calls: list[str] = []

    def uvicorn_run(**options: Any) -> None:
        calls.append(f"uvicorn.run workers={options['workers']}")

    class Supervisor:
        def __init__(self, config: Any, sockets: list[Any]) -> None:
            calls.append(f"per-worker sockets={len(sockets)}")

        def run(self) -> None:
            pass

    monkeypatch.setattr(serve_module.uvicorn, "run", uvicorn_run)
    monkeypatch.setattr(serve_module, "SocketPerWorker", Supervisor)
    monkeypatch.setattr(serve_module, "bind_worker_sockets", lambda config, n: [None] * n)
    monkeypatch.setattr(serve_module, "reuseport_available", lambda: reuseport)
    monkeypatch.setattr(os, "environ", dict(os.environ))  # run_server exports the settings
    serve_module.run_server(Settings.load(index_dir=tmp_path, workers=workers, port=0))
    return calls


def test_which_workers_get_their_own_sockets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert recorded_run(monkeypatch, tmp_path, workers=2, reuseport=True) == [
        "per-worker sockets=2"
    ]
    # One worker, or no SO_REUSEPORT (not Linux): uvicorn's own, one shared socket.
    assert recorded_run(monkeypatch, tmp_path, workers=1, reuseport=True) == [
        "uvicorn.run workers=1"
    ]
    assert recorded_run(monkeypatch, tmp_path, workers=2, reuseport=False) == [
        "uvicorn.run workers=2"
    ]
