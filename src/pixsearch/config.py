"""Settings: one declared registry, read from keyword overrides, then the environment.

Each setting has a name, a type, a default, help text and an environment
variable (PIXSEARCH_<NAME>); the CLI options (``cli/options.py``) and
docs/settings.md (``python -m pixsearch.config``) are derived from it, and
nothing else in the package spells an environment variable.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

ENV_PREFIX = "PIXSEARCH_"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _setting(default: Any, help: str, *, secret: bool = False) -> Any:
    return field(default=default, metadata={"help": help, "secret": secret})


@dataclass(frozen=True, slots=True)
class Settings:
    index_dir: Path = _setting(Path("pixsearch-index"), "Directory holding the index.")
    backend: str = _setting(
        "embedded",
        "Storage backend holding the index, by name: embedded (one directory), sharded (shard "
        "directories on this machine) or ray (shards served by Ray Serve; docs/distributed.md).",
    )
    host: str = _setting("127.0.0.1", "Address the server listens on.")
    port: int = _setting(8080, "Port the server listens on.")
    workers: int = _setting(1, "Server worker processes.")
    public_url: str = _setting("", "Base URL clients reach the server at (default: from Host).")
    require_key: bool = _setting(True, "Require Ocp-Apim-Subscription-Key on API calls.")
    max_upload_bytes: int = _setting(1_048_576, "Largest image accepted by upload.")
    refresh_seconds: float = _setting(0.5, "How often the server looks for new commits.")
    dup_distance: int = _setting(6, "Hamming distance under which images are near-duplicates.")
    result_cache: int = _setting(
        4096,
        "Search answers each serving process keeps for the commit it reads, most recently "
        "used (about 5 KB each; 0: none). A query asked again skips the text engine.",
    )
    gc_young: int = _setting(
        20_000,
        "Allocations between the garbage collector's young passes in a serving process "
        "(Python's default is 700; 0 keeps Python's). A request makes thousands of short-lived "
        "objects, so at 700 a worker ran a pass every few requests.",
    )
    commit_every: int = _setting(2000, "Ingestion commits after this many new images.")
    distributor: str = _setting(
        "local",
        "Who runs the image pipeline of ingest, crawl, import-warc and import-urls, and "
        "writes the shards of index build and reindex: local (this machine) or ray (Ray "
        "workers on the cluster ray_address names; docs/distributed.md).",
    )
    shard_files: int = _setting(
        256, "Files per input shard when ingest writes feature shards (ray, or --features)."
    )
    shard_attempts: int = _setting(
        3,
        "Tries of an input shard before a distributed ingest reports it failed (of an image "
        "whose Ray worker died, in a crawl; of an index shard, before index build or reindex "
        "on Ray stops).",
    )
    query_log_days: int = _setting(90, "Days of search counts kept for trending.")
    admin_key: str = _setting(
        "", "Key guarding the /admin API (empty: /admin is off).", secret=True
    )
    state_backend: str = _setting(
        "sqlite",
        "Where keys, instances, usage and the query log live: sqlite (service.db in the index "
        "directory; one machine) or postgres (postgres_url; shared by servers on several "
        "machines).",
    )
    postgres_url: str = _setting(
        "",
        "PostgreSQL of the postgres state backend, a libpq URL or key=value string "
        "(postgresql://user:password@host:5432/pixsearch).",
        secret=True,
    )
    rate_limit_backend: str = _setting(
        "",
        "Where rate-limit counters live: sqlite|postgres|redis (empty: with the rest of the "
        "service state, as state_backend says).",
    )
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
    model_cache: str = _setting(
        "", "Folder for ONNX graphs built from model weights (empty: ~/.cache/pixsearch/models)."
    )
    visual_int8: bool = _setting(
        False,
        "Run EfficientNet-Lite0 (the visual analyzer, search by image) as an int8 graph: about "
        "half its CPU, embeddings at a median cosine of 0.99 to the float graph's. For a new "
        "index only: its stored embeddings and its uploads' must come from the same graph.",
    )
    text_int8: bool = _setting(
        False,
        "Run MiniLM (text vectors, semantic matching) with int8 weights: about 0.6 of its CPU "
        "for image texts, half for queries, vectors at a median cosine of 0.99 to the float "
        "graph's. For a new index only: its stored text vectors and its queries' must come "
        "from the same graph.",
    )
    fetch_private: bool = _setting(False, "Let imgUrl fetches reach private addresses.")
    trending_file: str = _setting("", "YAML/JSON file of curated trending categories.")
    suggestions: bool = _setting(True, "Spelling correction and suggestion lists in answers.")
    page_key: bool = _setting(
        True, "Give the search page a key of its own, limited like any key (off: users bring one)."
    )
    page_key_qps: int = _setting(20, "Calls per second the page key allows, all visitors together.")
    page_key_quota: int = _setting(0, "Calls per month the page key allows (0: no monthly quota).")
    log_format: str = _setting(
        "text",
        "Log lines as text (warnings and errors) or json (from level info, with one access "
        "line per request).",
    )
    log_client_ip: bool = _setting(False, "Put the client's address in access log lines.")
    metrics: bool = _setting(
        True, "Count requests and serve /metrics (guarded by admin_key; off without one)."
    )
    metrics_textfile: str = _setting(
        "",
        "Prometheus textfile (*.prom) that ingest and crawl rewrite with their counters every "
        "15 s and at the end (empty: none).",
    )
    shards: str = _setting(
        "",
        "Shard index directories of the sharded and ray backends, comma-separated, shard 0 "
        "first (empty: the shard-0, shard-1, ... folders of index_dir).",
    )
    shard_timeout: float = _setting(
        2.0, "Seconds a sharded answer waits for a shard before answering without it."
    )
    replicas: int = _setting(1, "Ray Serve replicas of each shard (ray backend).")
    ray_address: str = _setting(
        "",
        "Ray cluster the ray backend and the ray distributor join (auto, ray://host:10001; "
        "empty: a local Ray).",
    )
    ray_replica_cpus: float = _setting(
        1.0, "CPUs Ray reserves for each shard and API replica (ray backend)."
    )

    def __repr__(self) -> str:
        # The admin key must never reach a log line through a printed Settings.
        shown = ", ".join(f"{name}={value}" for name, value, _ in self.describe())
        return f"Settings({shown})"

    @staticmethod
    def specs() -> tuple[SettingSpec, ...]:
        """Every setting's declaration, in the order of the class."""
        return _specs()

    @staticmethod
    def spec(name: str) -> SettingSpec:
        for spec in _specs():
            if spec.name == name:
                return spec
        raise KeyError(f"no setting {name!r}")

    @classmethod
    def resolve(cls, name: str, override: Any = None) -> Any:
        """One setting's value: ``override`` unless None, else its variable, else the default."""
        return cls.spec(name).resolve(override)

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Explicit overrides (None means unset) win over PIXSEARCH_* variables over defaults."""
        unknown = set(overrides) - {spec.name for spec in _specs()}
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        return cls(**{spec.name: spec.resolve(overrides.get(spec.name)) for spec in _specs()})

    @classmethod
    def in_environment(cls, name: str) -> bool:
        """Whether the environment names this setting (an empty value counts)."""
        return cls.spec(name).env in os.environ

    @property
    def analyzer_names(self) -> tuple[str, ...]:
        """`analyzers` as names: 'nudenet, Visual,,nudenet' → ('nudenet', 'visual')."""
        return parse_names(self.analyzers)

    def to_environ(self) -> dict[str, str]:
        """Every setting as the variables ``load`` reads back to equal Settings.

        How the server hands its settings to worker processes that build their own app.
        """
        return {spec.env: _format(getattr(self, spec.name)) for spec in self.specs()}

    def describe(self) -> list[tuple[str, str, str]]:
        """(name, value as shown, help) per setting; secrets show as *** when set."""
        return [
            (spec.name, spec.show(getattr(self, spec.name)), spec.help) for spec in self.specs()
        ]


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """One setting's declaration: what the CLI, the docs and the environment share."""

    name: str
    type_name: str  # bool, int, float, str or Path
    default: Any
    help: str
    secret: bool

    @classmethod
    def of(cls, declared: Any) -> SettingSpec:
        kind = declared.type if isinstance(declared.type, str) else declared.type.__name__
        return cls(
            name=declared.name,
            type_name=kind,
            default=declared.default,
            help=declared.metadata["help"],
            secret=declared.metadata["secret"],
        )

    @property
    def env(self) -> str:
        return f"{ENV_PREFIX}{self.name.upper()}"

    def resolve(self, override: Any = None) -> Any:
        raw = override if override is not None else os.environ.get(self.env)
        return self.default if raw is None else _convert(self.name, self.type_name, raw)

    def show(self, value: Any) -> str:
        if self.secret and value:
            return "***"
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)


@cache
def parse_names(text: str) -> tuple[str, ...]:
    """A comma-separated list of names, lower-cased; blanks and repeats dropped, order kept."""
    names = (part.strip().lower() for part in text.split(","))
    return tuple(dict.fromkeys(name for name in names if name))


def _specs() -> tuple[SettingSpec, ...]:
    return tuple(SettingSpec.of(declared) for declared in fields(Settings))


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _convert(name: str, kind_name: str, raw: Any) -> Any:
    try:
        if kind_name == "bool":
            if isinstance(raw, bool):
                return raw
            if str(raw).lower() in _TRUE:
                return True
            if str(raw).lower() in _FALSE:
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


def settings_markdown() -> str:
    """docs/settings.md: one row per setting, generated so that it cannot drift."""
    lines = [
        "# Settings",
        "",
        "<!-- Generated from src/pixsearch/config.py by "
        "`python -m pixsearch.config > docs/settings.md`; do not edit by hand. -->",
        "",
        "Every setting is read from, first to last: a command-line option where the command has "
        f"one (`--port` for `port`), the environment variable `{ENV_PREFIX}<NAME>`, the default. "
        "Booleans accept "
        + "/".join(f"`{a}`/`{b}`" for a, b in zip(_TRUE, _FALSE, strict=True))
        + ". "
        "`pixsearch settings` prints the values in effect (secrets masked).",
        "",
        "| Setting | Environment variable | Type | Default | Description |",
        "|---|---|---|---|---|",
    ]
    for spec in Settings.specs():
        default = spec.show(spec.default)
        cells = (
            f"`{spec.name}`",
            f"`{spec.env}`",
            spec.type_name.lower(),
            f"`{default}`" if default else "(empty)",
            spec.help.replace("|", "\\|"),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(settings_markdown())
