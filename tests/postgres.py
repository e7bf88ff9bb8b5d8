"""A real PostgreSQL for tests: initdb into a temporary folder, `postgres` on a loopback port.

Debian's `postgresql` package is installed with apt-get when missing (tests/debian.py).
PostgreSQL refuses to run as root, so a root test run starts it as the `postgres` user
the package creates. Callers skip with the returned reason when none can be started.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import free_port
from tests.debian import apt_install

SUPERUSER = "pixsearch"  # the cluster's superuser; trust authentication on loopback only
START_SECONDS = 30
INITDB_OPTIONS = ("-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
# Durability is not under test: a crash may lose the last commits of a throwaway database.
SERVER_OPTIONS = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")


@dataclass
class PostgresServer:
    process: subprocess.Popen[bytes]
    folder: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)  # "fast" shutdown: clients are disconnected
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        shutil.rmtree(self.folder, ignore_errors=True)


def _binaries() -> Path | None:
    """The folder holding initdb and postgres (Debian keeps them off PATH, per version)."""
    found = shutil.which("postgres")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_version)
    return Path(versions[-1]).parent if versions else None


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


def start_postgres() -> PostgresServer | str:
    """A running server, or why there is none."""
    binaries = _binaries()
    if binaries is None:
        reason = apt_install("postgresql")
        binaries = _binaries()
        if binaries is None:
            return reason or "postgresql installed, but no postgres binary found"
    user: str | None = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run PostgreSQL as"
        user = "postgres"
    # Not under pytest's tmp_path: that is private to root, and the server may run as postgres.
    folder = Path(tempfile.mkdtemp(prefix="pixsearch-pg-"))
    if user:
        shutil.chown(folder, user)
    as_user = {"user": user, "group": user, "extra_groups": [] if user else None}
    data = folder / "data"
    initdb = subprocess.run(
        [str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER, *INITDB_OPTIONS],
        capture_output=True,
        text=True,
        timeout=120,
        **as_user,
    )
    if initdb.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        return f"initdb failed: {initdb.stderr.strip()[-300:]}"
    port = free_port()
    with open(folder / "server.log", "wb") as log:
        command = [str(binaries / "postgres"), "-D", str(data), "-k", str(folder)]
        process = subprocess.Popen(
            [*command, "-h", "127.0.0.1", "-p", str(port), *SERVER_OPTIONS],
            stdout=log,
            stderr=subprocess.STDOUT,
            **as_user,
        )
    server = PostgresServer(process, folder, port)
    return server if _ready(server) else _failed(server)


def _ready(server: PostgresServer) -> bool:
    import psycopg

    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and server.process.poll() is None:
        try:
            psycopg.connect(server.url(), connect_timeout=2).close()
            return True
        except psycopg.OperationalError:
            time.sleep(0.1)
    return False


def _failed(server: PostgresServer) -> str:
    log = (server.folder / "server.log").read_text(errors="replace").strip()[-300:]
    server.stop()
    return f"postgres did not start in {START_SECONDS} s: {log}"
