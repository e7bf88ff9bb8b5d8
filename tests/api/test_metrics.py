"""GET /metrics over real HTTP, from a server with two worker processes: one scrape sees both."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from pixsearch.cli import serve as serve_module
from pixsearch.crawl.crawler import CrawlStats
from pixsearch.ingest.indexer import IngestSummary
from pixsearch.observe.jobs import JobCollector, textfile_writer
from pixsearch.observe.metrics import INDEX_GAUGES, MULTIPROC_ENV, STAGES, stage
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.api.test_accesslog import LoggedServer, start_logged
from tests.conftest import Server

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "metrics-admin-key"
SEARCH = "/v7.0/images/search"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def workers2(corpus: tuple[Path, Path]) -> Iterator[LoggedServer]:
    running = start_logged(corpus[1], workers=2, env={"PIXSEARCH_ADMIN_KEY": ADMIN})
    try:
        yield running
    finally:
        running.stop()


def scrape(running: LoggedServer) -> tuple[str, Samples]:
    response = httpx.get(running.base + "/metrics", headers={"X-Admin-Key": ADMIN}, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text, parse(response.text)


def test_metrics_need_the_admin_key(workers2: LoggedServer) -> None:
    for headers in (
        {},
        {"X-Admin-Key": "not-the-key"},
        {"Ocp-Apim-Subscription-Key": workers2.key},
    ):
        response = httpx.get(workers2.base + "/metrics", headers=headers, timeout=30)
        assert response.status_code == 401
        assert response.json()["_type"] == "ErrorResponse"


def test_metrics_are_off_without_an_admin_key(server: Server) -> None:
    response = httpx.get(server.base + "/metrics", headers={"X-Admin-Key": ""}, timeout=30)
    assert response.status_code == 404
    assert response.json()["_type"] == "ErrorResponse"


def test_one_scrape_counts_the_searches_of_both_workers(workers2: LoggedServer) -> None:
    _, before = scrape(workers2)
    pids: set[int] = set()
    made = 0
    # New connections until both workers have answered: the kernel picks, and the
    # second worker may still be starting when the first answers.
    deadline = time.monotonic() + 60
    while len(pids) < 2 and time.monotonic() < deadline:
        response = httpx.get(
            workers2.base + SEARCH,
            params={"q": "circle"},
            headers={"Ocp-Apim-Subscription-Key": workers2.key},
            timeout=30,
        )
        assert response.status_code == 200
        made += 1
        pids.add(workers2.access(response.headers["BingAPIs-TraceId"])["pid"])
    assert len(pids) == 2, "one worker answered every call"
    _, after = scrape(workers2)
    labels = {"route": SEARCH, "method": "GET", "status": "200"}
    for name in ("pixsearch_http_requests_total", "pixsearch_http_request_duration_seconds_count"):
        assert value(after, name, **labels) - value(before, name, **labels) == made


def test_routes_are_labelled_by_template_never_by_url(workers2: LoggedServer) -> None:
    assert httpx.get(workers2.base + "/images/abc123secret", timeout=30).status_code == 404
    assert httpx.get(workers2.base + "/no/such/zz9plural", timeout=30).status_code == 404
    text, samples = scrape(workers2)
    assert "abc123secret" not in text
    assert "zz9plural" not in text
    total = "pixsearch_http_requests_total"
    assert value(samples, total, route="/images/{image_id}", method="GET", status="404") >= 1
    assert value(samples, total, route="(unmatched)", method="GET", status="404") >= 1


def test_index_gauges_match_stats(workers2: LoggedServer) -> None:
    stats = httpx.get(workers2.base + "/stats", timeout=30).json()
    _, samples = scrape(workers2)
    assert stats["documents"] > 0
    assert value(samples, "pixsearch_index_documents") == stats["documents"]
    assert value(samples, "pixsearch_index_generation") == stats["generation"]


def test_rate_limit_refusals_are_counted_by_reason(workers2: LoggedServer) -> None:
    keys = SqliteKeyStore(ServiceDb(workers2.index_dir / "service.db"))
    fast = keys.create(f"qps-{uuid.uuid4().hex[:8]}", qps=1)
    monthly = keys.create(f"quota-{uuid.uuid4().hex[:8]}", monthly_quota=1)
    _, before = scrape(workers2)
    statuses: dict[str, list[int]] = {"qps": [], "quota": []}
    with httpx.Client(base_url=workers2.base, timeout=30) as client:
        for reason, key in (("qps", fast), ("quota", monthly)):
            for _ in range(4):
                response = client.get(
                    SEARCH, params={"q": "red"}, headers={"Ocp-Apim-Subscription-Key": key}
                )
                statuses[reason].append(response.status_code)
    assert statuses["qps"].count(429) >= 1
    assert statuses["quota"] == [200, 403, 403, 403]
    _, after = scrape(workers2)
    refused = "pixsearch_rate_limited_total"
    for reason, status in (("qps", 429), ("quota", 403)):
        counted = value(after, refused, reason=reason) - value(before, refused, reason=reason)
        assert counted == statuses[reason].count(status)


def test_serve_gives_its_workers_a_fresh_metrics_folder_and_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if k != MULTIPROC_ENV})
    folders: list[tuple[int, str | None]] = []

    def run(app: str, **options: object) -> None:
        folder = os.environ.get(MULTIPROC_ENV)
        assert folder is None or not os.listdir(folder)
        folders.append((int(str(options["workers"])), folder))

    monkeypatch.setattr(serve_module.uvicorn, "run", run)
    monkeypatch.setattr(serve_module, "reuseport_available", lambda: False)  # uvicorn.run's way
    (tmp_path / "meta.db").touch()
    for workers in ("2", "1"):
        result = CliRunner().invoke(
            serve_module.serve, ["--index", str(tmp_path), "--workers", workers]
        )
        assert result.exit_code == 0, result.output
    (two, folder), (one, none) = folders
    assert (two, one, none) == (2, 1, None)  # one worker: its own memory is all there is
    assert folder is not None and not Path(folder).exists()
    assert MULTIPROC_ENV not in os.environ


def test_a_stage_is_timed_as_a_block_or_a_function() -> None:
    def observed(name: str) -> float:
        found = REGISTRY.get_sample_value("pixsearch_search_stage_seconds_sum", {"stage": name})
        return found or 0.0

    before = observed("rerank")
    with stage("rerank"):
        time.sleep(0.01)

    @stage("rerank")
    def slow() -> int:
        time.sleep(0.01)
        return 7

    assert slow() == 7
    assert observed("rerank") - before >= 0.02
    with pytest.raises(ValueError, match="unknown stage"), stage("lunch"):
        pass


def test_a_job_rewrites_its_textfile_while_it_runs_and_at_its_end(tmp_path: Path) -> None:
    summary, crawled = IngestSummary(indexed=3), CrawlStats(pages=2)
    collector = JobCollector("crawl", ingest=lambda: summary, crawl=lambda: crawled)
    path = tmp_path / "pixsearch.prom"
    with textfile_writer(path, collector, every=0.05):
        deadline = time.monotonic() + 10
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert (
            value(parse(path.read_text()), "pixsearch_ingest_images_total", outcome="indexed") == 3
        )
        summary.indexed += 2
        summary.rejected["too-small"] += 1
        crawled.errors["page:timeout"] += 4
    samples = parse(path.read_text())
    assert value(samples, "pixsearch_ingest_images_total", outcome="indexed") == 5
    assert value(samples, "pixsearch_ingest_images_total", outcome="rejected") == 1
    assert value(samples, "pixsearch_ingest_rejections_total", reason="too-small") == 1
    assert value(samples, "pixsearch_crawl_pages_total") == 2
    assert value(samples, "pixsearch_crawl_errors_total", reason="page:timeout") == 4
    assert value(samples, "pixsearch_job_elapsed_seconds", job="crawl") > 0
    assert list(tmp_path.iterdir()) == [path]  # written whole: no temporary file left


def test_every_metric_and_stage_is_documented() -> None:
    page = (ROOT / "docs" / "operations.md").read_text()
    job = JobCollector("crawl", ingest=IngestSummary, crawl=CrawlStats)
    families = [f for f in [*REGISTRY.collect(), *job.collect()] if f.name.startswith("pixsearch_")]
    shown = {f.name + ("_total" if f.type == "counter" else "") for f in families}
    shown |= {f"pixsearch_index_{name}" for name in INDEX_GAUGES}
    for name in shown:
        assert f"| `{name}` |" in page, f"{name} is not in docs/operations.md"
    for name in STAGES:
        assert f"| `{name}` |" in page, f"stage {name} is not in docs/operations.md"


def test_a_search_times_its_stages_and_logs_its_result_count(workers2: LoggedServer) -> None:
    _, before = scrape(workers2)
    response = httpx.get(
        workers2.base + SEARCH,
        params={"q": "red circle", "count": "3"},
        headers={"Ocp-Apim-Subscription-Key": workers2.key},
        timeout=30,
    )
    assert response.status_code == 200
    shown = len(response.json()["value"])
    assert workers2.access(response.headers["BingAPIs-TraceId"])["result_count"] == shown
    _, after = scrape(workers2)
    count = "pixsearch_search_stage_seconds_count"
    for name in ("parse", "text", "rerank", "fetch", "render", "suggest"):
        assert value(after, count, stage=name) > value(before, count, stage=name), name
