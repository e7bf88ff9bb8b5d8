"""GET /v7.0/images/search over real HTTP against a real server process."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Server


def search(api: httpx.Client, **params: object) -> dict:
    response = api.get("/v7.0/images/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_answer_has_the_images_shape(api: httpx.Client) -> None:
    body = search(api, q="red circle")
    assert body["_type"] == "Images"
    assert body["queryContext"] == {"originalQuery": "red circle"}
    assert body["currentOffset"] == 0
    assert body["totalEstimatedMatches"] >= 1
    first = body["value"][0]
    assert "red" in first["name"].lower() and "circle" in first["name"].lower()
    for field in (
        "name",
        "contentUrl",
        "hostPageUrl",
        "hostPageDisplayUrl",
        "thumbnailUrl",
        "datePublished",
        "imageId",
        "imageInsightsToken",
        "accentColor",
        "webSearchUrl",
        "encodingFormat",
    ):
        assert first[field], field
    assert first["width"] == 640 and first["height"] == 480
    assert first["thumbnail"] == {"width": 474, "height": 356}
    assert first["contentSize"].endswith(" B") and int(first["contentSize"][:-2]) > 0
    assert len(first["imageId"]) == 40 and first["imageId"] == first["imageId"].upper()
    assert len(first["accentColor"]) == 6
    assert first["datePublished"].endswith("Z") and len(first["datePublished"]) == 28
    assert first["insightsMetadata"]["pagesIncludingCount"] >= 1


def test_headers_and_client_id(api: httpx.Client) -> None:
    response = api.get("/v7.0/images/search", params={"q": "circle", "mkt": "EN-gb"})
    assert response.headers["BingAPIs-Market"] == "en-GB"
    assert len(response.headers["BingAPIs-TraceId"]) == 32
    minted = response.headers["X-MSEdge-ClientID"]
    assert minted
    echoed = api.get(
        "/v7.0/images/search", params={"q": "circle"}, headers={"X-MSEdge-ClientID": "ABC123"}
    )
    assert echoed.headers["X-MSEdge-ClientID"] == "ABC123"
    assert response.headers["content-type"].startswith("application/json")


def test_exact_duplicates_are_one_image_with_several_places(api: httpx.Client) -> None:
    body = search(api, q="red circle white", count=50)
    ids = [v["imageId"] for v in body["value"]]
    assert len(ids) == len(set(ids))
    same = [v for v in body["value"] if v["name"].lower().startswith("red circle on white")]
    # two files with these bytes and a re-encoded copy: one result, two distinct pages
    # (a local file's page is the image's own page)
    assert len(same) == 1 and same[0]["insightsMetadata"]["pagesIncludingCount"] == 2


def test_near_duplicates_are_collapsed(api: httpx.Client) -> None:
    body = search(api, q="sunset hills")
    # the 1280x800 original and its 640x400 copy are one group: shown once
    assert body["totalEstimatedMatches"] == 2
    assert len(body["value"]) == 1
    assert body["value"][0]["insightsMetadata"]["availableSizesCount"] == 2


def test_paging_has_no_overlap_and_no_gap(api: httpx.Client) -> None:
    seen: list[str] = []
    offset = 0
    for _ in range(10):
        body = search(api, q="pattern", count=7, offset=offset)
        assert body["currentOffset"] == offset
        seen += [v["imageId"] for v in body["value"]]
        if not body["value"]:
            break
        assert body["nextOffset"] > offset
        offset = body["nextOffset"]
    everything = search(api, q="pattern", count=150)["value"]
    assert len(seen) == len(set(seen))
    assert seen == [v["imageId"] for v in everything][: len(seen)]
    assert len(seen) >= 60


def test_order_is_stable_for_identical_requests(api: httpx.Client) -> None:
    first = [v["imageId"] for v in search(api, q="pattern", count=30)["value"]]
    again = [v["imageId"] for v in search(api, q="pattern", count=30)["value"]]
    assert first == again


def test_id_puts_that_image_first_and_only_once(api: httpx.Client) -> None:
    baseline = search(api, q="pattern", count=10)["value"]
    target = baseline[5]["imageId"]
    pinned = search(api, q="pattern", count=10, id=target)["value"]
    assert pinned[0]["imageId"] == target
    assert [v["imageId"] for v in pinned].count(target) == 1
    assert len(pinned) == 10


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"size": "Large"}, lambda v: v["width"] >= 500 and v["height"] >= 500),
        ({"size": "small"}, lambda v: v["width"] < 200 and v["height"] < 200),
        ({"aspect": "Wide"}, lambda v: v["width"] / v["height"] > 1.12),
        ({"aspect": "square"}, lambda v: 0.9 <= v["width"] / v["height"] <= 1.12),
        ({"minWidth": 320, "maxWidth": 330}, lambda v: 320 <= v["width"] <= 330),
        ({"width": 640}, lambda v: v["width"] == 640),
        ({"maxFileSize": 3000}, lambda v: int(v["contentSize"][:-2]) <= 3000),
        ({"imageType": "Transparent"}, lambda v: v["encodingFormat"] == "png"),
        ({"imageType": "AnimatedGif"}, lambda v: v["encodingFormat"] == "gif"),
    ],
)
def test_filters_return_only_matching_images(api: httpx.Client, params: dict, check) -> None:
    unfiltered = search(
        api, q="pattern OR circle OR sky OR ball OR logo OR sunset OR icon", count=150
    )
    body = search(
        api, q="pattern OR circle OR sky OR ball OR logo OR sunset OR icon", count=150, **params
    )
    assert body["value"], params
    assert all(check(v) for v in body["value"]), params
    assert len(body["value"]) <= len(unfiltered["value"])


def test_colour_filter(api: httpx.Client) -> None:
    body = search(api, q="checkerboard OR sky", color="Monochrome")
    names = [v["name"].lower() for v in body["value"]]
    assert any("checkerboard" in n for n in names)
    assert not any("blue sky" in n for n in names)


def test_unknown_licence_never_matches_a_licence_filter(api: httpx.Client) -> None:
    body = search(api, q="pattern OR sky OR sunset", license="Any", count=150)
    names = [v["name"].lower() for v in body["value"]]
    assert names and all("pattern" not in n for n in names)  # patterns have no licence
    public = search(api, q="sky OR sunset", license="Public", count=150)
    assert public["value"]  # the landscapes are CC0


def test_freshness_counts_from_discovery(api: httpx.Client) -> None:
    assert search(api, q="pattern", freshness="Day")["value"]


def test_query_operators_never_fail(api: httpx.Client) -> None:
    assert search(api, q='"red circle"')["value"]
    excluded = search(api, q="circle -red", count=150)["value"]
    assert excluded and all("red" not in v["name"].lower() for v in excluded)
    either = search(api, q="checkerboard OR ball")["value"]
    assert len(either) == 2
    for weird in (
        '"unterminated',
        "site:",
        "-",
        "OR",
        "(((",
        "filterui:imagesize-large cat",
        "a:b:c",
        "\u2603",
        "AND NOT",
    ):
        api.get("/v7.0/images/search", params={"q": weird}).raise_for_status()
    assert search(api, q="circle site:example.com")["value"] == []


def test_bing_sdk_path_prefix(api: httpx.Client) -> None:
    assert api.get("/bing/v7.0/images/search", params={"q": "circle"}).status_code == 200


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert body["_type"] == "ErrorResponse"
    assert response.headers["content-type"].startswith("application/json")
    return body["errors"][0]


def test_missing_and_unknown_keys(server: Server) -> None:
    url = server.base + "/v7.0/images/search"
    missing = httpx.get(url, params={"q": "x"})
    assert missing.status_code == 401
    assert error_of(missing)["subCode"] == "AuthorizationMissing"
    wrong = httpx.get(url, params={"q": "x"}, headers={"Ocp-Apim-Subscription-Key": "nope"})
    assert wrong.status_code == 401 and error_of(wrong)["code"] == "InvalidAuthorization"
    both = httpx.get(
        url,
        params={"q": "x", "subscription-key": server.key},
        headers={"Ocp-Apim-Subscription-Key": server.key},
    )
    assert both.status_code == 401 and error_of(both)["subCode"] == "AuthorizationRedundancy"


@pytest.mark.parametrize(
    ("params", "parameter", "sub_code"),
    [
        ({}, "q", "ParameterMissing"),
        ({"q": "  "}, "q", "ParameterMissing"),
        ({"q": "x", "aspect": "Bogus"}, "aspect", "ParameterInvalidValue"),
        ({"q": "x", "count": "-5"}, "count", "ParameterInvalidValue"),
        ({"q": "x", "count": "ten"}, "count", "ParameterInvalidValue"),
        ({"q": "x", "offset": "70000"}, "offset", "ParameterInvalidValue"),
        ({"q": "x", "safeSearch": "None"}, "safeSearch", "ParameterInvalidValue"),
        ({"q": "x", "height": "10", "minHeight": "5"}, "minHeight", "ParameterInvalidValue"),
        ({"q": "x", "width": "10", "maxWidth": "50"}, "maxWidth", "ParameterInvalidValue"),
        ({"q": "x", "mkt": "en-US", "cc": "US"}, "cc", "ParameterInvalidValue"),
        ({"q": "x", "textDecorations": "maybe"}, "textDecorations", "ParameterInvalidValue"),
    ],
)
def test_bad_parameters_get_documented_400s(
    api: httpx.Client, params: dict, parameter: str, sub_code: str
) -> None:
    response = api.get("/v7.0/images/search", params=params)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "InvalidRequest"
    assert error["subCode"] == sub_code
    assert error["parameter"] == parameter


def test_count_is_clamped_to_150_and_enums_any_case(api: httpx.Client) -> None:
    body = search(api, q="pattern", count=500, license="all", imageType="PHOTO")
    assert len(body["value"]) <= 150


def test_unknown_route_and_long_url(api: httpx.Client) -> None:
    response = api.get("/v7.0/images/nothing")
    assert response.status_code == 404 and error_of(response)["code"] == "InvalidRequest"
    long = api.get("/v7.0/images/search", params={"q": "x" * 2100})
    assert long.status_code == 414 and error_of(long)["code"] == "InvalidRequest"
    posted = api.post("/v7.0/images/search", params={"q": "x"})
    assert posted.status_code == 405 and error_of(posted)["code"] == "InvalidRequest"


def test_new_commits_are_served_without_restart(
    server: Server, api: httpx.Client, tmp_path
) -> None:
    from PIL import Image

    from tests.conftest import ingest_folder

    assert search(api, q="zebracorn")["value"] == []
    folder = tmp_path / "more"
    folder.mkdir()
    Image.new("RGB", (320, 240), (10, 200, 10)).save(folder / "zebracorn-meadow.png")
    ingest_folder(folder, server.index_dir)
    import time

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not search(api, q="zebracorn")["value"]:
        time.sleep(0.1)
    assert search(api, q="zebracorn")["value"][0]["width"] == 320
