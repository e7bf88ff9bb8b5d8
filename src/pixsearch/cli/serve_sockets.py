"""`serve --workers N` on Linux: every worker accepts on its own `SO_REUSEPORT` socket.

uvicorn's workers share one listening socket, and whichever worker wakes first
accepts: a burst of keep-alive connections (32 load-test clients opening at
once) was sometimes taken whole by one worker while the other idled. With one
socket per worker the kernel hashes each new connection to one socket of the
group, so connections spread over the workers however they arrive.

uvicorn's supervisor (health checks, a dead or hung worker replaced, SIGHUP,
SIGTTIN/SIGTTOU, the start-up failure stop) is kept: `SocketPerWorker` only
changes which sockets a new worker gets. The supervisor binds the sockets
itself, before any worker starts, and holds them for its whole life, so
worker i and every replacement of it serve socket i: the port stays this
server's while a worker restarts, and connections the kernel queued on a dead
worker's socket wait there for its replacement instead of being reset. That is
also the cost: while a worker restarts, new connections hashed to its socket
wait for the replacement (seconds at 1,000,000 documents) rather than going to
the other worker, as they would with one shared socket.

Safety. `SO_REUSEPORT` lets any socket of the same user join the port, so the
sockets are bound only after uvicorn's own bind, which sets no `SO_REUSEPORT`,
has succeeded and been closed: a port that another program listens on (a
second pixsearch too, whose sockets all carry `SO_REUSEPORT`) stops `serve`
with uvicorn's message, exactly as before. Only a program binding the port in
the microseconds between that check and the first `SO_REUSEPORT` bind, with
`SO_REUSEPORT` itself, could slip in. Where the option is missing (not Linux),
`serve` keeps uvicorn's one shared socket.
"""

from __future__ import annotations

import logging
import socket
import sys

import uvicorn
from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

logger = logging.getLogger("uvicorn.error")
# The uvicorn whose supervisor methods SocketPerWorker overrides: they reach into its
# internals, so with any other version `serve` keeps uvicorn's one shared socket.
SUPERVISOR_OF = "0.55."


def reuseport_available() -> bool:
    """Whether the kernel balances connections over SO_REUSEPORT sockets (Linux 3.9+), and
    `SocketPerWorker` mirrors the installed uvicorn's supervisor (another keeps its own)."""
    return (
        sys.platform.startswith("linux")
        and hasattr(socket, "SO_REUSEPORT")
        and uvicorn.__version__.startswith(SUPERVISOR_OF)
    )


def bind_worker_sockets(config: Config, count: int) -> list[socket.socket]:
    """`count` sockets on the configured host and port, one per worker.

    Exits with uvicorn's STARTUP_FAILURE (and its message) when the port is taken.
    """
    check = config.bind_socket()  # no SO_REUSEPORT: fails on a port held by anyone
    family, (host, port) = check.family, check.getsockname()[:2]  # port 0: the kernel's pick
    check.close()
    try:
        return [_reuseport_socket(family, host, port) for _ in range(count)]
    except OSError as exc:
        logger.error(exc)
        sys.exit(STARTUP_FAILURE)


def _reuseport_socket(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
    sock = socket.socket(family=family, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)  # the worker listens on it (asyncio's create_server)
    return sock


class SocketPerWorker(Multiprocess):
    """uvicorn's supervisor, with worker i (and each replacement of it) started on socket i.

    The methods below are uvicorn 0.55's own, but for the socket a new worker
    gets: each place that starts a worker is overridden.
    """

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.processes_num = len(sockets)

    def _start(self, slot: int) -> Process:
        process = Process(self.config, [self.sockets[slot]])
        process.start()
        return process

    def init_processes(self) -> None:
        self.processes = [self._start(slot) for slot in range(len(self.sockets))]

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for slot, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung: kill it
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # It failed before serving: the app or the index is broken, and
                # would fail the same way on every restart.
                logger.error(
                    f"Child process [{process.pid}] failed to start, stopping the parent process."
                )
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.info(f"Child process [{process.pid}] died")
            self.processes[slot] = self._start(slot)

    def restart_all(self) -> None:
        """SIGHUP: each worker's replacement starts on its socket before the old one ends."""
        for slot, old_process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new_process = self._start(slot)
            ready = new_process.wait_until_ready(
                self.config.timeout_worker_healthcheck, self.should_exit
            )
            if not ready:
                new_process.kill()
                new_process.join()
                if not self.should_exit.is_set():
                    logger.error(
                        f"New child process [{new_process.pid}] was not ready in time; "
                        f"keeping worker [{old_process.pid}] and aborting the restart."
                    )
                return
            old_process.terminate()
            old_process.join()
            self.processes[slot] = new_process

    def handle_ttin(self) -> None:
        logger.info("Received SIGTTIN, increasing the number of processes.")
        family, (host, port) = self.sockets[0].family, self.sockets[0].getsockname()[:2]
        try:
            self.sockets.append(_reuseport_socket(family, host, port))
        except OSError as exc:
            logger.error(f"No socket for another worker: {exc}")
            return
        self.processes_num += 1
        self.processes.append(self._start(len(self.sockets) - 1))

    def handle_ttou(self) -> None:
        logger.info("Received SIGTTOU, decreasing number of processes.")
        if self.processes_num <= 1:
            logger.info(
                "Already reached one process, cannot decrease the number of processes anymore."
            )
            return
        self.processes_num -= 1
        process = self.processes.pop()
        process.terminate()
        process.join()
        self.sockets.pop().close()  # else the kernel keeps queueing connections on it
