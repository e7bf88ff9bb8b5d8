"""Shards served by Ray Serve: one deployment per shard, a ``ReadStore`` client for each.

Each shard is a deployment (``shard-0``, ``shard-1``, ...) of ``ShardServer``
with ``num_replicas`` replicas, each a read-only embedded index over the
shard's directory (a path the replica's node must see). Its ``call`` runs
a ``ReadStore`` call by name, so the seam stays the only contract; searches
go through ``search_fetched``, several in one call, each with its hits' group
counts (and a short answer's documents), since each round trip through Serve
costs several times the lookup it carries. The ``ray`` backend
(``open_ray``) gives the API a ``ShardedStore`` whose shards are ``RayShard``
clients calling those deployments through ``DeploymentHandle``.

Faults: Serve sends a call to a live replica, and retries by itself when the
replica it picked is found dead before the call starts. A replica that dies
while it holds a call fails that call (``RayActorError``); every ``ReadStore``
call only reads, so ``RayShard`` sends it again, and Serve picks another
replica. A shard with no live replica never answers: the call is cancelled
at the timeout and ``ShardedStore`` answers without that shard.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ray import serve
from ray.exceptions import RayActorError
from ray.serve.exceptions import BackPressureError, RayServeException, ReplicaUnavailableError
from ray.serve.handle import DeploymentHandle

from pixsearch.index import lookalike
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.sharded.kept import LruCache, not_kept
from pixsearch.index.sharded.local import embedded_doc_freqs, shard_dirs
from pixsearch.index.sharded.merge import BULK_TIMEOUT, ShardedStore
from pixsearch.index.sharded.scatter import ShardUnavailable
from pixsearch.index.sharded.termstats import WordCounts
from pixsearch.index.store import (
    BatchSearch,
    Filters,
    PagePlaces,
    PageSource,
    Picture,
    ReadStore,
    StoreHit,
    StoreQuery,
    StoreResult,
    VectorSpace,
)
from pixsearch.index.textindex import RESULTS
from pixsearch.records import ImageDocument

log = logging.getLogger(__name__)

APP_NAME = "pixsearch"  # the Serve application the shards and the ingress belong to
RETRIES = 3  # replicas tried for one call when the one holding it dies
CACHED = 20_000  # documents (and group counts) a shard client keeps
CACHED_SEARCHES = 4096  # search answers a shard client keeps (up to 100 hits each)
# Hits of a search whose group counts come back with it: the search service's rerank
# window (search/ranking.py WINDOW), since a page's group heads come from anywhere in it
# (at 100k documents, the deepest shown hit of a page of 35 is at position 92 or beyond
# for half the queries).
PREFETCH = 100
# A search with this many hits at most brings their documents too: a suggestion probe's
# one hit is the picture it shows. A page's hundred documents cost more to read, pickle
# and send than the one call that fetches the ~30 it shows (docs/benchmarks.md, issue 15).
FEW = 10
# Fetched-ahead documents and group counts kept apart until a page asks for them, so that
# the many never shown do not push the shown ones out of what is kept (20 searches' worth).
AHEAD = 20 * PREFETCH
# Serve logs a line per call by default: a search makes several calls per shard.
QUIET = {"log_level": "WARNING", "enable_access_log": False}
# The ReadStore calls a shard answers by name (duplicate_of is composed above the
# shards; search is ShardServer.search_fetched, which brings what its hits need).
CALLS = frozenset(
    {
        "get",
        "get_by_image_id",
        "pages_of",
        "group_counts",
        "group_members",
        "page_image_counts",
        "near_duplicates",
        "thumbnail",
        "similar",
        "vector",
        "neighbours",
        "vector_count",
        "terms",
        "changed_since",
        "stats",
    }
)
_RETRYABLE = (RayActorError, ReplicaUnavailableError, BackPressureError)


@dataclass(frozen=True, slots=True)
class Fetched:
    """A search's answer with what showing its hits needs: the counts of their groups, and
    their documents when they are few (one round trip instead of two or three)."""

    result: StoreResult
    docs: list[ImageDocument]
    groups: dict[int, tuple[int, int]]


def deployment_name(shard: int) -> str:
    return f"shard-{shard}"


class ShardServer:
    """A replica of one shard: its embedded index, read-only, one call at a time.

    One at a time because the embedded store is built for one serving thread per
    process (as a uvicorn worker is); replicas, not threads, add throughput.
    """

    def __init__(self, root: str, dup_distance: int = 6, result_cache: int = RESULTS) -> None:
        path = Path(root)
        if not (path / "meta.db").exists():  # never serve an empty shard in its place
            raise FileNotFoundError(f"no index at shard {path}")
        self.store = EmbeddedStore(path, dup_distance=dup_distance, result_cache=result_cache)
        self._lock = threading.Lock()

    def call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if method not in CALLS:
            raise ValueError(f"a shard does not answer {method!r}")
        with self._lock:
            return getattr(self.store, method)(*args, **kwargs)

    def search_fetched(self, queries: list[StoreQuery], prefetch: int) -> list[Fetched]:
        """Each query's search, with the group counts of its first `prefetch` hits and,
        when it has at most FEW hits, their documents."""
        with self._lock:
            return [self._fetched(query, prefetch) for query in queries]

    def _fetched(self, query: StoreQuery, prefetch: int) -> Fetched:
        result = self.store.search(query)
        top = result.hits[:prefetch]
        docs = self.store.get([h.doc_id for h in top]) if len(result.hits) <= FEW else []
        groups = self.store.group_counts(sorted({h.group_id for h in top}))
        return Fetched(result, docs, groups)

    def doc_freqs(self, words: list[str]) -> WordCounts:
        """Each word's document frequency here (global idf, index/sharded/termstats.py)."""
        with self._lock:
            return embedded_doc_freqs(self.store, words)

    def sync(self) -> tuple[bool, int]:
        """Pick up new commits: (whether anything changed, the generation served)."""
        with self._lock:
            changed = self.store.refresh()
            return changed, self.store.generation


def shard_applications(
    dirs: list[str], *, replicas: int, cpus: float, dup_distance: int, result_cache: int = RESULTS
) -> list[serve.Application]:
    """One bound deployment per shard directory, shard i named ``deployment_name(i)``."""
    return [
        serve.deployment(
            name=deployment_name(i),
            num_replicas=replicas,
            ray_actor_options={"num_cpus": cpus},
            max_ongoing_requests=8,  # queued at a busy replica beyond this: others take them
            logging_config=QUIET,
        )(ShardServer).bind(folder, dup_distance, result_cache)
        for i, folder in enumerate(dirs)
    ]


class RayShard:
    """A ReadStore whose calls go to one shard deployment's replicas (retried, timed out).

    Search answers, documents and group counts it fetched are kept until a refresh
    finds a new generation: within one, they cannot change. A search brings the
    group counts of its first `prefetch` hits along, and the documents of a short
    answer (``Fetched``): a page's group counts and its suggestions' pictures are
    then at hand, where each would cost another round trip.
    """

    def __init__(
        self,
        handle: DeploymentHandle[Any],
        *,
        timeout: float,
        bulk_timeout: float = BULK_TIMEOUT,
        retries: int = RETRIES,
        prefetch: int = PREFETCH,
    ):
        self._call_handle = handle.options(method_name="call")
        self._search_handle = handle.options(method_name="search_fetched")
        self._sync_handle = handle.options(method_name="sync")
        self._freqs_handle = handle.options(method_name="doc_freqs")
        self.timeout = timeout
        self.bulk_timeout = bulk_timeout  # whole-shard reads: all terms, all ids, counts
        self.retries = retries
        self.prefetch = prefetch
        self._generation = 0
        # Answers of the generation served: a round trip costs more than a search (at
        # 100k documents, 3-4 ms against 0.3 ms), and a page makes several (its search,
        # its documents, their groups, the suggestions' probes).
        self._results: LruCache[StoreQuery, StoreResult] = LruCache(CACHED_SEARCHES)
        self._docs: LruCache[int, ImageDocument] = LruCache(CACHED)
        self._groups: LruCache[int, tuple[int, int]] = LruCache(CACHED)
        self._docs_ahead: LruCache[int, ImageDocument] = LruCache(AHEAD)
        self._groups_ahead: LruCache[int, tuple[int, int]] = LruCache(AHEAD)

    def _send(self, handle: DeploymentHandle[Any], *args: Any, bulk: bool = False) -> Any:
        timeout = self.bulk_timeout if bulk else self.timeout
        deadline = time.monotonic() + timeout
        why = f"no replica answered in {timeout:g} s"
        for _ in range(self.retries + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            response = handle.remote(*args)
            try:
                return response.result(timeout_s=remaining)
            except TimeoutError:
                # Else it would run whenever a replica comes back (Ray leaves cancel untyped).
                response.cancel()  # type: ignore[no-untyped-call]
                break
            except _RETRYABLE as error:  # the replica died holding the call: another takes it
                log.warning("a shard replica failed a call (%s); sending it again", error)
                why = f"replicas failed: {error}"
        raise ShardUnavailable(why)

    def _ask(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self._send(self._call_handle, method, args, kwargs)

    def search(self, query: StoreQuery) -> StoreResult:
        return self.search_many([query])[0]

    def search_many(self, queries: Sequence[StoreQuery]) -> list[StoreResult]:
        """Each query's answer: those not kept are asked for in one call."""
        found: dict[StoreQuery, StoreResult] = {}
        for query in queries:
            if (kept := self._results.get(query)) is not None:
                found[query] = kept
        missing = [query for query in dict.fromkeys(queries) if query not in found]
        if missing:
            fetched: list[Fetched] = self._send(self._search_handle, missing, self.prefetch)
            for query, answer in zip(missing, fetched, strict=True):
                self._docs_ahead.update({doc.doc_id: doc for doc in answer.docs})
                self._groups_ahead.update(answer.groups)
                found[query] = answer.result
            self._results.update({query: found[query] for query in missing})
        return [found[query] for query in queries]

    def get(self, doc_ids: Sequence[int]) -> list[ImageDocument]:
        missing = not_kept(self._docs, self._docs_ahead, doc_ids)
        if missing:
            found: list[ImageDocument] = self._ask("get", missing)
            self._docs.update({doc.doc_id: doc for doc in found})
        return [doc for doc in (self._docs.get(d) for d in doc_ids) if doc is not None]

    def pages_of(self, doc_ids: Sequence[int]) -> list[PagePlaces]:
        """Groups and places alone, never kept: the site chrome count reads each image once."""
        pages: list[PagePlaces] = self._ask("pages_of", list(doc_ids))
        return pages

    def get_by_image_id(self, image_id: str) -> ImageDocument | None:
        doc: ImageDocument | None = self._ask("get_by_image_id", image_id)
        return doc

    def group_counts(self, group_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        missing = not_kept(self._groups, self._groups_ahead, group_ids)
        if missing:
            counts: dict[int, tuple[int, int]] = self._ask("group_counts", missing)
            self._groups.update(counts)
        return {g: c for g, c in ((g, self._groups.get(g)) for g in group_ids) if c is not None}

    def group_members(self, group_id: int, *, limit: int = 50) -> list[int]:
        members: list[int] = self._ask("group_members", group_id, limit=limit)
        return members

    def page_image_counts(self, urls: Sequence[str]) -> dict[str, int]:
        counts: dict[str, int] = self._ask("page_image_counts", list(urls))
        return counts

    def near_duplicates(
        self, phash: int, color_layout: str, *, max_distance: int
    ) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = self._ask(
            "near_duplicates", phash, color_layout, max_distance=max_distance
        )
        return found

    def duplicate_of(self, picture: Picture, *, max_distance: int) -> int | None:
        return lookalike.duplicate_of(self, picture, max_distance=max_distance)

    def thumbnail(self, sha256: str) -> bytes | None:
        data: bytes | None = self._ask("thumbnail", sha256)
        return data

    def similar(
        self,
        vector: np.ndarray,
        *,
        k: int,
        filters: Filters | None = None,
        exclude_group: int | None = None,
    ) -> list[StoreHit]:
        hits: list[StoreHit] = self._ask(
            "similar", vector, k=k, filters=filters, exclude_group=exclude_group
        )
        return hits

    def vector(self, doc_id: int) -> np.ndarray | None:
        found: np.ndarray | None = self._ask("vector", doc_id)
        return found

    def neighbours(
        self, space: VectorSpace, vector: np.ndarray, *, k: int
    ) -> list[tuple[int, float]]:
        found: list[tuple[int, float]] = self._ask("neighbours", space, vector, k=k)
        return found

    def vector_count(self, space: VectorSpace) -> int:
        return int(self._ask("vector_count", space))

    @property
    def generation(self) -> int:
        """The generation the last refresh() found (0 before one answered)."""
        return self._generation

    def terms(self, *, adult: bool = False) -> list[tuple[str, int]]:
        terms: list[tuple[str, int]] = self._send(
            self._call_handle, "terms", (), {"adult": adult}, bulk=True
        )
        return terms

    def changed_since(self, gen: int) -> list[int]:
        ids: list[int] = self._send(self._call_handle, "changed_since", (gen,), {}, bulk=True)
        return ids

    def doc_freqs(self, words: Sequence[str]) -> WordCounts:
        counts: WordCounts = self._send(self._freqs_handle, list(words))
        return counts

    def refresh(self) -> bool:
        changed, generation = self._send(self._sync_handle)
        if generation != self._generation:
            self._results.clear()
            self._docs.clear()
            self._groups.clear()
            self._docs_ahead.clear()
            self._groups_ahead.clear()
            self._generation = generation
        return bool(changed)

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = self._send(self._call_handle, "stats", (), {}, bulk=True)
        return counts


def open_ray(
    root: Path,
    *,
    writable: bool = False,
    dup_distance: int = 6,
    shards: str = "",
    timeout: float = 2.0,
) -> ShardedStore:
    """The ``ray`` backend's factory: the shard deployments of the running Serve application.

    Called inside the ingress replica, where ``serve.get_deployment_handle``
    reaches the ``shard-i`` deployments that ``cli/serve_ray.py`` started.
    """
    if writable:
        raise PermissionError("the ray backend is read-only: build each shard as an embedded index")
    names = [str(d) for d in shard_dirs(root, shards)]
    app = _application_name()
    # A shard holds about 1/N of a merged window's hits: twice its share is fetched ahead.
    prefetch = min(PREFETCH, math.ceil(2 * PREFETCH / len(names)))
    clients = [
        RayShard(
            serve.get_deployment_handle(deployment_name(i), app_name=app),
            timeout=timeout,
            prefetch=prefetch,
        )
        for i in range(len(names))
    ]
    store = ShardedStore(clients, timeout=timeout, names=names, inline=False, term_stats=clients)
    store.refresh()  # the generations served; a silent shard stays at 0 until it answers
    return store


def _application_name() -> str:
    """The Serve application this replica belongs to (``serve run`` names it "default")."""
    try:
        return str(serve.get_replica_context().replica_id.deployment_id.app_name)
    except RayServeException:  # not in a replica: the name `pixsearch serve` gives
        return APP_NAME


_: type[ReadStore] = RayShard  # mypy checks the client against the seam
_batch: type[BatchSearch] = RayShard
_pages: type[PageSource] = RayShard
