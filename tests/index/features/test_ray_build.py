"""A sharded build on Ray (two nodes of one CPU) writes the very shards one process writes,
retries a shard whose worker dies, and stops cleanly when one keeps failing; a reindex
writes its new shards there too."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pixsearch.cli.main import cli
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.features.folder import FeatureFolder
from pixsearch.index.features.reindex import workspace_of
from tests.index.features.helpers import all_documents, corpus_features, page_counts

ray = pytest.importorskip("ray")
NODE_MEMORY = 80 * 1024 * 1024  # object store per node: the tasks pass only summaries


@pytest.fixture(scope="module")
def ray_nodes() -> Iterator[None]:
    """A real Ray of two nodes (raylets), one CPU each, joined by this process."""
    from ray.cluster_utils import Cluster

    head = {"num_cpus": 1, "object_store_memory": NODE_MEMORY, "include_dashboard": False}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    try:
        cluster.add_node(num_cpus=1, object_store_memory=NODE_MEMORY)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
        yield
    finally:
        ray.shutdown()
        cluster.shutdown()


@pytest.fixture(scope="module")
def features(tmp_path_factory: pytest.TempPathFactory) -> FeatureFolder:
    return corpus_features(tmp_path_factory.mktemp("ray-build"))


@pytest.fixture(scope="module")
def one_process(features: FeatureFolder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same shards, built in this process alone."""
    index = tmp_path_factory.mktemp("one-process") / "index"
    result = invoke(features, index, "--shards", "3")
    assert result.exit_code == 0, result.output
    return index


def invoke(features: FeatureFolder, index: Path, *extra: str) -> Any:
    args = ["index", "build", features.location, "--index", str(index), *extra]
    return CliRunner().invoke(cli, args)


def on_ray(features: FeatureFolder, index: Path, *extra: str) -> Any:
    return invoke(features, index, "--shards", "3", "--distributor", "ray", *extra)


def same_shards(built: Path, expected: Path) -> None:
    for i in range(3):
        got, want = EmbeddedStore(built / f"shard-{i}"), EmbeddedStore(expected / f"shard-{i}")
        assert all_documents(got) == all_documents(want)  # same doc ids, groups and places
        assert page_counts(got) == page_counts(want)


def test_shards_written_on_ray_equal_those_of_one_process(
    features: FeatureFolder, one_process: Path, tmp_path: Path, ray_nodes: None
) -> None:
    result = on_ray(features, tmp_path / "index")
    assert result.exit_code == 0, result.output
    same_shards(tmp_path / "index", one_process)
    spread = [EmbeddedStore(one_process / f"shard-{i}") for i in range(3)]
    assert sum(1 for store in spread if all_documents(store)) > 1  # the corpus really was spread
    assert re.search(r"Ray nodes that wrote shards\W+2\b", result.output)  # both nodes wrote


def test_one_shard_on_ray_equals_one_built_here(
    features: FeatureFolder, tmp_path: Path, ray_nodes: None
) -> None:
    here = invoke(features, tmp_path / "here")
    there = invoke(features, tmp_path / "there", "--distributor", "ray")
    assert here.exit_code == 0 and there.exit_code == 0, here.output + there.output
    got, want = EmbeddedStore(tmp_path / "there"), EmbeddedStore(tmp_path / "here")
    assert all_documents(got) == all_documents(want)


def test_ray_map_is_map_on_ray(ray_nodes: None) -> None:
    from pixsearch.index.features.ray_build import ray_map

    assert ray_map(json.loads, ["3", "[1, 2]", "{}", "0"]) == [3, [1, 2], {}, 0]  # in order
    with pytest.raises(json.JSONDecodeError):  # the task's own error, as its own type
        ray_map(json.loads, ["1", "x"])


def writer_of(folder: Path) -> int | None:
    """Another process with a file under `folder` open: the Ray worker writing it."""
    inside = f"{folder}/"
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            links = [os.readlink(fd.path) for fd in os.scandir(f"{entry.path}/fd")]
        except OSError:  # gone meanwhile, or not ours
            continue
        if any(link.startswith(inside) for link in links):
            return int(entry.name)
    return None


@contextmanager
def killing_writers(folder: Path, times: int) -> Iterator[list[int]]:
    """SIGKILL each process found writing under `folder`, `times` at most, while the body runs."""
    killed: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set() and len(killed) < times:
            pid = writer_of(folder)
            if pid is not None and pid not in killed:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield killed
    finally:
        stop.set()
        watcher.join()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="finds the writer in /proc")
def test_a_shard_whose_worker_is_killed_is_written_again(
    features: FeatureFolder, one_process: Path, tmp_path: Path, ray_nodes: None
) -> None:
    index = tmp_path / "index"
    with killing_writers(index / "shard-1", times=1) as killed:
        result = on_ray(features, index)
    assert result.exit_code == 0, result.output
    assert len(killed) == 1
    assert "shard 1" in result.output and "attempt 1 failed" in result.output
    same_shards(index, one_process)  # the retry started over, from an empty folder


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="finds the writer in /proc")
def test_a_shard_that_fails_every_attempt_stops_the_build(
    features: FeatureFolder, tmp_path: Path, ray_nodes: None
) -> None:
    index = tmp_path / "index"
    with killing_writers(index / "shard-1", times=2) as killed:
        result = on_ray(features, index, "--shard-attempts", "2")
    assert result.exit_code == 1, result.output  # a message, not a traceback
    assert len(killed) == 2
    assert "index build stopped" in result.output and "shard-1" in result.output
    assert "failed on 2 attempts" in result.output and "WorkerCrashedError" in result.output
    assert not list(index.glob("shard-*"))  # nothing half written: rerun into the same folder
    assert on_ray(features, index).exit_code == 0


def test_what_was_there_before_the_build_is_kept(
    features: FeatureFolder, tmp_path: Path, ray_nodes: None
) -> None:
    index = tmp_path / "index"
    index.mkdir()
    (index / "shard-1").write_text("a file where a shard's folder must go")
    result = on_ray(features, index)
    assert result.exit_code == 1, result.output
    assert "index build stopped" in result.output and "shard-1" in result.output
    assert "not retried" in result.output  # its attempt could not start from an empty folder
    assert (index / "shard-1").read_text().startswith("a file")
    assert not (index / "shard-0").exists() and not (index / "shard-2").exists()


def reporting(written: Any, seconds: float) -> int:
    """A Ray task that writes a record every 10 ms for `seconds`, reporting as a shard does."""
    from pixsearch.index.features.ray_build import _Reporter

    reporter = _Reporter(written, 0, 1)
    reporter.starting()
    done, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        done += 1
        reporter(done)
        time.sleep(0.01)
    return done


def stopped_by_the_build(ref: Any) -> bool:
    """Whether the task of `ref` ended by raising BuildStopped (not cancelled or killed)."""
    from pixsearch.index.features.ray_build import BuildStopped

    try:
        ray.get(ref, timeout=60)
    except ray.exceptions.RayTaskError as exc:
        return isinstance(exc.cause, BuildStopped)
    return False


def test_a_stopped_task_ends_at_its_next_report_uncancelled(ray_nodes: None) -> None:
    # Cancelling a task as it finishes can kill the driver (Ray's "Tried to complete task
    # that was not pending"), so a build stops its tasks by word, not by ray.cancel.
    from pixsearch.index.features.ray_build import _stop, _Written

    written = ray.remote(num_cpus=0)(_Written).remote(1)
    task = ray.remote(num_cpus=1, max_retries=0)(reporting).remote(written, 120.0)
    deadline = time.monotonic() + 60
    while ray.get(written.read.remote()) == [0] and time.monotonic() < deadline:
        time.sleep(0.05)  # until it is writing
    assert ray.get(written.read.remote()) != [0]
    started = time.monotonic()
    _stop([task], written)
    assert time.monotonic() - started < 10  # two reports' time, not STOP_SECONDS
    assert stopped_by_the_build(task)


def test_a_task_started_after_the_stop_writes_nothing(ray_nodes: None) -> None:
    from pixsearch.index.features.ray_build import _Written

    written = ray.remote(num_cpus=0)(_Written).remote(1)
    ray.get(written.stop.remote())
    task = ray.remote(num_cpus=1, max_retries=0)(reporting).remote(written, 120.0)
    assert stopped_by_the_build(task)
    assert ray.get(written.read.remote()) == [0]


def reindex_on_ray(index: Path, *extra: str) -> Any:
    args = ["reindex", "--index", str(index), "--distributor", "ray", *extra]
    return CliRunner().invoke(cli, args)


def test_reindex_on_ray_equals_reindex_here(
    one_process: Path, tmp_path: Path, ray_nodes: None
) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    shutil.copytree(one_process, here)
    shutil.copytree(one_process, there)
    local = CliRunner().invoke(cli, ["reindex", "--index", str(here)])
    assert local.exit_code == 0, local.output
    result = reindex_on_ray(there)
    assert result.exit_code == 0, result.output
    assert re.search(r"Ray nodes that wrote shards\W+2\b", result.output)  # both nodes wrote
    same_shards(there, here)
    same_shards(there, one_process)  # rebuilt under the same schema: nothing moved
    assert not workspace_of(there).exists()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="finds the writer in /proc")
def test_a_reindex_whose_shard_fails_every_attempt_keeps_the_old_index(
    one_process: Path, tmp_path: Path, ray_nodes: None
) -> None:
    index = tmp_path / "index"
    shutil.copytree(one_process, index)
    with killing_writers(workspace_of(index) / "index" / "shard-1", times=2) as killed:
        result = reindex_on_ray(index, "--shard-attempts", "2")
    assert result.exit_code == 1, result.output  # a message, not a traceback
    assert len(killed) == 2
    assert "reindex stopped" in result.output and "failed on 2 attempts" in result.output
    same_shards(index, one_process)  # the old shards, untouched and still readable
    assert not workspace_of(index).exists()
    assert reindex_on_ray(index).exit_code == 0  # the lock was let go: a rerun works
    same_shards(index, one_process)
