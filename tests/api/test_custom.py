"""Custom Image Search over real HTTP: instances, slices, pins, boosts, the admin API, the SDK.

The index here holds web-like documents on several hosts (the shared corpus
is local files, which have no host), so slices have something to cut.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from azure.cognitiveservices.search.customimagesearch import CustomImageSearchClient
from azure.cognitiveservices.search.customimagesearch.models import ErrorResponseException
from msrest.authentication import CognitiveServicesCredentials

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.records import ImageDocument, Occurrence
from pixsearch.tenancy.instances import SqliteInstanceStore, parse_instance
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import start_server, stop_server
from tests.index.helpers import make_doc

ADMIN_KEY = "admin-secret-for-tests"
PLACES: dict[int, tuple[str, ...]] = {
    1: ("https://www.alpha.example/wild/fox.html",),
    2: ("https://beta.example/animals/fox.html",),
    3: ("https://gamma.example/private/fox.html",),
    4: ("https://gamma.example/public/fox.html",),
    5: ("https://shop.alpha.example/fox.html",),
    6: ("https://alpha.example/shared/fox.html", "https://delta.example/secret/fox.html"),
    7: ("https://beta.example/lake.html",),
    8: ("https://alpha.example/more/fox.html",),
}
TEXT = {7: "blue lake"}
ALPHA = {
    "config_id": "alpha",
    "name": "Alpha and public gamma",
    "sites": ["alpha.example"],
    "url_prefixes": ["gamma.example/public/"],
    "excluded_sites": ["shop.alpha.example"],
}
BETA = {"config_id": "beta", "hosts": ["beta.example"], "defaults": {"mkt": "en-GB"}}


@dataclass(frozen=True)
class Custom:
    base: str
    key: str
    index_dir: Path
    ids: dict[int, str]  # document number → imageId


def web_doc(n: int) -> ImageDocument:
    doc = make_doc(n, TEXT.get(n, f"red fox number{n}"))
    places = [
        Occurrence(
            source=page,
            content_url=page.replace(".html", ".jpg"),
            host_page_url=page,
            title=TEXT.get(n, f"red fox {n}"),
            text={"caption": TEXT.get(n, f"red fox number{n}")},
        )
        for page in PLACES[n]
    ]
    return replace(doc, occurrences=places)


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Custom]:
    index_dir = tmp_path_factory.mktemp("custom") / "index"
    store = EmbeddedStore(index_dir, writable=True)
    ids = {}
    for n in PLACES:
        doc = web_doc(n)
        store.add(doc, None)
        ids[n] = doc.image_id
    store.commit()
    store.close()
    service = ServiceDb(index_dir / "service.db")
    instances = SqliteInstanceStore(service)
    instances.put(parse_instance(ALPHA))
    instances.put(parse_instance(BETA))
    key = SqliteKeyStore(service).create("tenant")
    # start_server passes this process's environment on to the server
    os.environ["PIXSEARCH_ADMIN_KEY"] = ADMIN_KEY
    try:
        process, base = start_server(index_dir, workers=2)
    finally:
        del os.environ["PIXSEARCH_ADMIN_KEY"]
    try:
        yield Custom(base, key, index_dir, ids)
    finally:
        stop_server(process)
    output = process.stdout.read().decode() if process.stdout else ""
    assert ADMIN_KEY not in output  # not even in a crash log


def search(custom: Custom, path: str = "/bingcustomsearch/v7.0/images/search", **params) -> dict:
    response = httpx.get(
        custom.base + path,
        params={"q": "red fox", **params},
        headers={"Ocp-Apim-Subscription-Key": custom.key},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def numbers(custom: Custom, body: dict) -> set[int]:
    by_id = {v: k for k, v in custom.ids.items()}
    return {by_id[v["imageId"]] for v in body["value"]}


def error_of(response: httpx.Response) -> dict:
    assert response.json()["_type"] == "ErrorResponse"
    return response.json()["errors"][0]


def test_slice_has_sites_prefixes_and_exclusions(custom: Custom) -> None:
    body = search(custom, customConfig="alpha", count=50)
    assert numbers(custom, body) == {1, 4, 6, 8}
    assert body["totalEstimatedMatches"] == 4
    beta = search(custom, path="/v7.0/custom/images/search", customConfig="beta")
    assert numbers(custom, beta) == {2}


def test_a_shared_image_shows_only_places_inside_the_slice(custom: Custom) -> None:
    body = search(custom, customConfig="alpha", count=50)
    shared = next(v for v in body["value"] if v["imageId"] == custom.ids[6])
    assert "alpha.example" in shared["hostPageUrl"]
    assert "delta.example" not in str(body)
    assert shared["insightsMetadata"]["pagesIncludingCount"] == 1
    assert shared["imageInsightsToken"].endswith("*cp_alpha")


def test_id_outside_the_slice_is_not_revealed(custom: Custom) -> None:
    body = search(custom, customConfig="beta", id=custom.ids[3])
    assert custom.ids[3] not in str(body)


def test_missing_and_unknown_custom_config(custom: Custom) -> None:
    url = custom.base + "/bingcustomsearch/v7.0/images/search"
    headers = {"Ocp-Apim-Subscription-Key": custom.key}
    missing = httpx.get(url, params={"q": "fox"}, headers=headers)
    assert missing.status_code == 400
    assert error_of(missing)["subCode"] == "ParameterMissing"
    assert error_of(missing)["parameter"] == "customConfig"
    anonymous = httpx.get(url, params={"q": "fox"})
    assert anonymous.status_code == 401  # the key is checked before the parameters
    unknown = httpx.get(url, params={"q": "fox", "customConfig": "nope"}, headers=headers)
    assert unknown.status_code == 400
    assert error_of(unknown)["subCode"] == "ParameterInvalidValue"
    assert error_of(unknown)["parameter"] == "customConfig"


def test_instance_defaults_and_market(custom: Custom) -> None:
    response = httpx.get(
        custom.base + "/bingcustomsearch/v7.0/images/search",
        params={"q": "red fox", "customConfig": "beta"},
        headers={"Ocp-Apim-Subscription-Key": custom.key},
    )
    assert response.headers["BingAPIs-Market"] == "en-GB"
    with_cc = httpx.get(
        custom.base + "/bingcustomsearch/v7.0/images/search",
        params={"q": "red fox", "customConfig": "beta", "cc": "CA"},
        headers={"Ocp-Apim-Subscription-Key": custom.key, "Accept-Language": "fr"},
    )
    assert with_cc.headers["BingAPIs-Market"] == "fr-CA"  # the caller's cc replaces mkt
    tall = {"sites": ["alpha.example"], "defaults": {"aspect": "Tall"}}
    assert admin(custom, "PUT", "/admin/instances/tall", json=tall).status_code == 200
    time.sleep(1.2)
    assert search(custom, customConfig="tall")["value"] == []  # every picture here is wide
    assert len(search(custom, customConfig="tall", aspect="Wide")["value"]) == 4


def admin(custom: Custom, method: str, path: str, **kwargs) -> httpx.Response:
    return httpx.request(
        method, custom.base + path, headers={"X-Admin-Key": ADMIN_KEY}, timeout=30, **kwargs
    )


def test_admin_api_changes_apply_without_restart(custom: Custom) -> None:
    pinned = custom.ids[8]
    definition = {
        "sites": ["alpha.example"],
        "boosted_sites": ["gamma.example"],
        "url_prefixes": ["gamma.example/"],
        "demoted_sites": ["www.alpha.example"],
        "pins": [{"query": "Red  FOX", "image_id": pinned, "position": 2}],
    }
    created = admin(custom, "PUT", "/admin/instances/tuned", json=definition)
    assert created.status_code == 200, created.text
    time.sleep(1.2)  # the workers' instance cache
    body = search(custom, customConfig="tuned", count=10)
    order = [numbers(custom, {"value": [v]}).pop() for v in body["value"]]
    assert order[1] == 8  # pinned at position 2
    assert order[0] in (3, 4)  # boosted gamma first
    assert order[-1] == 1  # demoted www.alpha last
    assert len(order) == len(set(order))
    listed = admin(custom, "GET", "/admin/instances").json()
    assert "tuned" in {i["config_id"] for i in listed["instances"]}
    assert admin(custom, "DELETE", "/admin/instances/tuned").status_code == 204
    time.sleep(1.2)
    gone = httpx.get(
        custom.base + "/bingcustomsearch/v7.0/images/search",
        params={"q": "red fox", "customConfig": "tuned"},
        headers={"Ocp-Apim-Subscription-Key": custom.key},
    )
    assert gone.status_code == 400


def test_admin_api_is_guarded_and_validates(custom: Custom) -> None:
    url = custom.base + "/admin/instances"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"X-Admin-Key": "wrong"}).status_code == 401
    bearer = httpx.get(url, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert bearer.status_code == 200
    bad = admin(custom, "POST", "/admin/instances", json={"config_id": "x", "sites": ["bad host"]})
    assert bad.status_code == 400 and error_of(bad)["code"] == "InvalidRequest"
    junk = admin(custom, "POST", "/admin/instances", content=b"{not json")
    assert junk.status_code == 400
    bad_default = {"config_id": "d", "defaults": {"safeSearch": "Sometimes"}}
    refused = admin(custom, "POST", "/admin/instances", json=bad_default)
    assert refused.status_code == 400 and "safeSearch" in error_of(refused)["message"]
    again = admin(custom, "POST", "/admin/instances", json=ALPHA)
    assert again.status_code == 400  # exists already
    usage = admin(custom, "GET", "/admin/keys/tenant/usage")
    assert usage.status_code == 200 and usage.json()["days"][0]["calls"] >= 1


def test_keys_are_confined_to_their_instances(custom: Custom) -> None:
    keys = SqliteKeyStore(ServiceDb(custom.index_dir / "service.db"))
    key = keys.create("beta-only", allowed_instances=("beta",))
    url = custom.base + "/bingcustomsearch/v7.0/images/search"
    headers = {"Ocp-Apim-Subscription-Key": key}
    assert httpx.get(url, params={"q": "fox", "customConfig": "beta"}, headers=headers).is_success
    other = httpx.get(url, params={"q": "fox", "customConfig": "alpha"}, headers=headers)
    assert other.status_code == 403 and error_of(other)["subCode"] == "AuthorizationDisabled"


def test_official_custom_client_unchanged(custom: Custom) -> None:
    sdk = CustomImageSearchClient(
        endpoint=custom.base, credentials=CognitiveServicesCredentials(custom.key)
    )
    images = sdk.custom_instance.image_search(custom_config="alpha", query="red fox", count=10)
    assert {v.image_id for v in images.value} == {custom.ids[n] for n in (1, 4, 6, 8)}
    assert images.total_estimated_matches == 4
    with pytest.raises(ErrorResponseException):
        sdk.custom_instance.image_search(custom_config="nope", query="red fox")


def test_custom_cli_round_trip(custom: Custom, tmp_path: Path) -> None:
    spec = tmp_path / "gamma.yaml"
    spec.write_text("config_id: gammaonly\nurl_prefixes:\n  - https://gamma.example/\n")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pixsearch", "custom", *args, "--index", str(custom.index_dir)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert cli("create", str(spec)).returncode == 0
    assert cli("create", str(spec)).returncode != 0  # exists
    assert "gammaonly" in cli("list").stdout
    time.sleep(1.2)
    assert numbers(custom, search(custom, customConfig="gammaonly")) == {3, 4}
    spec.write_text("config_id: gammaonly\nurl_prefixes: [gamma.example/private/]\n")
    assert cli("update", str(spec)).returncode == 0
    assert "private" in cli("show", "gammaonly").stdout
    time.sleep(1.2)
    assert numbers(custom, search(custom, customConfig="gammaonly")) == {3}
    bad = tmp_path / "bad.json"
    bad.write_text('{"config_id": "b", "sites": "not-a-list"}')
    failed = cli("create", str(bad))
    assert failed.returncode != 0 and "sites must be a list" in failed.stderr
    assert cli("delete", "gammaonly").returncode == 0
    assert cli("show", "gammaonly").returncode != 0


def test_insights_from_a_custom_token_stay_inside_the_slice(custom: Custom) -> None:
    body = search(custom, customConfig="alpha", count=50)
    token = next(v for v in body["value"] if v["imageId"] == custom.ids[6])["imageInsightsToken"]
    headers = {"Ocp-Apim-Subscription-Key": custom.key}
    insights = httpx.get(
        custom.base + "/v7.0/images/details", params={"insightsToken": token}, headers=headers
    ).json()
    pages = insights["pagesIncluding"]["value"]
    assert [p["hostPageUrl"] for p in pages] == ["https://alpha.example/shared/fox.html"]
    assert "delta.example" not in str(insights)
    assert insights["imageInsightsToken"].endswith("*cp_alpha")
    plain = search(custom, path="/v7.0/images/search", count=50)  # plain endpoint: all places
    token = next(v for v in plain["value"] if v["imageId"] == custom.ids[6])["imageInsightsToken"]
    everything = httpx.get(
        custom.base + "/v7.0/images/details", params={"insightsToken": token}, headers=headers
    ).json()
    assert len(everything["pagesIncluding"]["value"]) == 2
