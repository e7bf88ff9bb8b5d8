"""`pixsearch serve` stops with one clear message when its service state cannot run.

Before any worker starts: otherwise each worker died with a traceback while
uvicorn started it again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_models_cli import pixsearch


def refused(index_dir: Path, *, pythonpath: Path | None = None, **env: str) -> str:
    # Port 9 is never reached: the check comes before uvicorn binds anything.
    result = pixsearch(
        "serve", "--index", str(index_dir), "--port", "9", pythonpath=pythonpath, **env
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_an_unreachable_redis_stops_serve_at_once(index_dir: Path) -> None:
    pytest.importorskip("redis")
    shown = refused(
        index_dir,
        PIXSEARCH_RATE_LIMIT_BACKEND="redis",
        PIXSEARCH_REDIS_URL="redis://127.0.0.1:1/0",
    )
    assert "rate limit backend 'redis' cannot reach redis://127.0.0.1:1/0" in shown


def test_a_missing_redis_package_says_which_extra(index_dir: Path, tmp_path: Path) -> None:
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "redis.py").write_text('raise ImportError("hidden by the test")\n')
    shown = refused(index_dir, pythonpath=shadow, PIXSEARCH_RATE_LIMIT_BACKEND="redis")
    assert "pip install 'pixsearch[redis]'" in shown


def test_an_unreachable_postgres_stops_serve_at_once(index_dir: Path) -> None:
    pytest.importorskip("psycopg")
    shown = refused(
        index_dir,
        PIXSEARCH_STATE_BACKEND="postgres",
        PIXSEARCH_POSTGRES_URL="postgresql://pixsearch@127.0.0.1:1/pixsearch",
    )
    assert "state backend 'postgres' cannot connect" in shown
