"""bench/pipeline_same.py: the old-against-new output check must see what changed."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image
from skimage import data

from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.pipeline import Processed, process_file

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "pipeline_same.py"


@pytest.fixture(scope="module")
def same() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pipeline_same", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["pipeline_same"] = module  # dataclasses and pickle look modules up by name
    spec.loader.exec_module(module)
    return module


def test_two_runs_agree_and_each_change_is_named(same: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(path, quality=90)
    config = PipelineConfig(analyzers=("nudenet", "visual"))
    old, new = process_file(path, config), process_file(path, config)
    assert isinstance(old, Processed) and isinstance(new, Processed)
    assert old.embedding is not None and old.facts.faces  # the near fields are exercised
    assert same.differences(old, new, 1e-5) == ([], 0.0)

    assert new.embedding is not None
    moved = dataclasses.replace(new, embedding=new.embedding + 1e-3)
    assert same.differences(old, moved, 1e-5)[0] == ["floats"]
    assert same.differences(old, moved, 1e-2)[0] == []  # within the tolerance asked
    thumb = dataclasses.replace(new, thumbnail=new.thumbnail + b"\0")
    assert same.differences(old, thumb, 1e-5)[0] == ["thumbnail"]
    facts = dataclasses.replace(new.facts, phash=new.facts.phash ^ 1, faces=())
    assert same.differences(old, dataclasses.replace(new, facts=facts), 1e-5)[0] == [
        "phash",
        "faces",
    ]
