"""Key limits over real HTTP against a server with two worker processes.

Every rule is checked against the shared state the workers keep in
service.db, so a limit that only held inside one process would fail here.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.bursts import assert_limit_held
from tests.conftest import start_server, stop_server

WORKERS = 2


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert body["_type"] == "ErrorResponse"
    return body["errors"][0]


@pytest.fixture(scope="module")
def multi(corpus: tuple[Path, Path]) -> Iterator[tuple[str, Path]]:
    """(base URL, index dir) of a server running WORKERS processes."""
    _, index_dir = corpus
    process, base = start_server(index_dir, workers=WORKERS)
    try:
        yield base, index_dir
    finally:
        stop_server(process)


def keys_of(index_dir: Path) -> SqliteKeyStore:
    return SqliteKeyStore(ServiceDb(index_dir / "service.db"))


def new_key(index_dir: Path, **limits: object) -> tuple[str, str]:
    name = f"k-{uuid.uuid4().hex[:10]}"
    return name, keys_of(index_dir).create(name, **limits)  # type: ignore[arg-type]


def get(base: str, key: str, **params: object) -> httpx.Response:
    return httpx.get(
        base + "/v7.0/images/search",
        params={"q": "circle", **params},
        headers={"Ocp-Apim-Subscription-Key": key},
        timeout=30,
    )


def test_disabled_and_expired_keys(multi: tuple[str, Path]) -> None:
    base, index_dir = multi
    name, key = new_key(index_dir)
    assert get(base, key).status_code == 200
    keys_of(index_dir).set_enabled(name, False)
    time.sleep(2.2)  # the key cache's lifetime: every worker sees it after this
    refused = get(base, key)
    assert refused.status_code == 403
    assert error_of(refused) == {
        "code": "InsufficientAuthorization",
        "subCode": "AuthorizationDisabled",
        "message": "The subscription key is disabled.",
    }
    _, old = new_key(index_dir, expires=datetime.now(UTC) - timedelta(seconds=1))
    expired = get(base, old)
    assert expired.status_code == 403
    assert error_of(expired)["subCode"] == "AuthorizationExpired"


def test_qps_limit_answers_429_with_retry_after(multi: tuple[str, Path]) -> None:
    base, index_dir = multi
    _, key = new_key(index_dir, qps=2)
    answers = [get(base, key) for _ in range(8)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    error = error_of(limited[0])
    assert error["code"] == "RateLimitExceeded" and "subCode" not in error
    assert limited[0].headers["Retry-After"] == "1"
    assert {a.status_code for a in answers} == {200, 429}
    time.sleep(1.1)
    assert get(base, key).status_code == 200  # the next second has room again


def test_monthly_quota_answers_403_until_next_month(multi: tuple[str, Path]) -> None:
    base, index_dir = multi
    _, key = new_key(index_dir, monthly_quota=3)
    codes = [get(base, key).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 403, 403]
    over = get(base, key)
    assert error_of(over)["code"] == "RateLimitExceeded"
    # seconds until the first of next month (UTC), when the quota starts again
    assert 0 < int(over.headers["Retry-After"]) <= 31 * 86400


def test_key_limited_to_instances_cannot_search_everything(multi: tuple[str, Path]) -> None:
    base, index_dir = multi
    _, key = new_key(index_dir, allowed_instances=("some-instance",))
    refused = get(base, key)
    assert refused.status_code == 403
    assert error_of(refused)["subCode"] == "AuthorizationDisabled"


def test_limit_changes_apply_without_restart(multi: tuple[str, Path]) -> None:
    base, index_dir = multi
    name, key = new_key(index_dir)
    assert [get(base, key).status_code for _ in range(3)] == [200] * 3
    keys_of(index_dir).set_limits(name, monthly_quota=3)
    time.sleep(2.2)
    assert get(base, key).status_code == 403


def test_usage_per_day_from_the_cli(multi: tuple[str, Path]) -> None:
    base, index_dir = multi
    name, key = new_key(index_dir, qps=1000, monthly_quota=4)
    codes = [get(base, key).status_code for _ in range(6)]
    assert codes.count(200) == 4
    shown = subprocess.run(
        [sys.executable, "-m", "pixsearch", "keys", "usage", name, "--index", str(index_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    row = next(line for line in shown.stdout.splitlines() if today in line)
    assert [cell.strip() for cell in row.strip("│ ").split("│")] == [today, "4", "2"]
    missing = subprocess.run(
        [sys.executable, "-m", "pixsearch", "keys", "usage", "nobody", "--index", str(index_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode != 0 and "no key named" in missing.stderr


def test_burst_across_workers_holds_the_qps_limit(multi: tuple[str, Path]) -> None:
    base, index_dir = multi
    _, key = new_key(index_dir, qps=5)
    assert_limit_held([base], key, qps=5)
