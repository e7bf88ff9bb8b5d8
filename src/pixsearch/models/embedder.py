"""Pluggable embedders: what turns pictures or texts into L2-normalised vectors.

Built in:

- ``efficientnet``: EfficientNet-Lite0 pooled features, images only, 1280-d.
- ``minilm``: all-MiniLM-L6-v2 sentence embeddings, texts only, 384-d.
- ``clip-onnx``: a CLIP-style pair of ONNX models the user supplies (folder in
  ``Settings.clip_model_dir``), images *and* texts in one space, so a text
  query can find pictures by what they show (``clip_onnx.py`` documents the
  expected files and tensor names).

Every embedder has ``name`` and ``dim``; image embedders have ``embed_images``,
text embedders ``embed_texts``; both return float32 ``[n, dim]`` rows of unit
length. Loading is by name, once per process, as analyzers are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

from pixsearch.registry import Registry, Unavailable


@runtime_checkable
class ImageEmbedder(Protocol):
    name: str
    dim: int

    def embed_images(self, images: list[Image.Image]) -> np.ndarray:
        """One L2-normalised float32 row per picture, [n, dim]."""
        ...


@runtime_checkable
class TextEmbedder(Protocol):
    name: str
    dim: int

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised float32 row per text, [n, dim]."""
        ...


class EmbedderUnavailable(Unavailable):
    """A named embedder cannot run here (unknown name, missing package or model files)."""


# Factories take keyword options (threads, model_dir).
EMBEDDERS: Registry[Any] = Registry(
    "embedder",
    {
        "efficientnet": "pixsearch.models.efficientnet:EfficientNetLite0",
        "minilm": "pixsearch.models.minilm:MiniLM",
        "clip-onnx": "pixsearch.models.clip_onnx:ClipOnnx",
    },
    error=EmbedderUnavailable,
)

_LOADED: dict[tuple[str, tuple[tuple[str, Any], ...]], Any] = {}


def load_embedder(name: str, **options: Any) -> Any:
    """The process-wide embedder ``name`` built with ``options``, created on first use.

    Every factory takes ``threads`` (default 1: one worker per core); it is filled
    in here so that callers with and without it share one instance.
    """
    options = {"threads": 1, **options}
    key = (name, tuple(sorted((k, str(v)) for k, v in options.items())))
    if key in _LOADED:
        return _LOADED[key]
    _LOADED[key] = EMBEDDERS.create(name, **options)
    return _LOADED[key]


def image_embedder(name: str = "efficientnet", **options: Any) -> ImageEmbedder:
    embedder = load_embedder(name, **options)
    if not isinstance(embedder, ImageEmbedder):
        raise EmbedderUnavailable(f"embedder {name!r} does not embed images")
    return embedder


def text_embedder(name: str = "minilm", **options: Any) -> TextEmbedder:
    embedder = load_embedder(name, **options)
    if not isinstance(embedder, TextEmbedder):
        raise EmbedderUnavailable(f"embedder {name!r} does not embed texts")
    return embedder


def clip_options(model_dir: str | Path | None) -> dict[str, Any]:
    """Options for ``clip-onnx`` from ``Settings.clip_model_dir`` (empty means not configured)."""
    if not model_dir:
        raise EmbedderUnavailable("clip-onnx needs a model folder (Settings.clip_model_dir)")
    return {"model_dir": Path(model_dir)}
