"""Short-lived memory of pictures uploaded to /images/details.

An uploaded picture that is not in the index still gets an imageInsightsToken
(the reference's follow-up GET works with it), so its measured facts are kept
on disk, shared by all worker processes, for a bounded time.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

import orjson

from pixsearch.records import ImageFacts

MAX_FILES = 10_000
EXPIRE_EVERY = 60.0  # seconds between sweeps: a sweep stats every cached file


class UploadCache:
    def __init__(self, root: Path, *, ttl_seconds: float = 3600.0) -> None:
        self.root = root
        self.ttl = ttl_seconds
        self._swept_at = 0.0
        root.mkdir(parents=True, exist_ok=True)

    def put(self, facts: ImageFacts) -> None:
        target = self.root / f"{facts.image_id}.json"
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(orjson.dumps(facts))
        os.replace(tmp, target)
        self._expire()

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
