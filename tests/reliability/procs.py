"""Process trees read from /proc (Linux), without psutil: who descends from whom, who survives."""

from __future__ import annotations

import os
import time
from pathlib import Path

# pid -> (parent pid, start time, state)
ProcInfo = tuple[int, int, str]


def processes() -> dict[int, ProcInfo]:
    table: dict[int, ProcInfo] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # exited while we looked
        # The command name (field 2) may hold spaces and parentheses: split after it.
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry)] = (int(fields[1]), int(fields[19]), fields[0])
    return table


def descendants(pid: int) -> set[tuple[int, int]]:
    """(pid, start time) of every live descendant of `pid`; the start time tells reused pids."""
    table = processes()
    found: set[tuple[int, int]] = set()
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, start, state) in table.items():
            if ppid == parent and state != "Z":
                found.add((child, start))
                frontier.append(child)
    return found


def survivors(recorded: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which of the recorded processes still run (zombies count as gone)."""
    table = processes()
    return {
        (pid, start)
        for pid, start in recorded
        if pid in table and table[pid][1] == start and table[pid][2] != "Z"
    }


def wait_until_gone(recorded: set[tuple[int, int]], seconds: float) -> set[tuple[int, int]]:
    deadline = time.monotonic() + seconds
    alive = survivors(recorded)
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = survivors(recorded)
    return alive


def watching(pid: int) -> bool:
    """Whether `pid` holds a pidfd: a lifeline (pixsearch/lifeline.py) is armed in it."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:[pidfd]":
                return True
        except OSError:
            continue
    return False


def pidfds_work() -> bool:
    try:
        os.close(os.pidfd_open(os.getpid()))
    except (AttributeError, OSError):
        return False
    return True
