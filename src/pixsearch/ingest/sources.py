"""Walk folders for image files, deterministically and safely (symlink loops, dead links)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from pixsearch.records import Rejection

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"}
)


def is_image_name(name: str) -> bool:
    """True for names with a common image extension (case-insensitive)."""
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def roots_of(paths: Sequence[Path]) -> tuple[str, ...]:
    """The folder each given path names, absolute: itself, or a file's own folder
    (PipelineConfig.roots)."""
    return tuple(os.path.abspath(p if p.is_dir() else p.parent) for p in map(Path, paths))


def iter_files(
    paths: Sequence[Path], *, follow_symlinks: bool = True
) -> Iterator[Path | Rejection]:
    """Image files under ``paths`` (folders walked recursively, files taken as given).

    Order is deterministic: the given paths in order, each folder's entries sorted
    by name, depth first. A folder reached twice (a symlink loop, or two links to
    one folder) is walked once; the second visit yields Rejection("symlink-loop").
    Dead links and unreadable folders yield Rejection("unreadable"). With
    ``follow_symlinks=False`` symbolic links are skipped silently.
    """
    visited: set[tuple[int, int]] = set()
    for path in paths:
        yield from _walk_root(Path(path), visited, follow_symlinks=follow_symlinks)


def _walk_root(
    path: Path, visited: set[tuple[int, int]], *, follow_symlinks: bool
) -> Iterator[Path | Rejection]:
    try:
        info = os.stat(path)
    except OSError as exc:
        yield Rejection(str(path), "unreadable", _why(exc))
        return
    if stat.S_ISDIR(info.st_mode):
        yield from _walk_dir(path, info, visited, follow_symlinks=follow_symlinks)
    elif is_image_name(path.name):
        yield path
    else:
        yield Rejection(str(path), "not-an-image", "not an image file extension")


def _walk_dir(
    folder: Path,
    info: os.stat_result,
    visited: set[tuple[int, int]],
    *,
    follow_symlinks: bool,
) -> Iterator[Path | Rejection]:
    key = (info.st_dev, info.st_ino)
    if key in visited:
        yield Rejection(str(folder), "symlink-loop", "folder already visited")
        return
    visited.add(key)
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as exc:
        yield Rejection(str(folder), "unreadable", _why(exc))
        return
    for entry in entries:
        yield from _walk_entry(entry, visited, follow_symlinks=follow_symlinks)


def _walk_entry(
    entry: os.DirEntry[str], visited: set[tuple[int, int]], *, follow_symlinks: bool
) -> Iterator[Path | Rejection]:
    path = Path(entry.path)
    try:
        is_link = entry.is_symlink()
        if is_link and not follow_symlinks:
            return
        # Plain files are told apart by d_type: no stat call for millions of photos.
        if not is_link and entry.is_file(follow_symlinks=False):
            if is_image_name(entry.name):
                yield path
            return
        info = entry.stat(follow_symlinks=True)  # folders (for loop detection) and links
    except OSError as exc:
        # Report dead links to images or to would-be folders; a dead notes.txt is not ours.
        if is_image_name(entry.name) or not os.path.splitext(entry.name)[1]:
            yield Rejection(str(path), "unreadable", _why(exc))
        return
    if stat.S_ISDIR(info.st_mode):
        yield from _walk_dir(path, info, visited, follow_symlinks=follow_symlinks)
    elif stat.S_ISREG(info.st_mode) and is_image_name(entry.name):
        yield path


def _why(exc: OSError) -> str:
    return f"{type(exc).__name__}: {exc.strerror or exc}"
