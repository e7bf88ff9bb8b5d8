"""Error answers as an HTTP client and the official SDK expect them, over real HTTP.

- A URL over 2,048 characters: 414 URI Too Long with an ErrorResponse body. The
  reference documents 404 here; a 404 reads as "no such endpoint" to a client,
  and the SDK raises its ErrorResponseException for either.
- A method a path does not take: 405 with an Allow header (RFC 9110).
- A missing key and an unknown key: 401 InvalidAuthorization/AuthorizationMissing
  for both, as the reference answers (its example is an unknown key); the SDK's
  subCode enum has no other value for it, and moreDetails tells the two apart.
- HEAD on a GET path: the GET's status and headers without a body (details
  without an image reference is 400 either way); HEAD on a POST-only path: 405.
"""

from __future__ import annotations

import httpx
import pytest
from azure.cognitiveservices.search.imagesearch import ImageSearchClient
from azure.cognitiveservices.search.imagesearch.models import ErrorResponseException
from msrest.authentication import CognitiveServicesCredentials

from tests.reliability.conftest import KeyedServer

KEY = "Ocp-Apim-Subscription-Key"
LIMIT = 2048


def error_of(response: httpx.Response) -> dict:
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["_type"] == "ErrorResponse"
    return body["errors"][0]


@pytest.fixture
def client(keyed_server: KeyedServer) -> httpx.Client:
    return httpx.Client(base_url=keyed_server.base, headers={KEY: keyed_server.key}, timeout=30)


@pytest.mark.parametrize("path", ["/v7.0/images/search", "/bing/v7.0/images/search", "/th"])
def test_url_over_the_limit_is_414_and_at_the_limit_is_served(
    client: httpx.Client, path: str
) -> None:
    room = LIMIT - len(path) - len("?q=")
    at_limit = client.get(f"{path}?q={'7' * room}")
    assert at_limit.status_code in (200, 404)  # /th knows no id "77…"; never 414
    over = client.get(f"{path}?q={'7' * (room + 1)}")
    assert over.status_code == 414
    error = error_of(over)
    assert error["code"] == "InvalidRequest" and "2048" in error["message"]
    assert over.headers["BingAPIs-TraceId"]


def test_sdk_raises_its_error_for_an_over_long_query(keyed_server: KeyedServer) -> None:
    sdk = ImageSearchClient(
        endpoint=keyed_server.base, credentials=CognitiveServicesCredentials(keyed_server.key)
    )
    with pytest.raises(ErrorResponseException) as caught:
        sdk.images.search(query="picture " * 300)  # 2,400 characters
    assert caught.value.response.status_code == 414
    assert caught.value.error is not None
    assert caught.value.error.errors[0].code == "InvalidRequest"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/v7.0/images/search", "GET, HEAD"),
        ("DELETE", "/bing/v7.0/images/details", "GET, HEAD, POST"),
        ("GET", "/v7.0/images/visualsearch", "POST"),
        ("HEAD", "/bing/v7.0/images/visualsearch", "POST"),
        ("PUT", "/v7.0/images/trending", "GET, HEAD"),
        ("POST", "/th", "GET, HEAD"),
        ("POST", "/static/app.js", "GET, HEAD"),
    ],
)
def test_405_names_the_allowed_methods(
    client: httpx.Client, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    if method != "HEAD":
        assert error_of(response)["code"] == "InvalidRequest"


@pytest.mark.parametrize(
    ("headers", "details"),
    [({}, "missing"), ({KEY: "psk_not-a-key"}, "not recognized")],
    ids=["missing", "unknown"],
)
def test_missing_and_unknown_keys_answer_as_the_reference(
    keyed_server: KeyedServer, headers: dict[str, str], details: str
) -> None:
    response = httpx.get(
        keyed_server.base + "/v7.0/images/search", params={"q": "x"}, headers=headers
    )
    assert response.status_code == 401
    error = error_of(response)
    assert (error["code"], error["subCode"]) == ("InvalidAuthorization", "AuthorizationMissing")
    assert details in error["moreDetails"]


def test_sdk_maps_an_unknown_key_to_its_enum(keyed_server: KeyedServer) -> None:
    sdk = ImageSearchClient(
        endpoint=keyed_server.base, credentials=CognitiveServicesCredentials("psk_not-a-key")
    )
    with pytest.raises(ErrorResponseException) as caught:
        sdk.images.search(query="picture")
    assert caught.value.error is not None
    error = caught.value.error.errors[0]
    assert caught.value.response.status_code == 401
    assert error.sub_code == "AuthorizationMissing"  # a member of the SDK's ErrorSubCode
    assert "not recognized" in error.more_details


def head_targets(server: KeyedServer) -> list[tuple[str, dict[str, str]]]:
    return [
        ("/v7.0/images/details", {"insightsToken": server.token}),
        ("/bing/v7.0/images/details", {"id": server.image_id, "modules": "Caption"}),
        ("/v7.0/images/details", {}),  # no image reference: 400 for GET and HEAD alike
        ("/v7.0/images/search", {"q": "picture", "count": "3"}),
        ("/v7.0/images/trending", {}),
        ("/th", {"id": server.thumbnail_id}),
    ]


def test_head_is_get_without_a_body(keyed_server: KeyedServer, client: httpx.Client) -> None:
    for path, params in head_targets(keyed_server):
        get = client.get(path, params=params)
        head = client.head(path, params=params)
        assert head.status_code == get.status_code, path
        assert head.content == b"", path
        assert head.headers["content-type"] == get.headers["content-type"], path
        assert head.headers["content-length"] == get.headers["content-length"], path
    assert client.head("/v7.0/images/details").status_code == 400
