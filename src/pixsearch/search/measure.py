"""Measuring a picture a caller sends: crop it, then run the ingest pipeline and models on it.

An upload to /images/details or visual search becomes what an ingested image
becomes (ingest/pipeline.py): facts, a thumbnail and, with the "visual"
analyzer, an embedding. The embedding is wanted whatever the modules asked
for: it is also what matches a cropped upload to its indexed original, which
every module about that original needs. A model that is missing or fails
costs the modules that need it, never the answer.

Everything here is CPU and model work with no store access, so the API runs
it in a worker thread.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Set
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.pipeline import process_bytes
from pixsearch.models.analyzer import AnalyzerUnavailable, Understanding, load_analyzer
from pixsearch.records import ImageFacts, Occurrence, Rejection

log = logging.getLogger(__name__)

Vector = NDArray[np.float32]
_CONFIG = PipelineConfig()
_UNAVAILABLE: set[str] = set()  # analyzers that failed to load: tried once per process


@dataclass(frozen=True, slots=True)
class Crop:
    """A region of a picture, as fractions of its width and height."""

    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True, slots=True)
class Measured:
    facts: ImageFacts
    vector: Vector | None  # the visual embedding, when the "visual" analyzer runs here
    thumbnail: bytes


class UnreadablePicture(ValueError):
    """Bytes that are no picture the pipeline can read; the message says why."""


def measure(data: bytes, crop: Crop | None, modules: Set[str]) -> Measured:
    """The facts, embedding and thumbnail of a picture (of its `crop` when given)."""
    analyzers = analyzers_for(modules)  # the first call loads the models
    if crop is not None:
        data = crop_bytes(data, crop)
    config = replace(_CONFIG, analyzers=analyzers)
    result = process_bytes(data, Occurrence(source="upload"), config)
    if isinstance(result, Rejection) and result.reason == "crashed" and analyzers:
        # A model failing at run time costs its modules, not the whole answer.
        result = process_bytes(data, Occurrence(source="upload"), _CONFIG)
    if isinstance(result, Rejection):
        raise UnreadablePicture(f"The image could not be read ({result.reason}).")
    return Measured(facts=result.facts, vector=result.embedding, thumbnail=result.thumbnail)


def analyzers_for(modules: Set[str]) -> tuple[str, ...]:
    """The analyzers an upload runs for these insights modules, those that load here."""
    wanted = ["visual"]
    if "RecognizedEntities" in modules:
        wanted.append("nudenet")  # the face detector
    return usable_analyzers(tuple(wanted))


def usable_analyzers(names: tuple[str, ...]) -> tuple[str, ...]:
    """Those of `names` that load here; a missing model is logged once, never an error."""
    usable = []
    for name in names:
        if name in _UNAVAILABLE:
            continue
        try:
            load_analyzer(name)
        except AnalyzerUnavailable as exc:
            log.warning("insights without %s: %s", name, exc)
            _UNAVAILABLE.add(name)
            continue
        usable.append(name)
    return tuple(usable)


def crop_bytes(data: bytes, crop: Crop) -> bytes:
    """The cropped region as PNG (lossless: it is measured next, not shown)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            w, h = image.size
            box = (
                round(crop.left * w),
                round(crop.top * h),
                max(round(crop.right * w), round(crop.left * w) + 1),
                max(round(crop.bottom * h), round(crop.top * h) + 1),
            )
            region = image.convert("RGB").crop(box)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise UnreadablePicture("The image could not be read.") from None
    out = io.BytesIO()
    region.save(out, "PNG")
    return out.getvalue()


def embed_thumbnail(data: bytes) -> Vector | None:
    """The embedding of a stored thumbnail, for an image indexed without the visual analyzer."""
    if not usable_analyzers(("visual",)):
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            seen = Understanding()
            load_analyzer("visual").analyze(image.convert("RGB"), seen)
    except Exception:  # a broken thumbnail or model: the modules are omitted, not a 500
        log.exception("embedding a thumbnail failed")
        return None
    return seen.embedding
