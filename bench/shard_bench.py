"""Sharded serving: agreement with one index, router overhead through Ray Serve, QPS by shards.

    python bench/shard_bench.py build   --docs 100000 [--dir .bench/shards] [--shards 1,2,4]
    python bench/shard_bench.py overlap --docs 100000 [--shards 4] [--queries 1000] [--seed 7]
    python bench/shard_bench.py latency --docs 100000 [--queries 300] [--rounds 3] [--ray-code L=S]
    python bench/shard_bench.py qps     --docs 100000 [--shards 1,2,4] [--clients 4] [--seconds 20]
    python bench/shard_bench.py calls   --docs 100000 [--shards 1] [--queries 300]
    python bench/shard_bench.py handles [--queries 500]

build: the search bench's synthetic corpus (bench/search_bench.py: Zipf words,
realistic fields) as one embedded index, then copied into N shards by group
(index/sharded/split.py) for each N > 1 (one shard is the index itself); everything
is reused when present.

overlap: for each query, the sharded store's top 10 against the one index's
top 10 (overlap@10, store level and as the search service ranks them), and
whether the hit counts are identical.

latency: the router's cost. The same index served twice over HTTP, one client
at a time: `pixsearch serve` (embedded, one uvicorn worker) and `pixsearch
serve --backend ray` with that index as its one shard (Ray Serve proxy →
ingress replica → shard replica). Rounds alternate between the two on the same
queries, so both see the same machine load. `--ray-code LABEL=SRC` (repeatable)
adds a Ray Serve server running the pixsearch package found in SRC (e.g. an older
commit's src/, from `git archive`): code before and after a change, in one run.
`--ray-direct LABEL=SRC` does the same through Serve's direct ingress (the ingress
replica's own port, no proxy hop).

calls: round trips to the shards per request, by what they ask, counted without
Ray: the API in this process over the `ray` backend, each shard deployment handle
replaced by one calling a ShardServer here. A count, not a timing: what a change
to the shard clients saves does not depend on the machine's load. With
`PYTHONPATH=SRC` it counts the package in SRC (an older commit's, say).

handles: one call's cost inside a replica, as the ingress calls a shard: through a
DeploymentHandle (Serve's router) and as a plain Ray actor call, `--queries` calls each.

qps: Ray Serve with 1, 2 and 4 shards (one replica each, one ingress), `--clients`
concurrent clients for `--seconds`: queries per second and p50/p99 latency.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import ray
from ray import serve
from ray.serve.handle import DeploymentHandle
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import free_port, stop_server

from pixsearch.api.app import build_context, create_app
from pixsearch.config import Settings
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.sharded import ray_shards
from pixsearch.index.sharded.local import open_sharded
from pixsearch.index.sharded.merge import ShardedStore
from pixsearch.index.sharded.split import split_store
from pixsearch.index.store import StoreHit, StoreQuery, TextQuery
from pixsearch.search.query import parse_query
from pixsearch.search.service import SearchRequest, SearchService
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from search_bench import Corpus, load, percentiles

BENCH = Path(__file__).resolve().parent


def whole_dir(root: Path) -> Path:
    return root / "whole"


def shards_dir(root: Path, n: int) -> Path:
    return root / f"shards-{n}"


def shard_paths(root: Path, n: int) -> list[Path]:
    """The folders of the index in `n` shards (1: the whole index, no copy)."""
    return [whole_dir(root)] if n == 1 else [shards_dir(root, n) / f"shard-{i}" for i in range(n)]


def build(root: Path, docs: int, counts: list[int]) -> None:
    load(whole_dir(root), docs, Corpus())
    whole = EmbeddedStore(whole_dir(root))
    for n in counts:
        if n == 1:  # one shard is the whole index itself (shard_paths)
            continue
        folder = shards_dir(root, n)
        if (folder / f"shard-{n - 1}" / "meta.db").exists():
            print(f"reusing {folder}")
            continue
        started = time.perf_counter()
        targets = [EmbeddedStore(folder / f"shard-{i}", writable=True) for i in range(n)]
        sizes = split_store(whole, targets, commit_every=50_000)
        for target in targets:
            target.close()
        print(f"{n} shards {sizes} in {time.perf_counter() - started:.0f} s")


def overlap(root: Path, n: int, queries: list[str]) -> None:
    """Agreement of the sharded top 10 with the one index's, with and without global idf.

    "within ties": a sharded top-10 document also counts as agreeing when the one
    index scores it as high as its own 10th (an exact tie the two orders break apart).
    """
    whole = EmbeddedStore(whole_dir(root))
    weighed = open_sharded(shards_dir(root, n))
    plain = ShardedStore(weighed.shards, names=weighed.names)  # each shard's own idf
    same_totals = 0
    found: dict[str, list[float]] = {"store, shard idf": [], "store, global idf": []}
    found["store, global idf, within ties"] = []
    found["service, global idf"] = []
    one_service, many_service = SearchService(whole), SearchService(weighed)
    for q in queries:
        text = parse_query(q).text
        one = whole.search(StoreQuery(text, limit=10))
        same_totals += one.total == weighed.search(StoreQuery(text, limit=10)).total
        if not one.hits:
            continue
        ids_one = image_ids(whole, one.hits)
        for label, store in (("store, shard idf", plain), ("store, global idf", weighed)):
            many = store.search(StoreQuery(text, limit=10)).hits
            found[label].append(len(ids_one & image_ids(store, many)) / len(ids_one))
        many_ids = image_ids(weighed, weighed.search(StoreQuery(text, limit=10)).hits)
        tenth = one.hits[-1].score
        scored = whole_scores(whole, text, many_ids)
        tied = sum(i in ids_one or scored.get(i, 0.0) >= tenth for i in many_ids)
        found["store, global idf, within ties"].append(tied / len(ids_one))
        shown_one = {r.doc.image_id for r in one_service.search(SearchRequest(q=q)).results[:10]}
        shown = {r.doc.image_id for r in many_service.search(SearchRequest(q=q)).results[:10]}
        found["service, global idf"].append(len(shown_one & shown) / max(len(shown_one), 1))
    answered = len(found["store, shard idf"])
    print(
        f"{n} shards, {len(queries)} queries ({answered} with hits): "
        f"identical hit counts {same_totals}/{len(queries)}"
    )
    for label, values in found.items():
        exact = sum(v == 1 for v in values)
        print(f"  overlap@10 {label:<32} {statistics.mean(values):.4f}  ({exact} lists identical)")


def whole_scores(whole: EmbeddedStore, text: TextQuery, image_ids: set[str]) -> dict[str, float]:
    """The one index's scores of some images for a query (image id → score)."""
    docs = [whole.get_by_image_id(i) for i in image_ids]
    ids = {d.doc_id: d.image_id for d in docs if d is not None}
    hits = whole.search(StoreQuery(text, limit=len(ids), doc_ids=tuple(ids))).hits
    return {ids[h.doc_id]: h.score for h in hits}


def image_ids(store: EmbeddedStore | ShardedStore, hits: list[StoreHit]) -> set[str]:
    return {d.image_id for d in store.get([h.doc_id for h in hits])}


def start(index_dir: Path, extra: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "pixsearch.cli.main", "serve", "--index", str(index_dir)]
    command += ["--port", str(port), *extra]
    environment = {**os.environ, "PIXSEARCH_ANALYZERS": "", "PIXSEARCH_SEMANTIC": "0", **env}
    process = subprocess.Popen(command, env=environment)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_server(process)  # terminate first: a Ray server shuts its cluster down
    raise RuntimeError("server did not start")


def service_dir(root: Path, name: str) -> tuple[Path, str]:
    """A folder for the service state of one server (its own key), apart from the shards."""
    folder = root / f"service-{name}"
    folder.mkdir(exist_ok=True)
    key = SqliteKeyStore(ServiceDb(folder / "service.db")).create(f"bench-{time.time_ns()}")
    return folder, key


def http_search(base: str, key: str) -> Callable[[str], object]:
    client = httpx.Client(base_url=base, headers={"Ocp-Apim-Subscription-Key": key}, timeout=30)

    def search(q: str) -> object:
        response = client.get("/v7.0/images/search", params={"q": q, "count": 35})
        response.raise_for_status()
        return response

    return search


def timed(search: Callable[[str], object], queries: list[str]) -> list[float]:
    """Seconds per query, one client, no warm-up."""
    samples = []
    for q in queries:
        t0 = time.perf_counter()
        search(q)
        samples.append(time.perf_counter() - t0)
    return samples


def ray_server(
    root: Path, shards: list[Path], name: str, code: str = "", *, direct: bool = False
) -> tuple[subprocess.Popen, str, str]:
    """`pixsearch serve --backend ray` over `shards`; with `code`, the package found there.

    `direct`: through Serve's direct ingress (Ray 2.60's RAY_SERVE_ENABLE_DIRECT_INGRESS:
    the ingress replica serves HTTP on a port of a given range, with no proxy hop); the
    base URL returned is that port's.
    """
    folder, key = service_dir(root, name)
    extra = ["--backend", "ray", "--shards", ",".join(str(s) for s in shards)]
    env = {"PIXSEARCH_RAY_REPLICA_CPUS": "0.5"}
    if code:  # Ray's workers inherit it from the server, which starts their cluster
        env["PYTHONPATH"] = str(Path(code).absolute())
    replica_port = free_port()
    if direct:  # one ingress replica: the first port of the range is its own
        env["RAY_SERVE_ENABLE_DIRECT_INGRESS"] = "1"
        env["RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT"] = str(replica_port)
        env["RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT"] = str(replica_port + 1)
    process, base = start(folder, extra, env)
    return process, f"http://127.0.0.1:{replica_port}" if direct else base, key


def latency(
    root: Path, queries: list[str], rounds: int, codes: list[str], directs: list[str]
) -> None:
    whole = whole_dir(root)
    folder, key = service_dir(root, "embedded")
    embedded, embedded_base = start(folder, ["--backend", "sharded", "--shards", str(whole)], {})
    plain, plain_base = start(whole, [], {})
    plain_key = SqliteKeyStore(ServiceDb(whole / "service.db")).create(f"bench-{time.time_ns()}")
    servers = {
        "embedded": http_search(plain_base, plain_key),
        "sharded, 1 local shard": http_search(embedded_base, key),
    }
    processes = [embedded, plain]
    # One Ray server with this checkout's code, or one for each --ray-code (each its own
    # Ray cluster: idle ones still take some CPU).
    rays = [(code, False) for code in codes or ([] if directs else ["1 shard="])]
    for code, direct in rays + [(code, True) for code in directs]:
        label, _, source = code.partition("=")
        name = "ray-" + label.replace(" ", "-")
        process, base, code_key = ray_server(root, [whole], name, source, direct=direct)
        processes.append(process)
        servers[f"ray serve, {label}"] = http_search(base, code_key)
    try:
        for search in servers.values():  # warm: index pages cached, vocabularies built
            timed(search, queries)
        print(f"{'round':<7}{'queries':<9}{'server':<30}{'p50 ms':>8}{'p99 ms':>8}")
        results: dict[tuple[str, str], list[float]] = {}
        names = list(servers)
        for n in range(1, rounds + 1):
            # "seen": the warm-up's queries again; "new": never asked of any server before.
            fresh = Corpus().queries(len(queries), seed=1000 + n)
            for name in names[n % len(names) :] + names[: n % len(names)]:  # rotated
                for kind, batch in (("seen", queries), ("new", fresh)):
                    samples = timed(servers[name], batch)
                    results.setdefault((kind, name), []).extend(samples)
                    p50, p99 = percentiles(samples)
                    print(f"{n:<7}{kind:<9}{name:<30}{p50:>8.2f}{p99:>8.2f}", flush=True)
        for (kind, name), samples in sorted(results.items()):
            p50, p99 = percentiles(samples)
            base50, base99 = percentiles(results[(kind, "embedded")])
            print(
                f"all rounds, {kind} queries, {name:<28} p50 {p50:.2f} ms, p99 {p99:.2f} ms "
                f"(+{p50 - base50:.2f} / +{p99 - base99:.2f} ms over embedded)"
            )
    finally:
        for process in processes:
            stop_server(process)


def hammer(base: str, key: str, queries: list[str], clients: int, seconds: float) -> list[float]:
    """Latencies of `clients` concurrent clients searching for `seconds`."""
    samples: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(offset: int) -> None:
        search = http_search(base, key)
        i = offset
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            search(queries[i % len(queries)])
            with lock:
                samples.append(time.perf_counter() - t0)
            i += clients

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples


def qps(root: Path, counts: list[int], queries: list[str], clients: int, seconds: float) -> None:
    """The embedded server, then Ray Serve with each shard count, under the same load."""
    whole = whole_dir(root)
    for n in [0, *counts]:
        if n == 0:
            label = "embedded, 1 worker"
            process, base = start(whole, [], {})
            key = SqliteKeyStore(ServiceDb(whole / "service.db")).create(f"bench-{time.time_ns()}")
        else:
            label = f"ray serve, {n} shard{'s' if n > 1 else ''}"
            process, base, key = ray_server(root, shard_paths(root, n), f"ray-{n}")
        try:
            timed(http_search(base, key), queries)  # warm
            # "seen": the warmed queries, over and over; "new": each query asked once.
            fresh = Corpus().queries(8000, seed=2000 + n)
            for kind, batch in (("seen", queries), ("new", fresh)):
                samples = hammer(base, key, batch, clients, seconds)
                p50, p99 = percentiles(samples)
                print(
                    f"{label}, {kind} queries, {clients} clients: "
                    f"{len(samples) / seconds:.1f} QPS, p50 {p50:.1f} ms, p99 {p99:.1f} ms",
                    flush=True,
                )
        finally:
            stop_server(process)


class Answered:
    """A handle call's response that is already there."""

    def __init__(self, value: object) -> None:
        self.value = value

    def result(self, timeout_s: float | None = None) -> object:
        return self.value


class LocalHandle:
    """A shard deployment's handle that calls a ShardServer in this process, counting
    each round trip by the ReadStore method it serves."""

    def __init__(self, server: object, counts: Counter[str], method: str = "") -> None:
        self.server, self.counts, self.method = server, counts, method

    def options(self, method_name: str) -> LocalHandle:
        return LocalHandle(self.server, self.counts, method_name)

    def remote(self, *args: Any) -> Answered:
        self.counts[args[0] if self.method == "call" else self.method] += 1
        return Answered(getattr(self.server, self.method)(*args))


def calls(root: Path, n: int, queries: list[str]) -> None:
    """Shard round trips per search request over HTTP (in-process), new and seen queries."""
    shards = shard_paths(root, n)
    counts: Counter[str] = Counter()
    servers = [ray_shards.ShardServer(str(shard)) for shard in shards]

    def handle(name: str, app_name: str) -> LocalHandle:
        return LocalHandle(servers[int(name.removeprefix("shard-"))], counts)

    ray_shards.serve.get_deployment_handle = handle  # type: ignore[assignment]
    # A new service state each run (the query log feeds suggestions, and so their probes);
    # the vocabulary, built once, is copied in.
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        vocabulary = root / f"vocabulary-calls-{n}"
        if vocabulary.exists():
            shutil.copytree(vocabulary, Path(tmp) / "vocabulary")
        key = SqliteKeyStore(ServiceDb(Path(tmp) / "service.db")).create("calls")
        settings = Settings.load(
            index_dir=Path(tmp),
            backend="ray",
            shards=",".join(str(s) for s in shards),
            analyzers="",
            semantic=False,
        )
        context = build_context(settings)
        assert context.suggestions is not None
        while context.suggestions.holder.current() is None:  # suggestions need it
            time.sleep(0.5)
        if not vocabulary.exists():
            shutil.copytree(Path(tmp) / "vocabulary", vocabulary)
        count_calls(create_app(context=context), key, counts, n, queries)


def count_calls(app: Starlette, key: str, counts: Counter[str], n: int, queries: list[str]) -> None:
    """Calls per request for `queries` (new), again (seen), and for a second draw (new)."""
    with TestClient(app) as client:
        client.headers["Ocp-Apim-Subscription-Key"] = key

        def search(q: str) -> object:
            response = client.get("/v7.0/images/search", params={"q": q, "count": 35})
            response.raise_for_status()
            return response

        fresh = Corpus().queries(len(queries), seed=3000)
        for kind, batch in (("new", queries), ("seen", queries), ("new", fresh)):
            counts.clear()
            timed(search, batch)
            per = {m: c / len(batch) for m, c in counts.most_common()}
            listed = ", ".join(f"{m} {c:.2f}" for m, c in per.items())
            print(f"{n} shard(s), {kind} queries: {sum(per.values()):.2f} calls each ({listed})")


class Echo:
    """A Serve deployment that answers at once: the cost of a handle call alone.

    `call` is a plain method (Serve runs it on a thread pool), `call_async` a
    coroutine that never awaits (run on the replica's own loop): a shard's methods
    can be either.
    """

    def call(self, value: int) -> int:
        return value

    async def call_async(self, value: int) -> int:
        return value


class EchoIngress:
    def __init__(self, *bound: object) -> None:
        self.bound = bound


def echo_app() -> Starlette:
    """/zero answers at once; /three makes 3 handle calls first (as a search's lookups),
    /three-async the same to a coroutine method."""
    pool = ThreadPoolExecutor(4)
    handle = serve.get_deployment_handle("echo", app_name="hops")
    echo, echo_async = handle.options(method_name="call"), handle.options(method_name="call_async")

    def three_calls(target: DeploymentHandle[Any] = echo) -> None:
        for _ in range(3):
            target.remote(1).result(timeout_s=10)

    async def zero(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    async def three(request: Request) -> JSONResponse:
        pool.submit(three_calls).result()
        return JSONResponse({"ok": True})

    async def three_async(request: Request) -> JSONResponse:
        pool.submit(three_calls, echo_async).result()
        return JSONResponse({"ok": True})

    routes = [Route("/zero", zero), Route("/three", three), Route("/three-async", three_async)]
    return Starlette(routes=routes)


def hops(count: int) -> None:
    """What Ray Serve's hops cost here: its HTTP proxy, and a DeploymentHandle call."""
    ray.init(num_cpus=4, include_dashboard=False, logging_level=logging.WARNING)
    port, plain_port = free_port(), free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    quiet = {"log_level": "WARNING", "enable_access_log": False}
    echo = serve.deployment(name="echo", logging_config=quiet)(Echo).bind()
    ingress = serve.deployment(name="ingress", logging_config=quiet)(
        serve.ingress(echo_app)(EchoIngress)
    ).bind(echo)
    serve.run(ingress, name="hops", route_prefix="/")
    plain = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "shard_bench:echo_app_plain",
            "--port",
            str(plain_port),
            "--log-level",
            "warning",
            "--app-dir",
            str(BENCH),
        ]
    )
    time.sleep(5)
    try:
        for label, url in (
            ("uvicorn, empty answer", f"http://127.0.0.1:{plain_port}/zero"),
            ("serve proxy, empty answer", f"http://127.0.0.1:{port}/zero"),
            ("serve proxy + 3 handle calls", f"http://127.0.0.1:{port}/three"),
            ("serve proxy + 3 async calls", f"http://127.0.0.1:{port}/three-async"),
        ):
            with httpx.Client() as client:
                samples = timed(lambda _, c=client, u=url: c.get(u), ["x"] * (count + 30))[30:]
            p50, p99 = percentiles(samples)
            print(f"{label:<30} p50 {p50:.2f} ms, p99 {p99:.2f} ms", flush=True)
    finally:
        stop_server(plain)
        serve.shutdown()
        ray.shutdown()


class _Plain:
    def call(self, value: int) -> int:
        return value


class HandleCaller:
    """A replica timing calls to the echo deployment and to a plain actor (p50, p99 ms)."""

    def __init__(self, echo: DeploymentHandle[Any]) -> None:
        self.echo = echo.options(method_name="call")
        self.actor = ray.get_actor("plain-echo")

    def run(self, count: int) -> dict[str, tuple[float, float]]:
        calls = {
            "DeploymentHandle call": lambda: self.echo.remote(1).result(timeout_s=10),
            "plain Ray actor call": lambda: ray.get(self.actor.call.remote(1), timeout=10),
        }
        found = {}
        for label, call in calls.items():
            samples = timed(lambda _, c=call: c(), ["x"] * (count + 50))[50:]
            found[label] = percentiles(samples)
        return found


def handles(count: int) -> None:
    """What a call from the ingress to a shard costs through Serve, and as Ray's own."""
    ray.init(address="local", num_cpus=4, include_dashboard=False, logging_level=logging.WARNING)
    quiet = {"log_level": "WARNING", "enable_access_log": False}
    plain = ray.remote(_Plain).options(name="plain-echo").remote()
    ray.get(plain.call.remote(0))
    echo = serve.deployment(name="echo", logging_config=quiet)(Echo).bind()
    caller = serve.deployment(name="caller", logging_config=quiet)(HandleCaller).bind(echo)
    try:
        handle = serve.run(caller, name="handles", route_prefix=None)
        for _ in range(3):
            found = handle.options(method_name="run").remote(count).result(timeout_s=600)
            for label, (p50, p99) in found.items():
                print(f"{label:<24} p50 {p50:.2f} ms, p99 {p99:.2f} ms", flush=True)
    finally:
        serve.shutdown()
        ray.shutdown()


def echo_app_plain() -> Starlette:
    async def zero(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/zero", zero)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    whats = ["build", "overlap", "latency", "qps", "hops", "calls", "handles"]
    parser.add_argument("what", choices=whats)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=Path(".bench/shards"))
    parser.add_argument("--shards", default="1,2,4")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument(
        "--seed", type=int, default=7, help="Query draw (7 tuned the merge's tie; 2024 held out)."
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--ray-code",
        action="append",
        default=[],
        metavar="LABEL=SRC",
        help="latency: also serve through Ray with the pixsearch package in SRC (repeatable).",
    )
    parser.add_argument(
        "--ray-direct",
        action="append",
        default=[],
        metavar="LABEL=SRC",
        help="latency: as --ray-code, through Serve's direct ingress (no proxy hop).",
    )
    args = parser.parse_args()
    if args.what == "hops":
        hops(args.queries)
        return
    if args.what == "handles":
        handles(args.queries)
        return
    counts = [int(n) for n in args.shards.split(",")]
    root = args.dir / str(args.docs)
    build(root, args.docs, counts)
    queries = Corpus().queries(args.queries, seed=args.seed)
    if args.what == "overlap":
        for n in counts:
            overlap(root, n, queries)
    elif args.what == "latency":
        latency(root, queries, args.rounds, args.ray_code, args.ray_direct)
    elif args.what == "qps":
        qps(root, counts, queries, args.clients, args.seconds)
    elif args.what == "calls":
        for n in counts:
            calls(root, n, queries)


if __name__ == "__main__":
    main()
