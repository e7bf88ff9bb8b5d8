"""The shards of a sharded build written by Ray tasks, so a build can use several machines.

The plan is parallel.py's (``build_sharded``): the grouping pass runs once (its
candidate pairs found by Ray tasks through ``ray_map``, its resolution here, in
order), then each shard's write is one Ray task of one CPU, given its
``ShardJob``. The task reopens the feature folder by its location (a path every
node sees, or any ``pyarrow.fs`` URI) and writes its shard folder in place, as an
embedded index: so the index folder must be a path every node sees, the same on
each (a shared filesystem). Only the shard's summary travels back.

Failures. Each attempt at a shard starts from an empty folder, so a retry never
builds on what a failed attempt half wrote. This process counts the attempts
(``attempts``, the shard_attempts setting) whatever ended one: an exception in
the task, or the death of its worker or node (the OOM killer, a machine lost).
Ray retries nothing itself (``max_retries=0``): its retry of a dead worker would
start on the dead attempt's files, and a second count beside this one would
double the tries. What the build removes is what it wrote: a shard folder it
created, or the contents of one that was empty before it; never anything that
was there before (so a one-shard build into an existing index is tried once).
When a shard has failed every attempt the other tasks are stopped, every folder
the build wrote is removed, and ``ShardFailed`` names the shard and the reason.
If this process dies, Ray ends the tasks it owns.

Stopping. The tasks are told to stop through the progress actor and end at their
next report (``BuildStopped``); only a task still running ``STOP_SECONDS`` later
(in a long step that reports nothing, such as its last commit) is cancelled.
Cancelling a task that is just finishing can kill this process: Ray 2.60 fails
the task at once, and its reply, already on the way, then trips Ray's check
"Tried to complete task that was not pending" (seen in this project's CI, in a
build whose other shards were finishing as one failed).

Progress: each task reports its count of records written, at most every
``POLL_SECONDS``, to a small actor that this process reads as often.

Ray must be initialised (joined) by the caller: ``ray.remote`` calls here would
otherwise start a local Ray of their own.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import ray
    from ray.exceptions import RayError, RayTaskError
except ImportError as exc:  # the command says so, rather than a traceback
    raise ImportError(f"{exc}; install it with: pip install 'pixsearch[ray]'") from exc

from pixsearch.index.features.build import BuildSummary, Progress
from pixsearch.index.features.folder import FeatureFolder
from pixsearch.index.features.parallel import (
    POLL_SECONDS,
    OpenTarget,
    ShardJob,
    build_sharded,
    write_shard,
)

ATTEMPTS = 3  # the shard_attempts setting's default
STOP_SECONDS = 60.0  # how long stopped tasks get to end before they are cancelled
START_SECONDS = 5.0  # how long a starting task waits to hear whether the build still runs

Warn = Callable[[str], None]


class ShardFailed(RuntimeError):
    """A shard failed every attempt; the build stopped."""


class BuildStopped(RuntimeError):
    """In a task: the build was stopped (another shard failed, or it was interrupted)."""


def ray_map(fn: Callable[[Any], Any], items: list[Any], *, attempts: int = ATTEMPTS) -> list[Any]:
    """``list(map(fn, items))``, each item a Ray task of one CPU: a Mapper for grouping.

    The work is pure, so Ray's own retry of a lost worker is right here (up to
    `attempts` tries); an exception in `fn` would recur, and is raised as is.
    """
    task = ray.remote(num_cpus=1, max_retries=attempts - 1)(fn)
    return ray.get([task.remote(item) for item in items])


def build_on_ray(
    features: FeatureFolder,
    folders: Sequence[Path],
    open_target: OpenTarget,
    *,
    attempts: int = ATTEMPTS,
    names: Sequence[str] | None = None,
    commit_every: int = 2000,
    dup_distance: int = 6,
    progress: Progress | None = None,
    warn: Warn | None = None,
) -> BuildSummary:
    """`build_index` into the shards at `folders` (one or more), each shard a Ray task
    on the Ray this process has joined; `warn` hears of each retry."""
    if attempts < 1:
        raise ValueError(f"a shard needs at least one attempt, not {attempts}")
    run = RayShards(open_target, attempts, warn or (lambda text: None))
    summary = build_sharded(
        features,
        folders,
        run,
        names=names,
        commit_every=commit_every,
        dup_distance=dup_distance,
        progress=progress,
        mapper=functools.partial(ray_map, attempts=attempts),
    )
    summary.nodes = len(run.nodes)
    return summary


@dataclass(slots=True)
class _Shard:
    """One shard's job, and what the build may remove of its folder between attempts."""

    job: ShardJob
    created: bool  # nothing was at its path: the folder is the build's
    was_empty: bool  # an empty folder was: its contents are the build's
    attempts: int = 0

    @classmethod
    def of(cls, job: ShardJob) -> _Shard:
        folder = job.folder
        if not folder.exists() and not folder.is_symlink():
            return cls(job, created=True, was_empty=False)
        empty = folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir())
        return cls(job, created=False, was_empty=empty)

    @property
    def retryable(self) -> bool:
        return self.created or self.was_empty

    def clear(self) -> None:
        """Remove what the build wrote here; nothing if the folder held files before it."""
        folder = self.job.folder
        if self.created and folder.exists():
            shutil.rmtree(folder)
        elif self.was_empty:
            for entry in folder.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()

    def name(self) -> str:
        return f"shard {self.job.shard} ({self.job.folder})"


class _Written:
    """A Ray actor: each shard's count of records written, by its latest attempt, and
    whether the build still runs (each report is answered with that)."""

    def __init__(self, shards: int) -> None:
        self.counts = [0] * shards
        self.attempts = [0] * shards
        self.stopped = False

    def report(self, shard: int, attempt: int, done: int) -> bool:
        if attempt >= self.attempts[shard]:  # a lost attempt's late word is dropped
            self.attempts[shard], self.counts[shard] = attempt, done
        return not self.stopped

    def stop(self) -> None:
        self.stopped = True

    def read(self) -> list[int]:
        return self.counts


class RayShards:
    """Writes shard jobs as Ray tasks (parallel.RunJobs), each retried up to `attempts`."""

    def __init__(self, open_target: OpenTarget, attempts: int, warn: Warn) -> None:
        self.open_target = open_target
        self.attempts = attempts
        self.warn = warn
        self.nodes: set[str] = set()  # the Ray nodes that wrote a shard
        # Spread: a shard's writer is a whole CPU's work for its whole build, and Ray's
        # default packing can queue shards on one node while another is idle.
        self._task = ray.remote(num_cpus=1, max_retries=0, scheduling_strategy="SPREAD")(_write)

    def __call__(self, jobs: list[ShardJob], progress: Progress | None) -> list[BuildSummary]:
        shards = [_Shard.of(job) for job in jobs]  # before any task can touch a folder
        # No CPU of its own, so it never keeps a shard waiting; restarted if its node is lost.
        actor = ray.remote(num_cpus=0, max_restarts=-1)(_Written)
        written: Any = actor.remote(len(jobs))  # Ray's stubs know no actor's methods
        in_flight: dict[ray.ObjectRef[tuple[BuildSummary, str]], _Shard] = {}
        try:
            for shard in shards:
                in_flight[self._submit(shard, written)] = shard
            done = self._gather(in_flight, written, progress)
        except BaseException:
            _stop(list(in_flight), written)
            for shard in shards:
                with contextlib.suppress(OSError):  # the error that stopped us matters more
                    shard.clear()
            raise
        finally:
            ray.kill(written)
        return [done[job.shard] for job in jobs]

    def _submit(self, shard: _Shard, written: Any) -> ray.ObjectRef[tuple[BuildSummary, str]]:
        shard.attempts += 1
        return self._task.remote(shard.job, self.open_target, written, shard.attempts)

    def _gather(
        self,
        in_flight: dict[ray.ObjectRef[tuple[BuildSummary, str]], _Shard],
        written: Any,
        progress: Progress | None,
    ) -> dict[int, BuildSummary]:
        """Each shard's summary once written, retrying failed attempts; progress meanwhile."""
        done: dict[int, BuildSummary] = {}
        while in_flight:
            refs = list(in_flight)
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=POLL_SECONDS)
            for ref in ready:
                shard = in_flight.pop(ref)
                try:
                    done[shard.job.shard], node = ray.get(ref)
                    self.nodes.add(node)
                except RayError as exc:
                    in_flight[self._retry(shard, _reason(exc), written)] = shard
            if progress is not None:
                _show(progress, written, done)
        return done

    def _retry(
        self, shard: _Shard, reason: str, written: Any
    ) -> ray.ObjectRef[tuple[BuildSummary, str]]:
        """The next attempt at `shard`, from an empty folder; ShardFailed after the last."""
        tries = f"{shard.attempts} attempt{'s' if shard.attempts > 1 else ''}"
        if not shard.retryable:
            raise ShardFailed(
                f"{shard.name()} failed: {reason} (not retried: something was at its path "
                "before the build, and an attempt must start from an empty folder)"
            )
        if shard.attempts >= self.attempts:
            raise ShardFailed(f"{shard.name()} failed on {tries}; the last: {reason}")
        shard.clear()
        self.warn(f"{shard.name()}: attempt {shard.attempts} failed ({reason}); retrying")
        return self._submit(shard, written)


def _show(progress: Progress, written: Any, done: dict[int, BuildSummary]) -> None:
    """Records written so far: the finished shards' own counts, the others' last reports."""
    with contextlib.suppress(RayError):  # the count lost with the actor's node: not the build
        counts = ray.get(written.read.remote())
        progress(sum(done[i].records if i in done else n for i, n in enumerate(counts)))


def _write(
    job: ShardJob, open_target: OpenTarget, written: Any, attempt: int
) -> tuple[BuildSummary, str]:
    """In a Ray worker: one attempt at one shard; its summary and the node that wrote it."""
    reporter = _Reporter(written, job.shard, attempt)
    reporter.starting()
    summary = write_shard(job, open_target, reporter)
    return summary, ray.get_runtime_context().get_node_id()


class _Reporter:
    """A task's Progress: its count sent to the actor, at most every POLL_SECONDS, and
    BuildStopped raised once an answer says the build has stopped.

    Reports are not awaited: each call looks at the previous report's answer only if
    it has come, so a stop is heard one report late and writing never waits on it.
    """

    def __init__(self, written: Any, shard: int, attempt: int) -> None:
        self.written, self.shard, self.attempt = written, shard, attempt
        self.last = 0.0
        self.answer: ray.ObjectRef[bool] | None = None

    def starting(self) -> None:
        """Report 0 and wait for the answer: a task that starts after the build stopped
        (it was queued for a CPU) writes nothing."""
        self.answer = self.written.report.remote(self.shard, self.attempt, 0)
        ray.wait([self.answer], timeout=START_SECONDS)
        self._heard()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last >= POLL_SECONDS:
            self.last = now
            self._heard()
            self.answer = self.written.report.remote(self.shard, self.attempt, done)

    def _heard(self) -> None:
        if self.answer is None or not ray.wait([self.answer], timeout=0)[0]:
            return
        answer, self.answer = self.answer, None
        try:
            going = ray.get(answer)
        except RayError:  # the actor is being restarted: its word is not a stop
            return
        if not going:
            raise BuildStopped(f"shard {self.shard}: the build was stopped")


def _stop(refs: list[ray.ObjectRef[tuple[BuildSummary, str]]], written: Any) -> None:
    """End the tasks of `refs` (their output is to be removed) and wait until they have.

    They are told to stop, and end at their next report; those still running after
    STOP_SECONDS are cancelled (see the module's note on why not all at once).
    """
    if not refs:
        return
    with contextlib.suppress(RayError):
        ray.get(written.stop.remote(), timeout=STOP_SECONDS)
    ended, running = ray.wait(refs, num_returns=len(refs), timeout=STOP_SECONDS)
    for ref in ended:  # read, so that Ray does not print their BuildStopped as unhandled
        with contextlib.suppress(RayError):
            ray.get(ref)
    for ref in running:
        with contextlib.suppress(RayError, ValueError):
            ray.cancel(ref, force=True)  # kills the worker: a store mid-write stops at once
    if running:
        ray.wait(running, num_returns=len(running), timeout=STOP_SECONDS)


def _reason(exc: RayError) -> str:
    """One line: the task's own exception, or what happened to its worker."""
    cause = exc.cause if isinstance(exc, RayTaskError) else None
    if isinstance(cause, BaseException):
        text = f"{type(cause).__name__}: {cause}"
    else:
        lines = str(exc).strip().splitlines()
        text = f"{type(exc).__name__}: {lines[0] if lines else ''}"
    return text[:500]
