"""Child processes that end when the process that started them ends, even by ``kill -9``.

A pool worker blocked on its task queue never sees its parent die: it holds both
ends of that queue's pipe itself, so no EOF ever comes. Each orphan keeps its
models (a few hundred MB), and under forkserver it also keeps the forkserver and
the resource tracker alive, since both exit only when the last holder of their
pipes is gone. So every worker watches the pid of the process that owns the pool.

Linux's ``PR_SET_PDEATHSIG`` is not used: it fires when the parent *thread* exits
(a pool grown from a short-lived thread would lose its workers), and a forkserver
worker's parent is the forkserver, which outlives the owner. A pidfd (Linux 5.3+)
names the owner itself and becomes readable the moment it exits; elsewhere the
watchdog polls.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
import time

POLL_SECONDS = 0.5  # the fallback's reaction time, where pidfds do not exist
ORPHAN_EXIT_CODE = 70  # what an orphan exits with (EX_SOFTWARE), for whoever reaps it


def die_with(owner_pid: int) -> None:
    """End this process (``os._exit``) as soon as ``owner_pid`` is gone.

    Call it early in a child: a worker initializer, an app factory. A daemon
    thread waits; it costs nothing while the owner lives.
    """
    handle = _pidfd(owner_pid)
    is_parent = os.getppid() == owner_pid
    if handle is None and not _alive(owner_pid, is_parent):
        os._exit(ORPHAN_EXIT_CODE)  # the owner died before we could watch it
    watcher = threading.Thread(
        target=_watch, args=(owner_pid, is_parent, handle), name="lifeline", daemon=True
    )
    watcher.start()


def die_with_multiprocessing_parent() -> None:
    """``die_with`` the multiprocessing parent, when this process is one's child; else nothing.

    For code that runs in both a supervisor's children and a plain process
    (uvicorn runs the app factory in the main process with one worker, in spawned
    children with several): only the children must follow their parent.
    """
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid is not None:
        die_with(parent.pid)


def _pidfd(pid: int) -> int | None:
    """A pidfd for ``pid``; None where unsupported, or when ``pid`` is already gone."""
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        return int(opener(pid))
    except ProcessLookupError:
        return None
    except OSError:  # ENOSYS (old kernel), EPERM (seccomp): poll instead
        return None


def _watch(pid: int, is_parent: bool, handle: int | None) -> None:
    if handle is not None:
        try:
            select.select([handle], [], [])  # readable once the process has exited
            os._exit(ORPHAN_EXIT_CODE)
        except OSError:
            pass  # cannot wait on it after all: poll
    while _alive(pid, is_parent):
        time.sleep(POLL_SECONDS)
    os._exit(ORPHAN_EXIT_CODE)


def _alive(pid: int, is_parent: bool) -> bool:
    """Whether `pid` still runs. A dead owner may linger as a zombie its own parent has not
    reaped, which signal 0 still reaches; its children have been handed to another
    parent by then, so a direct child asks who its parent is now."""
    if is_parent:
        return os.getppid() == pid
    if _is_zombie(pid):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else: a reused pid, so ours is gone
        return False
    return True


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[-1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False  # no /proc (macOS), or gone: signal 0 tells
