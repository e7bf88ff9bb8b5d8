"""The settings registry and what is derived from it: loading, the CLI options, the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from pixsearch.cli import serve as serve_module
from pixsearch.cli.options import index_option, setting_option
from pixsearch.cli.settings import settings_command
from pixsearch.config import ENV_PREFIX, Settings
from pixsearch.models.cache import cache_dir


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No PIXSEARCH_* variable from the suite's conftest or the shell; restored afterwards."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith(ENV_PREFIX)}
    monkeypatch.setattr(os, "environ", kept)


def test_overrides_beat_the_environment_beat_defaults() -> None:
    os.environ["PIXSEARCH_PORT"] = "9001"
    os.environ["PIXSEARCH_SEMANTIC"] = "off"
    settings = Settings.load(port=None, workers=3)
    assert (settings.port, settings.workers, settings.semantic) == (9001, 3, False)
    assert Settings.load(port="9002").port == 9002
    assert Settings.load().host == Settings.spec("host").default
    assert Settings.in_environment("port") and not Settings.in_environment("host")


def test_unreadable_or_unknown_settings_fail_loudly() -> None:
    os.environ["PIXSEARCH_ADULT_THRESHOLD"] = "high"
    with pytest.raises(ValueError, match="adult_threshold: cannot read 'high' as float"):
        Settings.load()
    with pytest.raises(TypeError, match="unknown settings: prot"):
        Settings.load(prot=1)


def test_to_environ_round_trips_through_load() -> None:
    settings = Settings.load(index_dir="/srv/idx", require_key=False, adult_threshold=0.7)
    variables = settings.to_environ()
    assert variables["PIXSEARCH_REQUIRE_KEY"] == "0"
    assert set(variables) == {spec.env for spec in Settings.specs()}
    os.environ.update(variables)
    assert Settings.load() == settings


def test_secrets_are_masked_only_when_set() -> None:
    shown = dict((name, value) for name, value, _ in Settings.load(admin_key="s3cret").describe())
    assert shown["admin_key"] == "***" and "s3cret" not in repr(Settings.load(admin_key="s3cret"))
    assert dict((n, v) for n, v, _ in Settings.load().describe())["admin_key"] == ""


def test_model_cache_is_a_setting(tmp_path: Path) -> None:
    assert cache_dir() == Path.home() / ".cache" / "pixsearch" / "models"
    os.environ["PIXSEARCH_MODEL_CACHE"] = str(tmp_path)
    assert cache_dir() == tmp_path


@click.command()
@index_option
@setting_option("port")
@setting_option("semantic")
def show(index_dir: Path, port: int, semantic: bool) -> None:
    click.echo(f"{index_dir!r} {port!r} {semantic!r}")


def test_setting_options_take_flag_then_environment_then_default() -> None:
    runner = CliRunner()
    assert runner.invoke(show, []).output.strip() == "PosixPath('pixsearch-index') 8080 True"
    os.environ["PIXSEARCH_PORT"] = "9100"
    os.environ["PIXSEARCH_INDEX_DIR"] = "/srv/from-env"
    assert runner.invoke(show, ["--no-semantic"]).output.strip() == (
        "PosixPath('/srv/from-env') 9100 False"
    )
    assert runner.invoke(show, ["--port", "1", "--index", "x"]).output.strip() == (
        "PosixPath('x') 1 True"
    )
    os.environ["PIXSEARCH_PORT"] = "eighty"
    bad = runner.invoke(show, [])
    assert bad.exit_code == 2 and "port: cannot read 'eighty' as int" in bad.output


def test_setting_options_document_variable_and_default() -> None:
    help_text = " ".join(CliRunner().invoke(show, ["--help"]).output.split())
    assert (
        "--port INTEGER Port the server listens on. [env var: PIXSEARCH_PORT; default: 8080]"
        in (help_text)
    )
    assert "--semantic / --no-semantic" in help_text


def test_serve_hands_its_settings_to_workers_through_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(serve_module.uvicorn, "run", lambda app, **kw: calls.append(kw))
    (tmp_path / "meta.db").touch()
    os.environ["PIXSEARCH_PUBLIC_URL"] = "https://img.example"
    result = CliRunner().invoke(
        serve_module.serve, ["--index", str(tmp_path), "--port", "8181", "--no-auth"]
    )
    assert result.exit_code == 0, result.output
    assert calls[0]["port"] == 8181 and calls[0]["host"] == "127.0.0.1"
    worker = Settings.load()  # what a worker's create_app reads
    assert worker.index_dir == tmp_path.resolve() and worker.port == 8181
    assert worker.require_key is False and worker.public_url == "https://img.example"


def test_settings_command_shows_effective_values_masked() -> None:
    os.environ["PIXSEARCH_ADMIN_KEY"] = "very-secret"
    os.environ["PIXSEARCH_QUERY_LOG_DAYS"] = "7"
    out = CliRunner().invoke(settings_command, []).output
    assert "very-secret" not in out and "***" in out
    (row,) = [line for line in out.splitlines() if "query_log_days" in line]
    assert "7" in row and "environment" in row
