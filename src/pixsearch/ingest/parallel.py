"""Run the pipeline on all cores, with flat memory and survival of dying workers.

Paths are consumed lazily and at most ``workers * IN_FLIGHT_PER_WORKER`` small
chunks are in flight, so millions of files cost no more memory than a hundred.
A worker that dies (segfault in a decoder, OOM kill) breaks the whole pool in
``concurrent.futures``; the pool is rebuilt and the paths whose chunks were lost
are retried one at a time, alone in the pool, so that only the real culprit is
reported as Rejection("crashed").
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from itertools import islice
from multiprocessing.context import BaseContext
from pathlib import Path

from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.pipeline import Processed, process_file
from pixsearch.records import Rejection

CHUNK_SIZE = 4  # paths per task: amortises IPC, keeps crash blast radius small
IN_FLIGHT_PER_WORKER = 3

Outcome = Processed | Rejection


def process_many(
    paths: Iterable[Path], config: PipelineConfig, *, workers: int | None = None
) -> Iterator[Outcome]:
    """Process ``paths`` on ``workers`` processes (default: all cores); results out of order.

    ``workers=1`` runs in this process, without a pool (tests, profiling).
    """
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1:
        for path in paths:
            yield process_file(Path(path), config)
        return
    yield from _PoolRunner(config, workers=count, context=default_context()).run(paths)


def default_context() -> BaseContext:
    """forkserver where available: fork-safe in threaded hosts (the API server), cheap restarts."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _process_chunk(paths: tuple[Path, ...], config: PipelineConfig) -> list[Outcome]:
    """Worker entry point; top level so that spawn/forkserver can pickle it by name."""
    return [process_file(path, config) for path in paths]


class _PoolRunner:
    def __init__(
        self,
        config: PipelineConfig,
        *,
        workers: int,
        context: BaseContext,
        task: Callable[[tuple[Path, ...], PipelineConfig], list[Outcome]] = _process_chunk,
    ) -> None:
        self.config = config
        self.workers = workers
        self.context = context
        self.task = task
        self.max_in_flight = workers * IN_FLIGHT_PER_WORKER
        self.suspects: deque[Path] = deque()  # paths lost in a pool crash, to retry alone
        self.pool: ProcessPoolExecutor | None = None
        self.in_flight: dict[Future[list[Outcome]], tuple[Path, ...]] = {}

    def run(self, paths: Iterable[Path]) -> Iterator[Outcome]:
        chunks = _chunked(paths, CHUNK_SIZE)
        exhausted = False
        try:
            self.pool = self._new_pool()
            while True:
                if self.suspects:
                    yield from self._retry_suspects()
                    continue
                exhausted = exhausted or not self._fill(chunks)
                if not self.in_flight:
                    if exhausted:
                        return
                    continue
                yield from self._collect()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True, cancel_futures=True)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=self.context)

    def _fill(self, chunks: Iterator[tuple[Path, ...]]) -> bool:
        """Top up the in-flight tasks; False once the input is exhausted."""
        assert self.pool is not None
        while len(self.in_flight) < self.max_in_flight:
            chunk = next(chunks, None)
            if chunk is None:
                return False
            self.in_flight[self.pool.submit(self.task, chunk, self.config)] = chunk
        return True

    def _collect(self) -> Iterator[Outcome]:
        """Yield the results of finished tasks; on a pool crash, queue the lost paths."""
        done, _ = wait(self.in_flight, return_when=FIRST_COMPLETED)
        broken = False
        for future in done:
            chunk = self.in_flight.pop(future)
            try:
                yield from future.result()
            except BrokenProcessPool:
                broken = True
                self.suspects.extend(chunk)
            except Exception as exc:  # e.g. a result that would not pickle
                yield from (_crashed(p, exc) for p in chunk)
        if broken:
            # Every other in-flight task died with the pool too.
            for future, chunk in self.in_flight.items():
                future.cancel()
                self.suspects.extend(chunk)
            self.in_flight.clear()
            self._restart()

    def _retry_suspects(self) -> Iterator[Outcome]:
        """Run each suspect alone: if the pool breaks now, that path is the culprit."""
        assert self.pool is not None
        while self.suspects:
            path = self.suspects.popleft()
            future = self.pool.submit(self.task, (path,), self.config)
            try:
                yield from future.result()
            except BrokenProcessPool as exc:
                yield Rejection(_source(path), "crashed", f"worker died: {exc}"[:500])
                self._restart()
            except Exception as exc:
                yield _crashed(path, exc)

    def _restart(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = self._new_pool()


def _chunked(paths: Iterable[Path], size: int) -> Iterator[tuple[Path, ...]]:
    iterator = iter(paths)
    while chunk := tuple(Path(p) for p in islice(iterator, size)):
        yield chunk


def _source(path: Path) -> str:
    return os.path.abspath(path)


def _crashed(path: Path, exc: BaseException) -> Rejection:
    return Rejection(_source(path), "crashed", f"{type(exc).__name__}: {exc}"[:500])
