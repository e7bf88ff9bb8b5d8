"""GET|POST /v7.0/images/details over real HTTP, and the official client's details()."""

from __future__ import annotations

import io

import httpx
import pytest
from azure.cognitiveservices.search.imagesearch import ImageSearchClient
from msrest.authentication import CognitiveServicesCredentials
from PIL import Image

from tests.conftest import Server


def first(api: httpx.Client, q: str) -> dict:
    return api.get("/v7.0/images/search", params={"q": q}).json()["value"][0]


def details(api: httpx.Client, **params: str) -> dict:
    response = api.get("/v7.0/images/details", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_token_gives_pages_caption_query_and_tags(api: httpx.Client) -> None:
    image = first(api, "red circle white")
    body = details(api, insightsToken=image["imageInsightsToken"], q="")
    assert body["_type"] == "ImageInsights"
    pages = body["pagesIncluding"]["value"]
    hosts = {p["hostPageUrl"] for p in pages}
    # one page for the two files with the same bytes, one for the re-encoded copy
    assert len(pages) == 2 and len(hosts) == 2
    assert image["insightsMetadata"]["pagesIncludingCount"] == len(pages)
    assert all(p["imageId"] for p in pages)
    assert "red" in body["bestRepresentativeQuery"]["text"]
    assert {"red", "circle"} <= {t["name"] for t in body["imageTags"]["value"]}
    again = details(api, insightsToken=body["imageInsightsToken"])
    assert again["pagesIncluding"] == body["pagesIncluding"]


def test_id_and_modules(api: httpx.Client) -> None:
    image = first(api, "sunset hills")
    body = details(api, id=image["imageId"], modules="PagesIncluding")
    assert set(body) == {"_type", "imageInsightsToken", "pagesIncluding"}
    # the 640x400 near-duplicate's page is a page including this picture too
    assert len(body["pagesIncluding"]["value"]) == 2
    caption = details(api, id=image["imageId"], modules="caption,brq")
    assert caption["imageCaption"]["caption"] == "sunset over green hills"
    assert "pagesIncluding" not in caption


def upload(api: httpx.Client, data: bytes, **params: str) -> httpx.Response:
    return api.post(
        "/v7.0/images/details", params=params, files={"image": ("upload.jpg", data, "image/jpeg")}
    )


def test_uploading_a_resized_copy_finds_the_original(api: httpx.Client, server: Server) -> None:
    source = server.samples / "landscapes" / "clear_blue_sky_above_the_meadow.jpg"
    with Image.open(source) as image:
        buffer = io.BytesIO()
        image.resize((500, 312)).save(buffer, "JPEG", quality=70)
    response = upload(api, buffer.getvalue())
    assert response.status_code == 200, response.text
    body = response.json()
    names = [p["name"].lower() for p in body["pagesIncluding"]["value"]]
    assert any("blue sky" in n for n in names)
    follow = details(api, insightsToken=body["imageInsightsToken"])
    assert follow["pagesIncluding"]["value"][0]["name"].lower() == names[0]


def test_raw_body_upload_and_crop(api: httpx.Client, server: Server) -> None:
    data = (server.samples / "specials" / "black-and-white-checkerboard.png").read_bytes()
    raw = api.post("/v7.0/images/details", content=data, headers={"Content-Type": "image/png"})
    assert raw.status_code == 200 and raw.json()["pagesIncluding"]["value"]
    cropped = api.post(
        "/v7.0/images/details",
        params={"cal": "0.0", "cat": "0.0", "car": "0.3", "cab": "0.9"},
        files={"image": ("c.png", data, "image/png")},
    )
    assert cropped.status_code == 200
    assert "pagesIncluding" not in cropped.json()  # a region is not the whole picture


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"modules": "Everything"}, "modules"),
        ({"modules": "RecognizedEntities,Tags"}, "modules"),
        ({"insightsToken": "ccid_forged*mid_" + "A" * 40}, "insightsToken"),
        ({"id": "F" * 40}, "id"),
        ({}, "insightsToken"),
        ({"id": "x", "cal": "2"}, "cal"),
        ({"id": "x", "cal": "0.5", "car": "0.4"}, "cal"),
    ],
)
def test_bad_details_requests(api: httpx.Client, params: dict, parameter: str) -> None:
    response = api.get("/v7.0/images/details", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["parameter"] == parameter


def test_bad_uploads(api: httpx.Client) -> None:
    assert upload(api, b"not an image").status_code == 400
    big = upload(api, b"\xff\xd8" + b"0" * 1_100_000)
    assert big.status_code == 400 and big.json()["errors"][0]["parameter"] == "image"
    empty = api.post("/v7.0/images/details")
    assert empty.status_code == 400


def test_altered_token_never_names_another_image(api: httpx.Client) -> None:
    a = first(api, "checkerboard")["imageInsightsToken"]
    b = first(api, "coffee OR rocket OR sunset")["imageId"]
    forged = a.split("*mid_")[0] + "*mid_" + b
    assert api.get("/v7.0/images/details", params={"insightsToken": forged}).status_code == 400


def test_official_client_details(server: Server) -> None:
    client = ImageSearchClient(
        endpoint=server.base, credentials=CognitiveServicesCredentials(server.key)
    )
    token = client.images.search(query="checkerboard").value[0].image_insights_token
    insights = client.images.details(query="", insights_token=token, modules=["All"])
    assert insights.image_insights_token
    assert insights.pages_including.value[0].host_page_url
    assert insights.best_representative_query.text
    assert insights.image_tags.value[0].name
