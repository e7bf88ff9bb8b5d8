"""POST /images/visualsearch with the official visual search client, and its errors."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from azure.cognitiveservices.search.visualsearch import VisualSearchClient
from azure.cognitiveservices.search.visualsearch.models import (
    CropArea,
    ErrorResponseException,
    Filters,
    ImageInfo,
    KnowledgeRequest,
    VisualSearchRequest,
)
from msrest.authentication import CognitiveServicesCredentials

from tests.api.conftest import Vision, photo, side_by_side


@pytest.fixture()
def client(vision: Vision) -> VisualSearchClient:
    return VisualSearchClient(
        endpoint=vision.base, credentials=CognitiveServicesCredentials(vision.key)
    )


def request_json(**info: object) -> str:
    filters = info.pop("site", None)
    knowledge = KnowledgeRequest(filters=Filters(site=filters)) if filters else None
    return json.dumps(
        VisualSearchRequest(image_info=ImageInfo(**info), knowledge_request=knowledge).serialize()
    )


def actions(knowledge) -> dict:  # type: ignore[no-untyped-def]
    default = knowledge.tags[0]
    assert default.display_name == ""
    return {a.action_type: a for a in default.actions}


def test_uploaded_image_gets_tags_and_actions(client: VisualSearchClient, vision: Vision) -> None:
    knowledge = client.images.visual_search(image=io.BytesIO(vision.pictures["cat"]))
    assert knowledge.image.image_insights_token
    found = actions(knowledge)
    similar = found["VisualSearch"]
    assert type(similar).__name__ == "ImageModuleAction" and similar.is_top_action
    assert similar.data.value[0].image_id == vision.ids["cat2"]
    assert found["ImageById"].image.image_id == vision.ids["cat"]
    pages = found["PagesIncluding"].data.value
    assert {p.host_page_url for p in pages} == {"http://pets.example/gallery"}
    assert found["BestRepresentativeQuery"].display_name == "cat"
    related = found["RelatedSearches"]
    assert type(related).__name__ == "ImageRelatedSearchesAction" and related.data.value


def test_token_input_with_shopping_and_products(client: VisualSearchClient, vision: Vision) -> None:
    token = client.images.visual_search(image=io.BytesIO(vision.pictures["rocket"])).image
    knowledge = client.images.visual_search(
        knowledge_request=request_json(image_insights_token=token.image_insights_token)
    )
    found = actions(knowledge)
    shopping = found["ShoppingSources"]
    assert type(shopping).__name__ == "ImageShoppingSourcesAction"
    assert shopping.data.offers[0].price == 19.99
    product = found["ProductVisualSearch"].data.value[0]
    assert product.image_id == vision.ids["rocket2"]
    assert product.insights_metadata.aggregate_offer.offers[0].price_currency == "EUR"


def test_recipes_action(client: VisualSearchClient, vision: Vision) -> None:
    knowledge = client.images.visual_search(image=io.BytesIO(vision.pictures["coffee"]))
    recipes = actions(knowledge)["Recipes"]
    assert type(recipes).__name__ == "ImageRecipesAction"
    assert recipes.data.value[0].name == "Espresso"


def test_crop_area_with_an_image_part(client: VisualSearchClient, vision: Vision) -> None:
    data, split = side_by_side(photo("chelsea"), photo("rocket"))
    crop = CropArea(top=0.0, bottom=1.0, left=split, right=1.0)
    knowledge = client.images.visual_search(
        knowledge_request=request_json(crop_area=crop), image=io.BytesIO(data)
    )
    first = actions(knowledge)["VisualSearch"].data.value[0]
    assert first.image_id in {vision.ids["rocket"], vision.ids["rocket2"]}


def skill_request(vapi: httpx.Client, image: bytes, **knowledge: object) -> dict:
    body = json.dumps({"knowledgeRequest": {"invokedSkills": ["SimilarImages"], **knowledge}})
    response = vapi.post(
        "/v7.0/images/visualsearch",
        files={"knowledgeRequest": (None, body), "image": ("i.jpg", image)},
    )
    assert response.status_code == 200, response.text
    tag = response.json()["tags"][0]
    assert [a["actionType"] for a in tag["actions"]] == ["VisualSearch"]
    return tag["actions"][0]["data"]


def test_site_filter_and_paging(vision: Vision, vapi: httpx.Client) -> None:
    cat = vision.pictures["cat"]
    first = skill_request(vapi, cat, count=1, filters={"site": "pets.example"})
    assert [v["imageId"] for v in first["value"]] == [vision.ids["cat2"]]
    assert first["currentOffset"] == 0 and first["nextOffset"] == 1
    after = skill_request(vapi, cat, offset=1, count=1, filters={"site": "pets.example"})
    assert after["value"] == [] and after["currentOffset"] == 1
    # The other cat is on pets.example and cats.example only: elsewhere, nothing similar.
    elsewhere = skill_request(vapi, cat, filters={"site": "shop.example"})
    assert elsewhere["value"] == []


def test_errors_are_documented(client: VisualSearchClient, vapi: httpx.Client) -> None:
    with pytest.raises(ErrorResponseException) as missing:
        client.images.visual_search(knowledge_request=request_json())
    error = missing.value.error.errors[0]
    assert (error.code, error.sub_code) == ("InvalidRequest", "ParameterMissing")
    both = request_json(url="http://127.0.0.1:9/x.jpg", image_insights_token="abc")
    with pytest.raises(ErrorResponseException) as twice:
        client.images.visual_search(knowledge_request=both)
    assert twice.value.error.errors[0].sub_code == "ParameterInvalidValue"
    bad_json = vapi.post("/bing/v7.0/images/visualsearch", files={"knowledgeRequest": (None, "{")})
    assert bad_json.status_code == 400
    assert bad_json.json()["errors"][0]["parameter"] == "knowledgeRequest"
    not_multipart = vapi.post("/v7.0/images/visualsearch", content=b"{}")
    assert not_multipart.status_code == 400
    assert vapi.get("/v7.0/images/visualsearch").status_code == 405


def test_image_info_url(client: VisualSearchClient, vision: Vision, picture_site: str) -> None:
    knowledge = client.images.visual_search(
        knowledge_request=request_json(url=f"{picture_site}/cat.jpg")
    )
    assert actions(knowledge)["ImageById"].image.image_id == vision.ids["cat"]
    with pytest.raises(ErrorResponseException) as refused:
        client.images.visual_search(knowledge_request=request_json(url=f"{picture_site}/hop0"))
    error = refused.value.error.errors[0]
    assert error.sub_code == "ParameterInvalidValue" and error.parameter == "imageInfo.url"
