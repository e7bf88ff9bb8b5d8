"""The official Python client, unchanged, against a real server."""

from __future__ import annotations

import pytest
from azure.cognitiveservices.search.imagesearch import ImageSearchClient
from azure.cognitiveservices.search.imagesearch.models import ErrorResponseException
from msrest.authentication import Authentication, CognitiveServicesCredentials

from tests.conftest import Server


def client(server: Server, key: str | None = None) -> ImageSearchClient:
    return ImageSearchClient(
        endpoint=server.base, credentials=CognitiveServicesCredentials(key or server.key)
    )


def test_sdk_search_deserialises_every_field(server: Server) -> None:
    images = client(server).images.search(query="red circle", count=5)
    assert images.value, "the SDK saw no results"
    first = images.value[0]
    assert "circle" in first.name.lower()
    assert first.width == 640 and first.height == 480
    assert first.content_url.startswith(server.base)
    assert first.thumbnail.width == 474
    assert first.image_id and first.image_insights_token
    assert first.accent_color and len(first.accent_color) == 6
    assert images.total_estimated_matches >= 1
    assert first.date_published is not None


def test_sdk_filters_and_paging(server: Server) -> None:
    sdk = client(server)
    large = sdk.images.search(query="pattern OR sky", size="Large", count=50)
    assert large.value and all(v.width >= 500 and v.height >= 500 for v in large.value)
    first = sdk.images.search(query="pattern", count=10, offset=0)
    second = sdk.images.search(query="pattern", count=10, offset=first.next_offset)
    assert {v.image_id for v in first.value}.isdisjoint(v.image_id for v in second.value)
    wide = sdk.images.search(query="pattern", aspect="Wide", min_width=320, count=50)
    assert wide.value and all(v.width >= 320 and v.width > v.height for v in wide.value)


@pytest.mark.parametrize(
    "credentials",
    [Authentication(), CognitiveServicesCredentials("not-a-key")],  # no key header; a bad one
    ids=["missing", "bad"],
)
def test_sdk_raises_its_error_for_a_missing_or_bad_key(server: Server, credentials) -> None:
    sdk = ImageSearchClient(endpoint=server.base, credentials=credentials)
    with pytest.raises(ErrorResponseException) as caught:
        sdk.images.search(query="circle")
    error = caught.value.error.errors[0]
    assert error.code == "InvalidAuthorization"
    assert error.sub_code == "AuthorizationMissing"


def test_sdk_raises_its_error_for_a_bad_enum(server: Server) -> None:
    with pytest.raises(ErrorResponseException) as caught:
        client(server).images.search(query="circle", aspect="Diagonal")
    assert caught.value.error.errors[0].parameter == "aspect"
