"""Installing the Debian packages a test needs, the way the brief asks: apt-get in the setup.

A fresh machine may have no package lists yet, so a failed install is retried
once after `apt-get update`. Callers skip with the returned reason when the
package cannot be had (no apt-get, not root, no network).
"""

from __future__ import annotations

import os
import shutil
import subprocess

_FAILED: dict[tuple[str, ...], str] = {}  # tried once per session


def apt_install(*packages: str, timeout: float = 600) -> str | None:
    """None once installed, else why not."""
    if packages in _FAILED:
        return _FAILED[packages]
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        _FAILED[packages] = f"apt-get install {' '.join(packages)}: needs apt-get and root"
        return _FAILED[packages]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
    try:
        done = subprocess.run(install, capture_output=True, text=True, timeout=timeout, env=env)
        if done.returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True, timeout=timeout, env=env)
            done = subprocess.run(install, capture_output=True, text=True, timeout=timeout, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        _FAILED[packages] = f"apt-get install {' '.join(packages)} failed: {exc}"
        return _FAILED[packages]
    if done.returncode != 0:
        reason = done.stderr.strip()[-300:]
        _FAILED[packages] = f"apt-get install {' '.join(packages)} failed: {reason}"
        return _FAILED[packages]
    return None
