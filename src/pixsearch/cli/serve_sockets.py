"""`serve --workers N` on Linux: every worker accepts on its own `SO_REUSEPORT` socket.

uvicorn's workers share one listening socket, and whichever worker wakes first
accepts: a burst of keep-alive connections (32 load-test clients opening at
once) was sometimes taken whole by one worker while the other idled. With one
socket per worker the kernel hashes each new connection to one socket of the
group, so connections spread over the workers however they arrive.

uvicorn's supervisor (health checks, a dead or hung worker replaced, SIGHUP,
SIGTTIN/SIGTTOU, the start-up failure stop) is kept: `SocketPerWorker` only
changes which sockets a new worker gets. The supervisor binds the sockets
itself, before any worker starts; a worker starts listening on its socket
only once its app is built. When a worker dies, the supervisor binds a fresh
socket for its replacement and only then closes the dead worker's one, so the
port stays this server's throughout, and while the replacement starts (seconds
at 1,000,000 documents, more on a loaded machine) the kernel hashes new
connections over the sockets still listening: they go to the other workers
instead of waiting in a queue nobody accepts from. Connections already queued on
the dead socket when it closes are reset, unless the kernel migrates them
(`sysctl net.ipv4.tcp_migrate_req=1`, Linux 5.14+). On SIGHUP a new worker starts
on the old one's socket, which then never stops listening.

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
import os
import pickle
import socket
import sys
from multiprocessing.connection import wait

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


def answers(process: Process, timeout: float) -> bool:
    """Whether the worker answers uvicorn's health check within `timeout` seconds.

    uvicorn's own check waits for the answer alone: a worker killed just after
    the supervisor found it running (SIGKILL takes a while to end a process
    with a large memory) never answers, and the supervisor waited the whole
    timeout, 60 s here, with every other dead worker unreplaced and SIGTERM
    unheard. Here the worker's exit ends the wait too.
    """
    if not process.process.is_alive():
        return False
    try:
        process.parent_conn.send(b"ping")
        ready = wait([process.parent_conn, process.process.sentinel], timeout)
        if process.parent_conn not in ready:
            return False  # it ended, or did not answer in time
        process.parent_conn.recv()
        return True
    except (OSError, EOFError, pickle.UnpicklingError):
        return False


class SocketPerWorker(Multiprocess):
    """uvicorn's supervisor, with worker i (and each replacement of it) started on socket i.

    The methods below are uvicorn 0.55's own, but for the socket a new worker
    gets: each place that starts a worker is overridden.
    """

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.processes_num = len(sockets)

    def run(self) -> None:
        """uvicorn's loop, woken by a worker's death as well as every 0.5 s.

        A dead worker's socket is closed as soon as the supervisor sees the death;
        connections hashed to it in between are reset. uvicorn polls every 0.5 s;
        the process sentinels make that window milliseconds.
        """
        logger.info(f"Started parent process [{os.getpid()}]")
        self.init_processes()
        while not self.should_exit.is_set():
            wait([process.process.sentinel for process in self.processes], timeout=0.5)
            self.handle_signals()
            self.keep_subprocess_alive()
        self.terminate_all()
        self.join_all()
        logger.info(f"Stopping parent process [{os.getpid()}]")

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
            if answers(process, self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung, or dead: kill it
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
            self._renew_socket(slot)
            self.processes[slot] = self._start(slot)

    def _renew_socket(self, slot: int) -> None:
        """A socket for the replacement of a dead worker, bound but not yet listening.

        The dead worker's socket would keep listening while the supervisor holds
        it, and the kernel would go on queueing connections there until the
        replacement accepts them. The new socket is bound before the old one
        closes: the port is never free for another program to take.
        """
        old = self.sockets[slot]
        family, (host, port) = old.family, old.getsockname()[:2]
        try:
            self.sockets[slot] = _reuseport_socket(family, host, port)
        except OSError as exc:
            logger.error(f"No new socket for worker {slot}; its replacement keeps the old: {exc}")
            return
        old.close()

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
