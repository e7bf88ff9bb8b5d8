"""Settings: one declared registry, read from keyword overrides, then the environment.

Each setting has a name, a type, a default, help text and an environment
variable (PIXSEARCH_<NAME>); the CLI options and docs are derived from it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True, slots=True)
class Settings:
    index_dir: Path = _setting(Path("pixsearch-index"), "Directory holding the index.")
    backend: str = _setting("embedded", "Storage backend holding the index, by name: embedded.")
    host: str = _setting("127.0.0.1", "Address the server listens on.")
    port: int = _setting(8080, "Port the server listens on.")
    workers: int = _setting(1, "Server worker processes.")
    public_url: str = _setting("", "Base URL clients reach the server at (default: from Host).")
    require_key: bool = _setting(True, "Require Ocp-Apim-Subscription-Key on API calls.")
    max_upload_bytes: int = _setting(1_048_576, "Largest image accepted by upload.")
    refresh_seconds: float = _setting(0.5, "How often the server looks for new commits.")
    dup_distance: int = _setting(6, "Hamming distance under which images are near-duplicates.")
    commit_every: int = _setting(2000, "Ingestion commits after this many new images.")
    query_log_days: int = _setting(90, "Days of search counts kept for trending.")
    admin_key: str = _setting("", "Key guarding the /admin API (empty: /admin is off).")
    rate_limit_backend: str = _setting("sqlite", "Where rate-limit counters live: sqlite|redis.")
    redis_url: str = _setting("redis://127.0.0.1:6379/0", "Redis for the redis rate limiter.")
    analyzers: str = _setting(
        "nudenet,visual",
        "Image analyzers run at ingest, comma-separated: nudenet (safe search, faces), "
        "visual (tags, similar images), ocr (text in images), clip (added by itself when "
        "clip_model_dir is set); empty for none.",
    )
    adult_threshold: float = _setting(
        0.45,
        "Nudity score (0-1, whole percents) at or above which safeSearch Moderate and Strict "
        "hide an image; applied at query time, no re-indexing.",
    )
    adult_hosts_file: str = _setting(
        "",
        "Blocklist of hosts (one a line, or hosts-file lines) whose images and subdomains "
        "safeSearch=Strict hides.",
    )
    semantic: bool = _setting(True, "Fuse sentence-embedding matches with BM25 in search.")
    clip_model_dir: str = _setting("", "Folder with CLIP ONNX models for text-to-image search.")
    fetch_private: bool = _setting(False, "Let imgUrl fetches reach private addresses.")
    trending_file: str = _setting("", "YAML/JSON file of curated trending categories.")
    suggestions: bool = _setting(True, "Spelling correction and suggestion lists in answers.")
    page_key: bool = _setting(
        True, "Give the search page a key of its own, limited like any key (off: users bring one)."
    )
    page_key_qps: int = _setting(20, "Calls per second the page key allows, all visitors together.")
    page_key_quota: int = _setting(0, "Calls per month the page key allows (0: no monthly quota).")

    def __repr__(self) -> str:
        # The admin key must never reach a log line through a printed Settings.
        shown = ", ".join(f"{name}={value}" for name, value, _ in self.describe())
        return f"Settings({shown})"

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Explicit overrides (None means unset) win over PIXSEARCH_* variables over defaults."""
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = overrides.get(spec.name)
            if raw is None:
                raw = os.environ.get(f"PIXSEARCH_{spec.name.upper()}")
            if raw is not None:
                values[spec.name] = _convert(spec.name, spec.type, raw)
        return cls(**values)

    def describe(self) -> list[tuple[str, str, str]]:
        return [
            (
                f.name,
                "***" if f.name == "admin_key" else str(getattr(self, f.name)),
                f.metadata["help"],
            )
            for f in fields(self)
        ]


def _convert(name: str, kind: Any, raw: Any) -> Any:
    kind_name = kind if isinstance(kind, str) else kind.__name__
    try:
        if kind_name == "bool":
            if isinstance(raw, bool):
                return raw
            if str(raw).lower() in ("1", "true", "yes", "on"):
                return True
            if str(raw).lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind_name == "int":
            return int(raw)
        if kind_name == "float":
            return float(raw)
        if kind_name == "Path":
            return Path(raw)
        return str(raw)
    except ValueError:
        raise ValueError(f"setting {name}: cannot read {raw!r} as {kind_name}") from None
