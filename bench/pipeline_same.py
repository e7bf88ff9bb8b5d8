"""Does a change to the pipeline keep every output? Old code against new, on real pictures.

    git worktree add /tmp/base HEAD        # the code before the change
    python bench/pipeline_same.py --src /tmp/base/src --save /tmp/old.pickle
    python bench/pipeline_same.py --against /tmp/old.pickle

Runs ``process_file`` with the default analyzers (``nudenet,visual``) over about 230
real pictures installed on this machine: OpenCV's sample data (opencv-doc), every
third landing photograph of endless-sky-data, wesnoth's story paintings and every
eighth of its portraits (transparent PNGs). It compares every ImageFacts field, the
occurrence and the thumbnail bytes exactly; scores, face boxes and embeddings within
``--tolerance`` (float noise). Exit status 1 when anything differs.
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

OPENCV = Path("/usr/share/doc/opencv-doc/examples/data")
GAMES = Path("/usr/share/games")
# Floats that may move by rounding when an equivalent computation is reordered.
NEAR_FIELDS = ("adult_score", "faces", "tags")


def pictures() -> list[Path]:
    files = sorted(OPENCV.glob("*.jpg")) + sorted(OPENCV.glob("*.png"))
    files += sorted((GAMES / "endless-sky/images/land").glob("*.jpg"))[1::3]
    files += sorted((GAMES / "wesnoth/1.16/data/core/images/story").glob("*.jpg"))
    files += sorted((GAMES / "wesnoth/1.16/data/core/images/portraits").glob("*/*.png"))[::8]
    return files


def run_all(paths: list[Path]) -> dict[str, Any]:
    from pixsearch.ingest.config import PipelineConfig
    from pixsearch.ingest.pipeline import process_file

    config = PipelineConfig(analyzers=("nudenet", "visual"))
    return {str(path): process_file(path, config) for path in paths}


def _flat(value: Any) -> list[Any]:
    """A score, a tuple of boxes or a tuple of (word, score) as one flat list."""
    if not isinstance(value, tuple):
        return [value]
    return [x for item in value for x in (item if isinstance(item, tuple) else (item,))]


def _numbers(value: Any) -> np.ndarray:
    return np.array([x for x in _flat(value) if not isinstance(x, str)], dtype=np.float64)


def differences(old: Any, new: Any, tolerance: float) -> tuple[list[str], float]:
    """What differs between two results of one picture, and the largest float gap."""
    if type(old) is not type(new) or not hasattr(old, "facts"):
        return ([] if old == new else [f"result {old!r} -> {new!r}"]), 0.0
    found = [
        name for name in ("thumbnail", "occurrence") if getattr(old, name) != getattr(new, name)
    ]
    gap = 0.0
    for field in dataclasses.fields(old.facts):
        a, b = getattr(old.facts, field.name), getattr(new.facts, field.name)
        if field.name not in NEAR_FIELDS:
            found += [] if a == b else [field.name]
            continue
        words = [x for x in _flat(a) if isinstance(x, str)] == [
            x for x in _flat(b) if isinstance(x, str)
        ]
        x, y = _numbers(a), _numbers(b)
        if not words or x.shape != y.shape:
            found.append(field.name)
        elif x.size:
            gap = max(gap, float(np.abs(x - y).max()))
    for name in ("embedding", "clip_embedding"):
        a, b = getattr(old, name), getattr(new, name)
        if (a is None) != (b is None):
            found.append(name)
        elif a is not None:
            gap = max(gap, float(np.abs(a - b).max()))
    return found + (["floats"] if gap > tolerance else []), gap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, help="import pixsearch from this src folder")
    parser.add_argument("--save", type=Path, help="write this code's outputs here")
    parser.add_argument("--against", type=Path, help="compare this code's outputs with these")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    src = args.src or Path(__file__).resolve().parents[1] / "src"
    sys.path.insert(0, str(src.resolve()))
    outputs = run_all(pictures())
    print(f"{len(outputs)} pictures through {src}")
    if args.save:
        args.save.write_bytes(pickle.dumps(outputs))
    if args.against:
        reference = pickle.loads(args.against.read_bytes())
        if reference.keys() != outputs.keys():
            sys.exit("the two runs saw different pictures")
        worst, failed = 0.0, 0
        for key, old in reference.items():
            found, gap = differences(old, outputs[key], args.tolerance)
            worst = max(worst, gap)
            if found:
                failed += 1
                print(f"{key}: {', '.join(found)}")
        print(f"{failed} of {len(outputs)} pictures differ; largest float difference {worst:.2e}")
        sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
