from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from pixsearch.ingest import parallel
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.parallel import CHUNK_SIZE, IN_FLIGHT_PER_WORKER, process_many
from pixsearch.ingest.pipeline import Processed
from pixsearch.records import Rejection


@pytest.fixture
def folder(kit, write) -> list[Path]:
    paths = [write(f"img{i:02d}.png", kit.photo(i, 96, 64)) for i in range(10)]
    paths.append(write("empty.jpg", b""))
    paths.append(write("text.png", b"not an image"))
    return paths


def by_source(results: Iterator[Processed | Rejection]) -> dict[str, Processed | Rejection]:
    out: dict[str, Processed | Rejection] = {}
    for result in results:
        source = result.occurrence.source if isinstance(result, Processed) else result.source
        assert source not in out, f"{source} reported twice"
        out[source] = result
    return out


def summary(result: Processed | Rejection) -> str:
    return result.facts.sha256 if isinstance(result, Processed) else result.reason


def test_in_process_and_pool_agree(folder: list[Path]) -> None:
    config = PipelineConfig()
    serial = by_source(process_many(folder, config, workers=1))
    pooled = by_source(process_many(iter(folder), config, workers=2))
    assert set(serial) == {str(p) for p in folder}
    assert {k: summary(v) for k, v in serial.items()} == {k: summary(v) for k, v in pooled.items()}
    assert summary(serial[str(folder[-2])]) == "empty"
    assert summary(serial[str(folder[-1])]) == "not-an-image"


def test_input_is_consumed_lazily(write) -> None:
    path = write("one.png", Image.new("RGB", (8, 8), "red"))
    pulled = 0

    def endless() -> Iterator[Path]:
        nonlocal pulled
        while True:
            pulled += 1
            yield path

    results = process_many(endless(), PipelineConfig(), workers=2)
    first = [next(results) for _ in range(3)]
    results.close()  # shuts the pool down
    assert all(isinstance(r, Processed) for r in first)
    assert pulled <= (2 * IN_FLIGHT_PER_WORKER + 1) * CHUNK_SIZE


def test_dead_worker_does_not_end_the_run(folder: list[Path], monkeypatch) -> None:
    real = parallel.process_file

    def segfaulting(path: Path, config: PipelineConfig) -> Processed | Rejection:
        if path.name.startswith("img03") or path.name.startswith("img07"):
            os._exit(139)  # what a decoder segfault or the OOM killer looks like
        return real(path, config)

    # fork, so that the patched function is what the workers run.
    monkeypatch.setattr(parallel, "process_file", segfaulting)
    runner = parallel._PoolRunner(
        PipelineConfig(), workers=2, context=multiprocessing.get_context("fork")
    )
    results = by_source(runner.run(folder))
    assert set(results) == {str(p) for p in folder}
    crashed = sorted(Path(k).name for k, v in results.items() if summary(v) == "crashed")
    assert crashed == ["img03.png", "img07.png"]
    processed = [v for v in results.values() if isinstance(v, Processed)]
    assert len(processed) == 8


def test_a_worker_tunes_its_memory_without_starting_a_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # ctypes.util.find_library("c") ran `ldconfig -p` as a child of each new worker:
    # a stray process that a kill -9 at that moment would have left behind.
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr("subprocess.Popen", refuse)
    parallel.tune_worker_memory()
