"""A crawl's images fetched and processed on Ray; the frontier stays in the command.

The crawl keeps what must be one per crawl: the frontier, robots.txt, the scope
checks of every redirect hop, and each host's gate (one request at a time, the
crawl delay between them). Each request of an image's fetch is made by a Ray
actor, under the command's gate: the actor reads the response within the
timeout and size cap, through its own checked client (so its node's connections
are checked as the command's would be), answers the status and headers, and
keeps the body of an answer the crawl takes (no redirect, no error). The gate
is then free for the host's next request while the same actor runs the
pipeline on the body it holds. So neither an image's bytes nor its fetching
pass through the command: only the place it was found and the outcome (facts
and thumbnail) travel.

One actor per CPU of the cluster, each with its models loaded once and one
pipeline at a time; an image goes to the actor with the fewest images under way.
An actor that dies (a decoder's segfault, the OOM killer) is restarted by Ray,
and calls to it meanwhile are waited for (RESTART_WAIT). An image whose body
died with its actor is fetched again and processed by another, ``attempts``
tries in all, after which the crawler counts it as crashed. A fetch made again
after a death does not wait for the host's gate: the one exception to the
crawl's politeness, and only after a worker died.

Ray is imported only when this is built: ``pip install 'pixsearch[ray]'``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from pixsearch.crawl.crawler import check_and_process
from pixsearch.crawl.fetcher import REDIRECTS, Fetcher, FetchFailed, FetchSettings, Response
from pixsearch.crawl.transport import checked_client
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.distributors import ATTEMPTS, join_ray
from pixsearch.ingest.parallel import Outcome, tune_worker_memory
from pixsearch.models.analyzer import load_analyzer
from pixsearch.records import Occurrence, Rejection

try:
    import ray
    from ray.exceptions import ActorUnavailableError, RayActorError
except ImportError as exc:  # the CLI turns this into a message naming the extra
    raise ImportError(f"{exc}; install it with: pip install 'pixsearch[ray]'") from exc

KEPT = 256  # bodies an actor holds between a fetch and its pipeline; far above the in-flight
CONNECTIONS = 32  # an actor's connection pool: it serves every crawl worker's requests
# Ray answers a call to an actor that is restarting with ActorUnavailableError for as long
# as the restart takes (its models load again): waited for, within reason.
RESTART_WAIT = 60.0
RETRY_PAUSE = 0.2


@dataclass(frozen=True, slots=True)
class Fetched:
    """What one request answered, as it crosses back: the body stays with the actor."""

    url: str
    status: int
    headers: dict[str, str]
    key: int | None = None  # the kept body's key: for what the crawl takes, not a redirect
    failure: tuple[str, str, int | None] | None = None  # FetchFailed's reason, detail, status


class ImageWorker:
    """A Ray actor: makes requests, keeps the bodies the crawl takes, runs the pipeline on one."""

    def __init__(self, settings: FetchSettings, config: PipelineConfig) -> None:
        tune_worker_memory()
        for name in config.analyzers:
            load_analyzer(name)  # cached per process: every image of this actor reuses it
        self.settings = settings
        self.config = config
        self.kept: OrderedDict[int, Response] = OrderedDict()
        self.keys = itertools.count()
        self._fetcher: Fetcher | None = None
        self._one: asyncio.Semaphore | None = None

    async def fetch(self, url: str, headers: dict[str, str]) -> Fetched:
        fetcher = self._fetcher or self._start()
        try:
            await fetcher.check_host(url)
            response = await fetcher.request(url, headers)
        except FetchFailed as exc:
            return Fetched(url, 0, {}, failure=(exc.reason, exc.detail, exc.status))
        key = None
        if response.status < 400 and response.status not in REDIRECTS:  # what the crawl keeps
            key = next(self.keys)
            self.kept[key] = response
            while len(self.kept) > KEPT:  # a crawl stopped between fetch and pipeline
                self.kept.popitem(last=False)
        return Fetched(response.url, response.status, response.headers, key)

    async def process(self, key: int, occurrence: Occurrence) -> Outcome:
        response = self.kept.pop(key)
        self._one = self._one or asyncio.Semaphore(1)
        async with self._one:  # one pipeline at a time: the actor holds one CPU
            return await asyncio.to_thread(check_and_process, response, occurrence, self.config)

    async def fetch_and_process(self, url: str, occurrence: Occurrence) -> Outcome | Fetched:
        """An image again, after the actor that held it died: its outcome, or why not."""
        fetched = await self.fetch(url, {})
        if fetched.key is None:
            return fetched
        return await self.process(fetched.key, occurrence)

    def _start(self) -> Fetcher:
        """The client, made in the actor's own event loop on its first request."""
        client = checked_client(
            allow_private=self.settings.allow_private,
            timeout=self.settings.timeout,
            headers={"User-Agent": self.settings.user_agent},
            max_connections=CONNECTIONS,
        )
        self._fetcher = Fetcher(client, self.settings)
        return self._fetcher


class RayImages:
    """A crawl's RemoteImages (crawl.crawler) on the Ray at `address` (a local one started
    for the crawl without): `workers` actors, default one per CPU of the cluster."""

    def __init__(
        self, *, address: str = "", attempts: int = ATTEMPTS, workers: int | None = None
    ) -> None:
        self.address = address
        self.attempts = attempts
        self.workers = workers
        self.actors: list[_Actor] = []
        self._started_here = False

    def __enter__(self) -> RayImages:
        self._started_here = join_ray(self.address)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()
        if self._started_here:
            ray.shutdown()

    def start(self, fetch: FetchSettings, config: PipelineConfig) -> int:
        """Start the actors; how many images the crawl should have under way to keep them
        busy (two each: one in its pipeline, one being fetched)."""
        self._stop()
        cores = int(ray.cluster_resources().get("CPU", 1))
        # Restarted when it dies; a request it held is not retried by Ray but by RayImage,
        # on another actor, so one poisonous image cannot hang the crawl.
        worker = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=0)(ImageWorker)
        count = self.workers or max(cores, 1)
        self.actors = [_Actor(worker.remote(fetch, config)) for _ in range(count)]
        return 2 * count

    def _stop(self) -> None:
        for actor in self.actors:
            ray.kill(actor.handle)
        self.actors = []

    def image(self, occurrence: Occurrence) -> RayImage:
        return RayImage(self, occurrence)

    def claim(self) -> _Actor:
        actor = min(self.actors, key=lambda a: a.busy)
        actor.busy += 1
        return actor

    def release(self, actor: _Actor | None) -> None:
        if actor is not None:
            actor.busy -= 1


@dataclass(slots=True)
class _Actor:
    handle: Any
    busy: int = 0  # images under way on it


@dataclass(slots=True)
class RayImage:
    """One image of the crawl, on one actor from the request that got its body to its
    outcome (crawl.crawler.RemoteImage)."""

    pool: RayImages
    occurrence: Occurrence
    actor: _Actor | None = None
    fetched: Fetched | None = None
    lost: int = 0  # tries lost to a dead actor

    async def hop(self, url: str, headers: dict[str, str]) -> Response:
        self.actor = self.actor or self.pool.claim()
        fetched: Fetched = await self._call("fetch", url, headers)
        self.fetched = fetched
        if fetched.key is None:  # no body kept: the image is not on this actor (yet)
            self.pool.release(self.actor)
            self.actor = None
        if fetched.failure is not None:
            raise FetchFailed(*fetched.failure)
        return Response(fetched.url, fetched.status, fetched.headers, b"")

    async def outcome(self) -> Outcome:
        """The pipeline's outcome for the body the last request kept."""
        fetched = self.fetched
        if self.actor is None or fetched is None or fetched.key is None:
            raise RuntimeError("outcome() of an image whose fetch kept no body")
        try:
            result: Outcome = await self.actor.handle.process.remote(fetched.key, self.occurrence)
            return result
        except RayActorError:  # died or restarting: either way the body it held is gone
            return await self._again(fetched.url)
        finally:
            self.pool.release(self.actor)
            self.actor = None

    async def _again(self, url: str) -> Outcome:
        """Fetch and process on another actor: the try that held the body is lost."""
        self._next_actor()
        result: Outcome | Fetched = await self._call("fetch_and_process", url, self.occurrence)
        if isinstance(result, Fetched):  # this fetch failed where the first had not
            reason, detail, _ = result.failure or (f"http-{result.status}", "", None)
            return Rejection(url, reason, detail)
        return result

    async def _call(self, method: str, *args: Any) -> Any:
        """`method` on this image's actor. One that is restarting (or out of reach for a
        moment) is waited for, RESTART_WAIT seconds at most, trying the least busy actor
        each time; one that died, or waited for too long, costs a try."""
        waited = 0.0
        while True:
            actor = self.actor or self.pool.claim()
            self.actor = actor
            try:
                return await getattr(actor.handle, method).remote(*args)
            except ActorUnavailableError:
                if waited >= RESTART_WAIT:
                    self._next_actor()
                    waited = 0.0
                    continue
                await asyncio.sleep(RETRY_PAUSE)
                waited += RETRY_PAUSE
                self.pool.release(actor)
                self.actor = None
            except RayActorError:
                self._next_actor()

    def _next_actor(self) -> None:
        """Count a try lost to a dead actor and move to another; raise past the last."""
        self.lost += 1
        self.pool.release(self.actor)
        self.actor = None
        if self.lost >= self.pool.attempts:
            raise RuntimeError(f"its Ray actor died on each of {self.pool.attempts} attempts")
        self.actor = self.pool.claim()
