"""/images/details modules from embeddings, pages and faces, and imgUrl, over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from azure.cognitiveservices.search.imagesearch import ImageSearchClient
from msrest.authentication import CognitiveServicesCredentials

from tests.api.conftest import GALLERY, Vision, photo, side_by_side


def details(api: httpx.Client, **params: str) -> dict:
    response = api.get("/v7.0/images/details", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def ids_of(module: dict) -> list[str]:
    return [image["imageId"] for image in module["value"]]


def test_similar_images_skip_the_picture_itself(vapi: httpx.Client, vision: Vision) -> None:
    body = details(vapi, id=vision.ids["cat"], modules="SimilarImages")
    similar = ids_of(body["visuallySimilarImages"])
    assert similar[0] == vision.ids["cat2"]  # the mirrored, reframed cat
    assert vision.ids["cat"] not in similar
    first = body["visuallySimilarImages"]["value"][0]
    assert first["imageInsightsToken"] and first["insightsMetadata"]["pagesIncludingCount"] == 2


def test_safe_search_applies_to_similar_images(vapi: httpx.Client, vision: Vision) -> None:
    def similar(level: str) -> list[str]:
        body = details(vapi, id=vision.ids["cat"], modules="SimilarImages", safeSearch=level)
        return ids_of(body["visuallySimilarImages"])

    assert vision.ids["cat3"] in similar("Off") and vision.ids["cat3"] in similar("Moderate")
    assert vision.ids["cat3"] not in similar("Strict")
    assert vision.ids["cat2"] in similar("Strict")


def test_collections_are_pages_with_many_images(vapi: httpx.Client, vision: Vision) -> None:
    body = details(vapi, id=vision.ids["cat2"], modules="Collections")
    galleries = body["relatedCollections"]["value"]
    assert [g["url"] for g in galleries] == [GALLERY]  # the kitten page has one image only
    assert galleries[0]["imagesCount"] == 4 and galleries[0]["_type"] == "ImageGallery"
    assert galleries[0]["source"] == "pets.example"
    assert "relatedCollections" not in details(vapi, id=vision.ids["coffee"], modules="Collections")


def test_shopping_sources_and_similar_products(vapi: httpx.Client, vision: Vision) -> None:
    body = details(vapi, id=vision.ids["rocket"], modules="ShoppingSources,SimilarProducts")
    offer = body["shoppingSources"]["offers"][0]
    assert body["shoppingSources"]["_type"] == "AggregateOffer"
    assert (offer["price"], offer["priceCurrency"]) == (19.99, "USD")
    assert offer["seller"]["name"] == "Rocket Shop" and offer["availability"] == "InStock"
    products = body["visuallySimilarProducts"]["value"]
    assert [p["imageId"] for p in products] == [vision.ids["rocket2"]]
    aggregate = products[0]["insightsMetadata"]["aggregateOffer"]
    assert aggregate["offers"][0]["price"] == 24.5 and aggregate["lowPrice"] == 24.5


def test_recipes(vapi: httpx.Client, vision: Vision) -> None:
    recipe = details(vapi, id=vision.ids["coffee"], modules="Recipes")["recipes"]["value"][0]
    assert recipe["_type"] == "Recipe" and recipe["name"] == "Espresso"
    assert recipe["totalTime"] == "PT5M" and recipe["aggregateRating"]["ratingValue"] == 4.5
    assert recipe["url"] == "http://food.example/espresso"


def test_recognized_entities_are_face_regions(vapi: httpx.Client, vision: Vision) -> None:
    body = details(vapi, id=vision.ids["astronaut"], modules="RecognizedEntities")
    group = body["recognizedEntityGroups"]["value"][0]
    region = group["recognizedEntityRegions"][0]
    box = region["region"]
    assert box["_type"] == "NormalizedRectangle" and region["matchingEntities"] == []
    assert 0.25 < box["left"] < box["right"] < 0.65 and 0.05 < box["top"] < box["bottom"] < 0.5
    assert "recognizedEntityGroups" not in details(
        vapi, id=vision.ids["rocket"], modules="RecognizedEntities"
    )


def test_the_crop_chooses_what_is_similar(vapi: httpx.Client, vision: Vision) -> None:
    data, split = side_by_side(photo("chelsea"), photo("rocket"))
    files = {"image": ("both.jpg", data, "image/jpeg")}
    left = vapi.post(
        "/v7.0/images/details",
        params={"modules": "SimilarImages", "car": f"{split:.3f}"},
        files=files,
    ).json()
    right = vapi.post(
        "/v7.0/images/details",
        params={"modules": "SimilarImages", "cal": f"{split:.3f}"},
        files=files,
    ).json()
    cats = {vision.ids["cat"], vision.ids["cat2"]}
    rockets = {vision.ids["rocket"], vision.ids["rocket2"]}
    # Each half is a near-duplicate of one indexed photo (its own group, left out): the
    # nearest other image is the same subject's variant.
    assert ids_of(left["visuallySimilarImages"])[0] in cats
    assert ids_of(right["visuallySimilarImages"])[0] in rockets
    # The upload's token keeps its embedding: a later GET finds the same neighbours.
    again = details(vapi, insightsToken=left["imageInsightsToken"], modules="SimilarImages")
    assert ids_of(again["visuallySimilarImages"]) == ids_of(left["visuallySimilarImages"])


def test_the_official_client_reads_every_module(vision: Vision) -> None:
    client = ImageSearchClient(
        endpoint=vision.base, credentials=CognitiveServicesCredentials(vision.key)
    )
    token = details(
        httpx.Client(base_url=vision.base, headers={"Ocp-Apim-Subscription-Key": vision.key}),
        id=vision.ids["rocket"],
        modules="BRQ",
    )["imageInsightsToken"]
    insights = client.images.details(query="", insights_token=token, modules=["All"])
    assert insights.visually_similar_images.value[0].image_id == vision.ids["rocket2"]
    assert insights.shopping_sources.offers[0].price == 19.99
    assert insights.shopping_sources.offers[0].seller.name == "Rocket Shop"
    product = insights.visually_similar_products.value[0]
    assert product.insights_metadata.aggregate_offer.offers[0].price == 24.5
    rocket = client.images.details(query="", insights_token=token, modules=["Recipes"])
    assert rocket.recipes is None  # the rocket has no recipe: the module is omitted
    coffee = client.images.details(
        query="", insights_token=_token(vision, "coffee"), modules=["Recipes"]
    )
    assert coffee.recipes.value[0].name == "Espresso"
    faces = client.images.details(
        query="",
        insights_token=_token(vision, "astronaut"),
        modules=["RecognizedEntities"],
    )
    region = faces.recognized_entity_groups.value[0].recognized_entity_regions[0]
    assert 0 < region.region.left < region.region.right < 1


def _token(vision: Vision, name: str) -> str:
    with httpx.Client(
        base_url=vision.base, headers={"Ocp-Apim-Subscription-Key": vision.key}
    ) as client:
        return details(client, id=vision.ids[name], modules="BRQ")["imageInsightsToken"]


# -- imgUrl ------------------------------------------------------------------------


def test_img_url_is_fetched_and_gets_a_token(
    vapi: httpx.Client, vision: Vision, picture_site: str
) -> None:
    body = details(vapi, imgUrl=f"{picture_site}/moved", modules="SimilarImages,PagesIncluding")
    assert vision.ids["cat"] in ids_of(body["pagesIncluding"])  # the same bytes: indexed
    assert ids_of(body["visuallySimilarImages"])[0] == vision.ids["cat2"]
    again = details(vapi, insightsToken=body["imageInsightsToken"], modules="PagesIncluding")
    assert again["pagesIncluding"] == body["pagesIncluding"]


@pytest.mark.parametrize(
    ("path", "why"),
    [("/hop0", "redirects more than 5"), ("/missing.jpg", "HTTP 404")],
)
def test_img_url_failures_are_documented_errors(
    vapi: httpx.Client, picture_site: str, path: str, why: str
) -> None:
    response = vapi.get("/v7.0/images/details", params={"imgUrl": picture_site + path})
    error = response.json()["errors"][0]
    assert response.status_code == 400 and error["subCode"] == "ParameterInvalidValue"
    assert error["parameter"] == "imgUrl" and why in error["message"]


def test_img_url_to_loopback_is_refused_by_default(api: httpx.Client, picture_site: str) -> None:
    # The session server runs with the default fetch_private=false.
    for url in (f"{picture_site}/cat.jpg", "http://localhost:9/x.jpg", "file:///etc/passwd"):
        response = api.get("/v7.0/images/details", params={"imgUrl": url})
        assert response.status_code == 400, response.text
        error = response.json()["errors"][0]
        assert (error["code"], error["subCode"]) == ("InvalidRequest", "ParameterInvalidValue")
        assert error["parameter"] == "imgUrl"


def test_an_image_part_without_a_filename_is_an_upload(vapi: httpx.Client, vision: Vision) -> None:
    # What the visual search client sends, and what hand-written callers often do.
    files = {"image": (None, vision.pictures["rocket"], "application/octet-stream")}
    response = vapi.post("/v7.0/images/details", params={"modules": "SimilarImages"}, files=files)
    assert response.status_code == 200, response.text
    assert ids_of(response.json()["visuallySimilarImages"])[0] == vision.ids["rocket2"]
