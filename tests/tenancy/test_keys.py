"""Subscription keys in each backend's key store: hashed, limited, switchable."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from pixsearch.tenancy.backends import ServiceState, SqliteState
from pixsearch.tenancy.keys import KEY_PREFIX, KeyStore, hash_key
from tests.tenancy.conftest import Rows


@pytest.fixture
def keys(state: ServiceState) -> Iterator[KeyStore]:
    store = state.key_store()
    yield store
    store.close()


def test_a_key_is_stored_only_as_its_hash(keys: KeyStore, state: ServiceState, rows: Rows) -> None:
    key = keys.create("shop", qps=5, monthly_quota=100, allowed_instances=("a", "b"))
    assert key.startswith(KEY_PREFIX)
    if isinstance(state, SqliteState):
        assert key.encode() not in state.db.path.read_bytes()
    (stored,) = rows("keys")
    assert key not in repr(stored) and hash_key(key) in stored
    info = keys.lookup(key)
    assert info is not None
    assert (info.name, info.hint, info.qps, info.monthly_quota) == ("shop", key[:8], 5, 100)
    assert info.may_use("a") and not info.may_use("c") and not info.may_use(None)
    assert keys.lookup(key + "x") is None
    with pytest.raises(ValueError, match="exists already"):
        keys.create("shop")


def test_limits_change_and_clear(keys: KeyStore) -> None:
    keys.create("k", qps=3, monthly_quota=10)
    assert keys.set_limits("k", qps=4)
    info = keys.get("k")
    assert info is not None and (info.qps, info.monthly_quota) == (4, 10)
    assert keys.set_limits("k", clear_qps=True, clear_quota=True, allowed_instances=())
    info = keys.get("k")
    assert info is not None and (info.qps, info.monthly_quota) == (None, None)
    assert not keys.set_limits("nobody", qps=1)
    assert not keys.set_limits("nobody")


def test_install_keeps_a_disabled_key_disabled(keys: KeyStore) -> None:
    keys.install("page", KEY_PREFIX + "first", qps=2, monthly_quota=None)
    assert keys.set_enabled("page", False)
    keys.install("page", KEY_PREFIX + "second", qps=9, monthly_quota=None)
    info = keys.lookup(KEY_PREFIX + "second")
    assert info is not None and not info.enabled and info.qps == 9
    assert keys.lookup(KEY_PREFIX + "first") is None


def test_expiry_revocation_and_listing(keys: KeyStore) -> None:
    keys.create("old", expires=datetime.now(UTC) - timedelta(seconds=1))
    keys.create("new", expires=datetime.now(UTC) + timedelta(days=1))
    by_name = {info.name: info for info in keys.list()}
    assert list(by_name) == ["new", "old"]
    assert by_name["old"].expired and not by_name["new"].expired
    assert keys.revoke("old") and not keys.revoke("old")
    assert keys.get("old") is None
