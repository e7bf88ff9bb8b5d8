"""Where built ONNX graphs are kept, and the onnxruntime sessions that run them.

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

import onnx
import onnxruntime as ort

# Bump when a builder changes the graph it makes from the same weights.
BUILDER_VERSION = "1"


def cache_dir() -> Path:
    """``PIXSEARCH_MODEL_CACHE``, or ``~/.cache/pixsearch/models``."""
    configured = os.environ.get("PIXSEARCH_MODEL_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "pixsearch" / "models"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cached_onnx(name: str, weights: Path, build: Callable[[], onnx.ModelProto]) -> Path:
    """The path of ``name``'s graph for these weights, building and storing it if absent."""
    key = file_sha256(weights)[:16]
    target = cache_dir() / f"{name}-{key}-v{BUILDER_VERSION}.onnx"
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


def session(path: Path, threads: int = 1) -> ort.InferenceSession:
    """A CPU session; one thread by default because the pipeline runs one worker per core."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
