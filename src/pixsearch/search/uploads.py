"""Short-lived memory of pictures uploaded to /images/details and visual search.

An uploaded picture that is not in the index still gets an imageInsightsToken
(the reference's follow-up GET works with it), so its measured facts are kept
on disk, shared by all worker processes, for a bounded time. Only a server
keeps one: a read-only command never writes it.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import orjson
from numpy.typing import NDArray

from pixsearch.records import ImageFacts

MAX_FILES = 10_000
EXPIRE_EVERY = 60.0  # seconds between sweeps: a sweep stats every cached file


class UploadCache:
    def __init__(self, root: Path, *, ttl_seconds: float = 3600.0) -> None:
        self.root = root
        self.ttl = ttl_seconds
        self._swept_at = 0.0
        root.mkdir(parents=True, exist_ok=True)

    def put(self, facts: ImageFacts, vector: NDArray[np.float32] | None = None) -> None:
        if vector is not None:  # first, so a reader that finds the facts finds the vector
            raw = self.root / f"{facts.image_id}.f32"
            tmp_raw = raw.with_suffix(f".{os.getpid()}.tmp")
            tmp_raw.write_bytes(np.asarray(vector, dtype="<f4").tobytes())
            os.replace(tmp_raw, raw)
        target = self.root / f"{facts.image_id}.json"
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(orjson.dumps(facts))
        os.replace(tmp, target)
        self._expire()

    def vector(self, image_id: str) -> NDArray[np.float32] | None:
        """The visual embedding kept with an uploaded picture's facts, if one was computed."""
        if self.get(image_id) is None:
            return None
        try:
            return np.frombuffer((self.root / f"{image_id}.f32").read_bytes(), dtype="<f4")
        except OSError:
            return None

    def get(self, image_id: str) -> ImageFacts | None:
        if len(image_id) != 40 or not all(c in "0123456789ABCDEF" for c in image_id):
            return None
        path = self.root / f"{image_id}.json"
        try:
            if time.time() - path.stat().st_mtime > self.ttl:
                return None
            raw = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        raw["image_types"] = tuple(raw.get("image_types") or ())
        for name in ("analyzed", "image_content"):
            raw[name] = tuple(raw.get(name) or ())
        for name in ("faces", "tags"):
            raw[name] = tuple(tuple(item) for item in raw.get(name) or ())
        captured = raw.get("captured_at")
        raw["captured_at"] = datetime.fromisoformat(captured) if captured else None
        return ImageFacts(**raw)

    def _expire(self) -> None:
        now = time.monotonic()
        if now - self._swept_at < EXPIRE_EVERY:
            return
        self._swept_at = now
        entries = sorted(self.root.glob("*.json"), key=lambda p: p.stat().st_mtime)
        cutoff = time.time() - self.ttl
        for index, path in enumerate(entries):
            if index < len(entries) - MAX_FILES or path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                path.with_suffix(".f32").unlink(missing_ok=True)
