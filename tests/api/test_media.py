"""Thumbnails, originals and image pages: no key needed, as the reference's clients expect."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from tests.conftest import Server


def first_result(api: httpx.Client, q: str) -> dict:
    return api.get("/v7.0/images/search", params={"q": q}).json()["value"][0]


def fetch_image(url: str) -> Image.Image:
    response = httpx.get(url)  # deliberately without the key
    assert response.status_code == 200, response.text
    return Image.open(io.BytesIO(response.content))


def test_thumbnail_resizing_follows_the_reference(api: httpx.Client) -> None:
    url = first_result(api, "sunset hills")["thumbnailUrl"]  # a 474x296 thumbnail
    assert fetch_image(url).size == (474, 296)
    assert fetch_image(url + "&w=200").size == (200, 125)
    assert fetch_image(url + "&h=100").size == (160, 100)
    padded = fetch_image(url + "&w=200&h=200")
    assert padded.size == (200, 200)
    assert padded.convert("RGB").getpixel((100, 2)) == (255, 255, 255)  # white padding
    assert fetch_image(url + "&w=200&h=200&p=0").size == (200, 125)
    assert fetch_image(url + "&w=600").size == (600, 375)  # upscaled by padding only
    assert fetch_image(url + "&w=200&h=200&c=4").size == (200, 200)


def test_bad_thumbnail_requests_are_bing_errors(server: Server) -> None:
    missing = httpx.get(server.base + "/th?id=OIP." + "0" * 64)
    assert missing.status_code == 404 and missing.json()["_type"] == "ErrorResponse"
    hostile = httpx.get(server.base + "/th?id=OIP.../../../etc/passwd")
    assert hostile.status_code == 404
    bad = httpx.get(server.base + "/th?id=OIP." + "0" * 64 + "&w=-3")
    assert bad.status_code in (400, 404)


def test_original_and_image_page(api: httpx.Client, server: Server) -> None:
    result = first_result(api, "checkerboard")
    original = fetch_image(result["contentUrl"])
    assert original.size == (result["width"], result["height"])
    page = httpx.get(result["hostPageUrl"])
    assert page.status_code == 200 and "checkerboard" in page.text.lower()
    assert httpx.get(server.base + "/files/" + "F" * 40).status_code == 404


def test_openapi_and_search_page(server: Server) -> None:
    spec = httpx.get(server.base + "/openapi.json").json()
    assert "/v7.0/images/search" in spec["paths"]
    names = {p["name"] for p in spec["paths"]["/v7.0/images/search"]["get"]["parameters"]}
    assert {"q", "count", "offset", "imageType", "license", "maxFileSize"} <= names
    page = httpx.get(server.base + "/search?q=cat")
    assert page.status_code == 200 and "<form" in page.text
    assert httpx.get(server.base + "/static/app.js").status_code == 200
    assert httpx.get(server.base + "/healthz").json() == {"ok": True}
    stats = httpx.get(server.base + "/stats").json()
    assert stats["images"] >= 60 and stats["occurrences"] > stats["images"]
    assert stats["analyzers"] == {}  # built without models, and none configured here
