"""The JSON access log over real HTTP: one line per request, trace id and key name, no secrets."""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from pixsearch.ingest.indexer import IngestSummary
from pixsearch.observe.jobs import JobCollector, log_summary
from pixsearch.observe.logs import JsonFormatter, logging_config
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import start_server, stop_server


@dataclass
class LoggedServer:
    """A server started with --log-format json, its output collected line by line."""

    base: str
    index_dir: Path
    key_name: str
    key: str
    process: subprocess.Popen
    lines: list[str] = field(default_factory=list)

    def stop(self) -> str:
        """Stop the server; everything it wrote."""
        stop_server(self.process)
        return "\n".join(self.lines)

    def access(self, trace_id: str) -> dict:
        """The access line of the answer with this trace id (waits for the line to arrive)."""
        deadline = time.monotonic() + 30  # a loaded machine may hold the line back a while
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if trace_id in line:
                    record = json.loads(line)
                    if record.get("logger") == "pixsearch.access":
                        return record
            time.sleep(0.05)
        raise AssertionError(f"no access line for {trace_id} in:\n" + "\n".join(self.lines))


def start_logged(
    index_dir: Path, *, workers: int = 1, env: dict[str, str] | None = None
) -> LoggedServer:
    name = f"log-{uuid.uuid4().hex[:10]}"
    key = SqliteKeyStore(ServiceDb(index_dir / "service.db")).create(name)
    process, base = start_server(
        index_dir, workers=workers, extra=("--log-format", "json"), env=env
    )
    running = LoggedServer(base=base, index_dir=index_dir, key_name=name, key=key, process=process)

    def drain() -> None:  # an unread pipe would block the server once full
        assert process.stdout is not None
        for raw in process.stdout:
            running.lines.append(raw.decode().rstrip("\n"))

    threading.Thread(target=drain, daemon=True).start()
    return running


@pytest.fixture(scope="module")
def logged(corpus: tuple[Path, Path]) -> Iterator[LoggedServer]:
    running = start_logged(corpus[1])
    try:
        yield running
    finally:
        running.stop()


def search(running: LoggedServer, key: str | None, q: str = "circle") -> httpx.Response:
    headers = {"Ocp-Apim-Subscription-Key": key} if key is not None else {}
    return httpx.get(
        running.base + "/v7.0/images/search", params={"q": q}, headers=headers, timeout=30
    )


def test_a_search_logs_one_json_line_with_its_trace_id_and_key_name(logged: LoggedServer) -> None:
    response = search(logged, logged.key, q="red circle")
    assert response.status_code == 200
    trace_id = response.headers["BingAPIs-TraceId"]
    line = logged.access(trace_id)
    assert line["trace_id"] == trace_id
    assert line["method"] == "GET"
    assert line["route"] == "/v7.0/images/search"
    assert line["status"] == 200
    assert line["latency_ms"] > 0
    assert line["key_name"] == logged.key_name
    assert "result_count" in line
    assert line["time"].endswith("+00:00")
    assert sum(trace_id in text for text in logged.lines) == 1  # one line per request


def test_a_refused_call_logs_its_status_and_no_key(logged: LoggedServer) -> None:
    response = search(logged, None)
    assert response.status_code == 401
    line = logged.access(response.headers["BingAPIs-TraceId"])
    assert line["status"] == 401
    assert line["key_name"] is None


def test_every_line_is_json_without_the_key_or_the_client_address(
    corpus: tuple[Path, Path],
) -> None:
    running = start_logged(corpus[1])
    try:
        for q in ("circle", "square", "nothing-matches-this"):
            assert search(running, running.key, q=q).status_code == 200
        running.access(search(running, running.key).headers["BingAPIs-TraceId"])
    finally:
        output = running.stop()
    records = [json.loads(line) for line in output.splitlines() if line.strip()]
    searches = [r for r in records if r.get("route") == "/v7.0/images/search"]
    assert len(searches) == 4
    assert all(r["logger"] == "pixsearch.access" for r in searches)
    assert running.key not in output
    assert "127.0.0.1" not in output


def test_the_client_address_only_when_configured(corpus: tuple[Path, Path]) -> None:
    running = start_logged(corpus[1], env={"PIXSEARCH_LOG_CLIENT_IP": "1"})
    try:
        response = search(running, running.key)
        line = running.access(response.headers["BingAPIs-TraceId"])
    finally:
        running.stop()
    assert line["client_ip"] == "127.0.0.1"


def test_text_logs_keep_the_server_quiet_and_json_logs_include_the_access_log() -> None:
    assert logging_config("text")["loggers"]["pixsearch"]["level"] == "WARNING"
    assert logging_config("json")["loggers"]["pixsearch"]["level"] == "INFO"
    with pytest.raises(ValueError, match="log format"):
        logging_config("xml")


def test_json_formatter_puts_extra_fields_beside_the_message() -> None:
    record = logging.LogRecord("pixsearch.ingest", logging.INFO, __file__, 1, "%d done", (3,), None)
    record.rejected = {"too-small": 2}
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "3 done"
    assert line["logger"] == "pixsearch.ingest"
    assert line["rejected"] == {"too-small": 2}


def test_a_job_ends_with_one_line_of_its_counts_and_reasons(
    caplog: pytest.LogCaptureFixture,
) -> None:
    summary = IngestSummary(indexed=4, duplicates=1)
    summary.rejected["corrupt"] += 2
    with caplog.at_level(logging.INFO, logger="pixsearch.jobs"):
        log_summary(JobCollector("ingest", ingest=lambda: summary))
    (record,) = caplog.records
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "ingest finished"
    assert (line["indexed"], line["duplicates"], line["rejected"]) == (4, 1, {"corrupt": 2})
    assert line["job"] == "ingest" and line["elapsed_s"] >= 0
