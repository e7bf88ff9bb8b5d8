"""Run the pipeline on all cores, with flat memory and survival of dying workers.

Paths are consumed lazily and at most ``workers * IN_FLIGHT_PER_WORKER`` small
chunks are in flight, so millions of files cost no more memory than a hundred.
A worker that dies (segfault in a decoder, OOM kill) breaks the whole pool in
``concurrent.futures``; the pool is rebuilt and the paths whose chunks were lost
are retried one at a time, alone in the pool, so that only the real culprit is
reported as Rejection("crashed"). The other way round, workers end with the
process that owns the pool however it ends, ``kill -9`` included (lifeline.py).
"""

from __future__ import annotations

import ctypes
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
from pixsearch.lifeline import die_with
from pixsearch.records import Rejection

CHUNK_SIZE = 4  # paths per task: amortises IPC, keeps crash blast radius small
IN_FLIGHT_PER_WORKER = 3

# glibc mallopt parameters and the values workers use (see tune_worker_memory).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
WORKER_MMAP_THRESHOLD = 32 * 1024 * 1024
WORKER_TRIM_THRESHOLD = 128 * 1024 * 1024

Outcome = Processed | Rejection


def process_many(
    paths: Iterable[Path], config: PipelineConfig, *, workers: int | None = None
) -> Iterator[Outcome]:
    """Process ``paths`` on ``workers`` processes (default: all cores); results out of order.

    ``workers=1`` runs in this process, without a pool (tests, profiling).
    """
    count = workers if workers is not None else usable_cores()
    if count <= 1:
        for path in paths:
            yield process_file(Path(path), config)
        return
    yield from _PoolRunner(config, workers=count, context=default_context()).run(paths)


def usable_cores() -> int:
    """Cores this process may run on (affinity masks, cpusets), not all the machine has."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def default_context() -> BaseContext:
    """forkserver where available: fork-safe in threaded hosts (the API server), cheap restarts.

    The server process imports the pipeline (numpy, Pillow) once; workers forked
    from it, including replacements after a crash, start warm.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([_process_chunk.__module__])
    return context


def tune_worker_memory() -> None:
    """Let a worker reuse freed memory for the next image instead of returning it to the OS.

    glibc serves blocks over 128 KiB (the file's bytes, the decoded frame, the
    thumbnail) with mmap and unmaps them on free, so every image pays ~500 page
    faults, about 1.5 ms of kernel time or a fifth of a 1-MP JPEG's budget. Its
    adaptive threshold learns to avoid that only sometimes. Blocks over 32 MiB
    (huge PNGs) are still unmapped on free, so a worker keeps at most ~160 MiB
    of slack. No-op where mallopt does not exist (musl, macOS, Windows).
    """
    try:
        # The symbols already loaded, libc's among them. ctypes.util.find_library
        # would run `ldconfig -p` as a child of the worker.
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # TypeError: Windows has no CDLL(None)
        return
    mallopt(_M_MMAP_THRESHOLD, WORKER_MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, WORKER_TRIM_THRESHOLD)


def _start_worker(owner_pid: int) -> None:
    """Pool initializer: follow the owner out (kill -9 included), then tune memory."""
    die_with(owner_pid)
    tune_worker_memory()


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
        self.unsent: deque[tuple[Path, ...]] = deque()  # refused by a broken pool, never ran
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
                    if exhausted and not self.unsent:
                        return
                    continue
                yield from self._collect()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True, cancel_futures=True)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self.context,
            initializer=_start_worker,
            initargs=(os.getpid(),),
        )

    def _fill(self, chunks: Iterator[tuple[Path, ...]]) -> bool:
        """Top up the in-flight tasks; False once the input is exhausted."""
        assert self.pool is not None
        while len(self.in_flight) < self.max_in_flight:
            chunk = self.unsent.popleft() if self.unsent else next(chunks, None)
            if chunk is None:
                return False
            try:
                future = self.pool.submit(self.task, chunk, self.config)
            except BrokenProcessPool:
                # A worker died since the last look. Its in-flight futures will
                # report it; with none in flight (an idle worker was killed),
                # nobody will, so restart here.
                self.unsent.append(chunk)
                if not self.in_flight:
                    self._restart()
                return True
            self.in_flight[future] = chunk
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
            yield from self._salvage()
            self._restart()

    def _salvage(self) -> Iterator[Outcome]:
        """After a crash: keep the results that made it, suspect every other in-flight path."""
        for future, chunk in self.in_flight.items():
            if future.done() and not future.cancelled() and future.exception() is None:
                yield from future.result()
            else:
                future.cancel()
                self.suspects.extend(chunk)
        self.in_flight.clear()

    def _retry_suspects(self) -> Iterator[Outcome]:
        """Run each suspect alone: if the pool breaks now, that path is the culprit."""
        while self.suspects:
            path = self.suspects.popleft()
            try:
                future = self._submit_alone(path)
                yield from future.result()
            except BrokenProcessPool as exc:
                yield Rejection(_source(path), "crashed", f"worker died: {exc}"[:500])
                self._restart()
            except Exception as exc:
                yield _crashed(path, exc)

    def _submit_alone(self, path: Path) -> Future[list[Outcome]]:
        assert self.pool is not None
        try:
            return self.pool.submit(self.task, (path,), self.config)
        except BrokenProcessPool:
            self._restart()  # broken before this path ran: not its fault
            return self.pool.submit(self.task, (path,), self.config)

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
