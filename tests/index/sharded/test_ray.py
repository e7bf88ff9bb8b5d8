"""The API on Ray Serve over 3 shards against `pixsearch serve` over the same corpus as one index.

A real local Ray (2 CPUs, a 100 MB object store), the shard deployments and the
API ingress of cli/serve_ray.py, the official client. Searches, filters,
paging and details agree with the single index; a replica killed under load
loses no request; a shard with no replica left answers partially, saying so.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ray = pytest.importorskip("ray")
serve = pytest.importorskip("ray.serve")

from azure.cognitiveservices.search.imagesearch import ImageSearchClient  # noqa: E402
from msrest.authentication import CognitiveServicesCredentials  # noqa: E402

from pixsearch.api.shardstatus import HEADER  # noqa: E402
from pixsearch.cli.serve_ray import application  # noqa: E402
from pixsearch.config import Settings  # noqa: E402
from pixsearch.index.embedded import EmbeddedStore  # noqa: E402
from pixsearch.index.sharded.ray_shards import (  # noqa: E402
    APP_NAME,
    FEW,
    Fetched,
    RayShard,
    deployment_name,
)
from pixsearch.index.sharded.scatter import ShardUnavailable  # noqa: E402
from pixsearch.index.sharded.split import split_store  # noqa: E402
from pixsearch.index.store import (  # noqa: E402
    Clause,
    StoreHit,
    StoreQuery,
    StoreResult,
    TextQuery,
)
from pixsearch.tenancy.keys import SqliteKeyStore  # noqa: E402
from pixsearch.tenancy.state import ServiceDb  # noqa: E402
from tests.conftest import Server, free_port  # noqa: E402
from tests.index.helpers import make_doc  # noqa: E402

N = 3
QUERIES = ("circle", "red circle", "pattern", "pattern OR sky", "sunset hills", "blue", "number")


@dataclass(frozen=True)
class RayServer:
    base: str
    key: str
    shards: list[Path]
    whole: EmbeddedStore  # the single index, read-only: image → near-duplicate group


@pytest.fixture(scope="module")
def ray_server(
    corpus: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RayServer]:
    _, index_dir = corpus
    root = tmp_path_factory.mktemp("ray-shards")
    whole = EmbeddedStore(index_dir)
    shards = [root / f"shard-{i}" for i in range(N)]
    targets = [EmbeddedStore(folder, writable=True) for folder in shards]
    split_store(whole, targets)
    for target in targets:
        target.close()
    service = root / "service"
    key = SqliteKeyStore(ServiceDb(service / "service.db")).create("tests")
    port = free_port()
    settings = Settings.load(
        index_dir=service,
        shards=",".join(str(s) for s in shards),
        replicas=2,
        workers=1,
        ray_replica_cpus=0.25,
        shard_timeout=3.0,
        analyzers="",
        semantic=False,
    )
    ray.init(
        num_cpus=2,
        object_store_memory=100 * 1024 * 1024,
        include_dashboard=False,
        logging_level="warning",
    )
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        serve.run(application(settings), name=APP_NAME, route_prefix="/")
        yield RayServer(f"http://127.0.0.1:{port}", key, shards, whole)
    finally:
        serve.shutdown()
        ray.shutdown()
        whole.close()


def sdk(base: str, key: str) -> ImageSearchClient:
    return ImageSearchClient(endpoint=base, credentials=CognitiveServicesCredentials(key))


def every_page(client: ImageSearchClient, q: str, **filters: object) -> tuple[int, list[str]]:
    """(totalEstimatedMatches, the imageIds of every page, in order), 10 a page."""
    found: list[str] = []
    offset, total = 0, 0
    while True:
        page = client.images.search(query=q, count=10, offset=offset, **filters)
        total = total or page.total_estimated_matches
        if not page.value:
            return total, found
        found += [v.image_id for v in page.value]
        offset = page.next_offset


def groups(ray_server: RayServer, image_ids: list[str]) -> list[int]:
    """Each image's near-duplicate group in the single index (which member heads a group
    may differ when scores differ: the group is what must be found)."""
    out = []
    for image_id in image_ids:
        doc = ray_server.whole.get_by_image_id(image_id)
        assert doc is not None, image_id
        out.append(doc.group_id)
    return out


@pytest.mark.parametrize(
    "filters",
    [{}, {"size": "Large"}, {"aspect": "Wide", "min_width": 320}, {"image_type": "Photo"}],
    ids=["none", "large", "wide", "photo"],
)
def test_official_client_finds_what_one_index_finds(
    server: Server, ray_server: RayServer, filters: dict[str, object]
) -> None:
    one = sdk(server.base, server.key)
    many = sdk(ray_server.base, ray_server.key)
    for q in QUERIES:
        one_total, one_ids = every_page(one, q, **filters)
        many_total, many_ids = every_page(many, q, **filters)
        assert many_total == one_total, q
        assert len(many_ids) == len(set(many_ids)), q  # paging: no picture twice
        assert sorted(groups(ray_server, many_ids)) == sorted(groups(ray_server, one_ids)), q


def test_details_match(server: Server, ray_server: RayServer) -> None:
    modules = "PagesIncluding,Caption,BRQ,SimilarImages"
    with (
        httpx.Client(base_url=server.base, headers={"Ocp-Apim-Subscription-Key": server.key}) as a,
        httpx.Client(
            base_url=ray_server.base, headers={"Ocp-Apim-Subscription-Key": ray_server.key}
        ) as b,
    ):
        for q in ("red circle", "sunset hills", "pattern"):
            image_id = a.get("/v7.0/images/search", params={"q": q}).json()["value"][0]["imageId"]
            one = a.get("/v7.0/images/details", params={"id": image_id, "modules": modules})
            many = b.get("/v7.0/images/details", params={"id": image_id, "modules": modules})
            assert one.status_code == many.status_code == 200
            assert HEADER.lower() not in many.headers
            mine, theirs = many.json(), one.json()
            assert pages_of(mine, ray_server.base) == pages_of(theirs, server.base)
            assert mine.get("imageCaption") == theirs.get("imageCaption")
            assert (
                mine["bestRepresentativeQuery"]["text"] == theirs["bestRepresentativeQuery"]["text"]
            )
        upload = (server.samples / "specials" / "black-and-white-checkerboard.png").read_bytes()
        found = [
            c.post("/v7.0/images/details", content=upload, headers={"Content-Type": "image/png"})
            for c in (a, b)
        ]
        assert [r.status_code for r in found] == [200, 200]
        assert pages_of(found[0].json(), server.base) == pages_of(found[1].json(), ray_server.base)
        assert pages_of(found[0].json(), server.base)


def pages_of(body: dict, base: str) -> set[str]:
    """The pages including a picture (a local file's page is on the server itself)."""
    return {p["hostPageUrl"].removeprefix(base) for p in body["pagesIncluding"]["value"]}


def replicas_of(shard: int) -> list[str]:
    """Names of the live replica actors of a shard deployment."""
    prefix = f"SERVE_REPLICA::{APP_NAME}#{deployment_name(shard)}#"
    return [
        a["name"]
        for a in ray.util.list_named_actors(all_namespaces=True)
        if a["name"].startswith(prefix)
    ]


def kill(name: str) -> None:
    ray.kill(ray.get_actor(name, namespace="serve"), no_restart=True)


def test_killing_a_replica_under_load_loses_no_request(ray_server: RayServer) -> None:
    assert all(len(replicas_of(shard)) == 2 for shard in range(N))
    failures: list[str] = []
    answered = 0
    stop = threading.Event()

    def load() -> None:
        nonlocal answered
        with httpx.Client(
            base_url=ray_server.base,
            headers={"Ocp-Apim-Subscription-Key": ray_server.key},
            timeout=30,
        ) as client:
            i = 0
            while not stop.is_set():
                # Each query new (excluding a word no image has), so that no shard
                # client answers it from what it kept: every request reaches the shards.
                q = f"{QUERIES[i % len(QUERIES)]} -nowordlike{i}"
                response = client.get("/v7.0/images/search", params={"q": q, "count": 35})
                i += 1
                answered += 1
                if response.status_code != 200 or HEADER.lower() in response.headers:
                    failures.append(f"{response.status_code} {response.headers.get(HEADER)}")

    clients = [threading.Thread(target=load) for _ in range(3)]
    for thread in clients:
        thread.start()
    for shard in range(N):  # one replica of every shard, each while calls are flowing
        time.sleep(1.5)
        kill(replicas_of(shard)[0])
    time.sleep(3)
    stop.set()
    for thread in clients:
        thread.join()
    assert answered > 10 and failures == []


def test_a_shard_without_replicas_gives_a_partial_answer(
    server: Server, ray_server: RayServer
) -> None:
    # A query the sharded server never saw: shard clients keep the answers they fetched.
    q = "number pattern"
    whole_total = sdk(server.base, server.key).images.search(query=q).total_estimated_matches
    lost = ray_server.shards[2]
    shutil.move(lost, lost.with_name("moved-away"))  # no replica can start again
    try:
        for name in replicas_of(2):
            kill(name)
        with httpx.Client(
            base_url=ray_server.base,
            headers={"Ocp-Apim-Subscription-Key": ray_server.key},
            timeout=30,
        ) as api:
            started = time.monotonic()
            response = api.get("/v7.0/images/search", params={"q": q, "count": 35})
            took = time.monotonic() - started
            assert response.status_code == 200
            assert response.headers[HEADER] == str(lost)
            assert 0 < response.json()["totalEstimatedMatches"] < whole_total
            # One wait of shard_timeout (3 s): the lost shard is then left out at once.
            assert took < 2 * 3.0 + 3
            ready = api.get("/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "degraded"
            states = {s["name"]: s["ok"] for s in ready.json()["shards"]}
            assert states == {str(s): s != lost for s in ray_server.shards}
    finally:
        shutil.move(lost.with_name("moved-away"), lost)


class FakeResponse:
    def __init__(self, outcome: object) -> None:
        self.outcome = outcome
        self.cancelled = False

    def result(self, timeout_s: float | None = None) -> object:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome

    def cancel(self) -> None:
        self.cancelled = True


class FakeHandle:
    """A DeploymentHandle whose calls come out as scripted, in order."""

    def __init__(self, outcomes: list[object]) -> None:
        self.outcomes = outcomes
        self.sent: list[FakeResponse] = []

    def options(self, method_name: str) -> FakeHandle:
        return self

    def remote(self, *args: object) -> FakeResponse:
        self.sent.append(FakeResponse(self.outcomes.pop(0)))
        return self.sent[-1]


def test_a_call_whose_replica_died_is_sent_again() -> None:
    died = ray.exceptions.ActorDiedError()
    handle = FakeHandle([died, died, {"images": 7}])
    shard = RayShard(handle, timeout=5)
    assert shard.stats() == {"images": 7}
    assert len(handle.sent) == 3


def test_a_silent_shard_is_given_up_and_its_call_cancelled() -> None:
    handle = FakeHandle([TimeoutError("no replica")])
    shard = RayShard(handle, timeout=5)
    with pytest.raises(ShardUnavailable):
        shard.stats()
    assert handle.sent[0].cancelled
    failing = RayShard(FakeHandle([ValueError("a bug")]), timeout=5)
    with pytest.raises(ValueError):
        failing.stats()  # not a replica's death: not retried, the shard is left out


def test_documents_are_kept_for_the_generation_served() -> None:
    doc = make_doc(1, "red kite")
    doc.doc_id = 4
    handle = FakeHandle([[doc], (True, 2), [doc]])
    shard = RayShard(handle, timeout=5)
    assert [d.image_id for d in shard.get([4, 9])] == [doc.image_id]
    assert [d.image_id for d in shard.get([4])] == [doc.image_id]  # no second call
    assert len(handle.sent) == 1
    assert shard.refresh() and shard.generation == 2  # a new generation: asked again
    assert [d.doc_id for d in shard.get([4])] == [4]
    assert len(handle.sent) == 3


def test_a_search_brings_what_its_page_needs(ray_server: RayServer) -> None:
    # A real shard deployment: a search's one call brings its hits' group counts, and a
    # short answer's documents too (as the shard's own store gives them); a page of many
    # hits fetches its documents in one more call.
    handle = CountingHandle(serve.get_deployment_handle(deployment_name(0), app_name=APP_NAME))
    shard = RayShard(handle, timeout=10)
    shard.refresh()
    own = EmbeddedStore(ray_server.shards[0])
    text = TextQuery(((Clause(("pattern",)),),))
    for limit, calls_for_documents in ((FEW, 0), (40, 1)):
        query = StoreQuery(text, limit=limit)
        hits = shard.search(query).hits
        assert [(h.doc_id, h.score) for h in hits] == [
            (h.doc_id, h.score) for h in own.search(query).hits
        ]
        assert len(hits) == FEW if limit == FEW else len(hits) > FEW
        before = handle.calls
        groups = sorted({h.group_id for h in hits})
        assert shard.group_counts(groups) == own.group_counts(groups)
        assert handle.calls == before  # kept from the search's answer
        ids = [h.doc_id for h in hits]
        assert [d.image_id for d in shard.get(ids)] == [d.image_id for d in own.get(ids)]
        assert handle.calls == before + calls_for_documents
    own.close()


class CountingHandle:
    """A real DeploymentHandle that counts the calls sent through it."""

    def __init__(self, handle: object, counts: list[int] | None = None) -> None:
        self.handle = handle
        self.counts = counts if counts is not None else [0]

    @property
    def calls(self) -> int:
        return self.counts[0]

    def options(self, method_name: str) -> CountingHandle:
        return CountingHandle(self.handle.options(method_name=method_name), self.counts)

    def remote(self, *args: object) -> object:
        self.counts[0] += 1
        return self.handle.remote(*args)


def test_documents_and_group_counts_come_with_a_search() -> None:
    hit_doc, other = make_doc(1, "red kite"), make_doc(2, "blue kite")
    hit_doc.doc_id, other.doc_id = 4, 6
    found = StoreResult(hits=[StoreHit(4, 4, 1.0)], total=1)
    handle = FakeHandle([[Fetched(found, [hit_doc], {4: (1, 2)})], [other]])
    shard = RayShard(handle, timeout=5)
    query = StoreQuery(TextQuery(((Clause(("kite",)),),)))
    assert shard.search(query) == found
    assert shard.search(query) == found  # kept: no second call
    assert [d.doc_id for d in shard.get([4])] == [4]
    assert shard.group_counts([4]) == {4: (1, 2)}
    assert len(handle.sent) == 1
    assert [d.doc_id for d in shard.get([4, 6])] == [4, 6]  # only 6 is asked for
    assert len(handle.sent) == 2
