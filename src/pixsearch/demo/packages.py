"""The Debian packages holding the demo's pictures: which are missing, and installing them.

Installing needs apt-get and root; without them the demo says which command
would have fetched the pictures and goes on with what it has.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from pixsearch.demo.pictures import OPENCLIPART, TUXPAINT, WALLPAPERS

# package -> the folder it installs; presence of the folder is what the demo needs.
FOLDERS: dict[str, Path] = {
    "openclipart-png": OPENCLIPART,
    "tuxpaint-stamps-default": TUXPAINT,
    "plasma-workspace-wallpapers": WALLPAPERS,
}
DOWNLOAD_MB = 386  # the three .deb files together (apt-cache show: Size)


def missing() -> list[str]:
    return [name for name, folder in FOLDERS.items() if not folder.is_dir()]


def install(packages: list[str], timeout: float = 900) -> str | None:
    """None once installed, else why not (to show the user)."""
    command = f"apt-get install -y --no-install-recommends {' '.join(packages)}"
    if shutil.which("apt-get") is None:
        return "no apt-get on this machine"
    if os.geteuid() != 0:
        return f"installing needs root: sudo {command}"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    argv = command.split()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
        if done.returncode != 0:  # a fresh machine may have no package lists yet
            subprocess.run(["apt-get", "update"], capture_output=True, timeout=timeout, env=env)
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{command} failed: {exc}"
    if done.returncode != 0:
        return f"{command} failed: {done.stderr.strip()[-300:]}"
    return None
