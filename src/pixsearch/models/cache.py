"""Where built ONNX graphs are kept (models/runtime.py makes the sessions that run them).

Models ship as weights (a PyTorch checkpoint, a safetensors file); pixsearch
turns them into ONNX graphs once and keeps the result under a key derived from
the weights' sha256, so a changed weight file never reuses a stale graph and
workers started together never read a half-written one (temp file + rename).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pixsearch.config import Settings

if TYPE_CHECKING:  # importing onnx costs seconds; only its builders need it at run time
    import onnx

# Bump when a builder changes the graph it makes from the same weights.
BUILDER_VERSION = "1"


def cache_dir() -> Path:
    """``Settings.model_cache``, or ``~/.cache/pixsearch/models`` when it is empty."""
    configured = Settings.load().model_cache
    return Path(configured) if configured else Path.home() / ".cache" / "pixsearch" / "models"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def graph_path(name: str, weights_sha256: str) -> Path:
    """Where ``name``'s graph built from weights with this sha256 is kept (`pixsearch models`)."""
    return cache_dir() / f"{name}-{weights_sha256[:16]}-v{BUILDER_VERSION}.onnx"


def cached_onnx(name: str, weights: Path, build: Callable[[], onnx.ModelProto]) -> Path:
    """The path of ``name``'s graph for these weights, building and storing it if absent."""
    target = graph_path(name, file_sha256(weights))
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    model = build()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(model.SerializeToString())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
