"""Derived files kept one per committed generation in a folder beside the index.

The vocabulary cache ("vocabulary-12.npz") and the shared site chrome
("chrome-12.json") name each file by the generation it describes; a reader
looks for its own, and a writer removes the older ones once its own is in place.
"""

from __future__ import annotations

from pathlib import Path


def by_generation(folder: Path, prefix: str, suffix: str) -> list[tuple[int, Path]]:
    """(generation, path) of each `prefix`<generation>`suffix` file in `folder`, oldest first."""
    found = []
    for path in folder.glob(f"{prefix}*{suffix}"):
        name = path.name[len(prefix) : len(path.name) - len(suffix)]
        if name.isdigit():
            found.append((int(name), path))
    return sorted(found)


def remove_older(folder: Path, prefix: str, suffix: str, generation: int) -> None:
    """Remove the files of generations before `generation`; not newer ones, which
    another process may already serve."""
    for gen, path in by_generation(folder, prefix, suffix):
        if gen < generation:
            path.unlink(missing_ok=True)
