"""Custom instances: parsing with an injected defaults check, and each backend's store."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping

import pytest

from pixsearch.api.instance_defaults import check_defaults
from pixsearch.tenancy import instances
from pixsearch.tenancy.backends import ServiceState
from pixsearch.tenancy.instances import InstanceError, InstanceStore, parse_instance

SHOP = {"config_id": "shop", "sites": ["Shop.Example."], "defaults": {"mkt": "en-GB"}}


@pytest.fixture
def store(state: ServiceState) -> Iterator[InstanceStore]:
    instance_store = state.instance_store()
    yield instance_store
    instance_store.close()


def test_the_defaults_check_is_the_callers() -> None:
    seen: list[Mapping[str, str]] = []

    def refuse(defaults: Mapping[str, str]) -> None:
        seen.append(defaults)
        raise InstanceError("defaults: mkt: not here")

    with pytest.raises(InstanceError, match="not here"):
        parse_instance(SHOP, check_defaults=refuse)
    assert seen == [{"mkt": "en-GB"}]
    assert parse_instance(SHOP).sites == ("shop.example",)  # unchecked: as read back from a store
    with pytest.raises(InstanceError, match="defaults may set only"):
        parse_instance({"config_id": "x", "defaults": {"q": "forced"}})


def test_the_api_check_refuses_what_a_search_would() -> None:
    assert parse_instance(SHOP, check_defaults=check_defaults).defaults == {"mkt": "en-GB"}
    with pytest.raises(InstanceError, match="safeSearch"):
        parse_instance(
            {"id": "a", "defaults": {"safeSearch": "Sometimes"}}, check_defaults=check_defaults
        )
    with pytest.raises(InstanceError, match="not a listed market"):
        parse_instance({"id": "a", "defaults": {"mkt": "xx-XX"}}, check_defaults=check_defaults)


def test_store_round_trip(store: InstanceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = parse_instance(SHOP)
    store.put(shop, create=True)
    with pytest.raises(InstanceError, match="exists already"):
        store.put(shop, create=True)
    with pytest.raises(KeyError):
        store.put(parse_instance({"config_id": "missing"}), create=False)
    assert store.load("shop") == shop and store.get("shop") == shop
    assert [i.config_id for i in store.list()] == ["shop"]
    assert store.delete("shop") and not store.delete("shop")
    assert store.load("shop") is None
    assert store.get("shop") == shop  # searches may see an edit CACHE_SECONDS late
    monkeypatch.setattr(instances, "CACHE_SECONDS", 0.01)
    time.sleep(0.02)
    assert store.get("shop") is None
    assert store.get("not an id!") is None


def test_store_updates_and_lists_in_byte_order(store: InstanceStore) -> None:
    store.put(parse_instance({"config_id": "b", "name": "first"}))
    store.put(parse_instance({"config_id": "b", "name": "second"}))  # create=None: upsert
    store.put(parse_instance({"config_id": "b", "name": "third"}), create=False)
    store.put(parse_instance({"config_id": "B"}), create=True)
    loaded = store.load("b")
    assert loaded is not None and loaded.name == "third"
    assert [i.config_id for i in store.list()] == ["B", "b"]  # as SQLite sorts, any locale
