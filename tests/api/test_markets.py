"""Markets (mkt, cc, setLang, Accept-Language) and client headers over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from pixsearch.api.clientinfo import parse_client_ip, parse_location


def market(api: httpx.Client, params: dict, headers: dict | None = None) -> httpx.Response:
    return api.get("/v7.0/images/search", params={"q": "circle", **params}, headers=headers or {})


@pytest.mark.parametrize(
    ("params", "language", "expected"),
    [
        ({"mkt": "en-GB"}, None, "en-GB"),
        ({"mkt": "de-de"}, None, "de-DE"),
        ({"mkt": "fr-XX"}, None, "fr-FR"),  # unlisted: best fit by language
        ({"mkt": "xx-YY"}, None, "en-US"),  # nothing fits: the default market
        ({"cc": "CA"}, "fr-CA,fr;q=0.9,en;q=0.5", "fr-CA"),
        ({"cc": "ch"}, "de", "de-CH"),
        ({"cc": "JP"}, "xx", "ja-JP"),  # no fitting language: the country's market
        ({}, "es-MX, es;q=0.8", "es-ES"),  # a browser's header alone is fine
        ({"setLang": "fr"}, None, "en-US"),
    ],
)
def test_market_resolution(api: httpx.Client, params: dict, language, expected: str) -> None:
    headers = {"Accept-Language": language} if language else {}
    response = market(api, params, headers)
    assert response.status_code == 200, response.text
    assert response.headers["BingAPIs-Market"] == expected


@pytest.mark.parametrize(
    ("params", "language", "parameter"),
    [
        ({"cc": "US"}, None, "cc"),  # cc needs Accept-Language
        ({"cc": "US", "mkt": "en-US"}, "en", "cc"),
        ({"setLang": "en"}, "en-US", "setLang"),  # setLang excludes Accept-Language
        ({"cc": "USA"}, "en", "cc"),
    ],
)
def test_market_rules_are_documented_400s(
    api: httpx.Client, params: dict, language, parameter: str
) -> None:
    headers = {"Accept-Language": language} if language else {}
    response = market(api, params, headers)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "InvalidRequest" and error["subCode"] == "ParameterInvalidValue"
    assert error["parameter"] == parameter


@pytest.mark.parametrize(
    "headers",
    [
        {"X-MSEdge-ClientIP": "999.1.1.1"},
        {"X-MSEdge-ClientIP": "not an address"},
        {"X-Search-Location": "lat:200;long:0;re:10"},
        {"X-Search-Location": "garbage"},
        {"X-Search-Location": "lat:47.6;long:-122.1"},  # re missing
        {"X-MSEdge-ClientIP": "2001:db8::1", "X-Search-Location": "lat:47.6;long:-122.1;re:22"},
    ],
)
def test_client_headers_never_fail_a_request(api: httpx.Client, headers: dict) -> None:
    assert market(api, {}, headers).status_code == 200


def test_client_header_validation() -> None:
    assert str(parse_client_ip(" 203.0.113.7 ")) == "203.0.113.7"
    assert parse_client_ip("203.0.113.x") is None
    good = parse_location("lat:47.6;long:-122.1;re:22;ts:1700000000;disp:Seattle, Washington")
    assert good is not None and good.display == "Seattle, Washington" and good.radius_m == 22
    assert parse_location("lat:47.6;long:-122.1;re:22;head:90") is None  # head needs sp
    assert parse_location("lat:47.6;long:-122.1;re:22;head:90;sp:3") is not None
    assert parse_location("lat:47.6;long:-122.1;re:22;are:5") is None  # are needs alt
    assert parse_location("lat:nan;long:0;re:1") is None
    assert parse_location("lat:1;lat:2;long:0;re:1") is None
