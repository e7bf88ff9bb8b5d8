"""Spelling correction and suggestion lists over real HTTP, and through the official client."""

from __future__ import annotations

import httpx
from azure.cognitiveservices.search.imagesearch import ImageSearchClient
from msrest.authentication import CognitiveServicesCredentials

from tests.conftest import Server

LISTS = ("queryExpansions", "similarTerms", "relatedSearches")


def search(api: httpx.Client, **params: object) -> dict:
    response = api.get("/v7.0/images/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def suggested(body: dict) -> list[dict]:
    out = [q for name in LISTS for q in body.get(name, [])]
    out += [q for pivot in body.get("pivotSuggestions", []) for q in pivot["suggestions"]]
    return out


def test_misspelled_query_is_corrected_and_can_be_forced(api: httpx.Client) -> None:
    body = search(api, q="sunst")
    assert body["queryContext"] == {
        "originalQuery": "sunst",
        "alteredQuery": "sunset",
        "alterationOverrideQuery": "+sunst",
    }
    assert body["value"] and "sunset" in body["value"][0]["name"].lower()
    forced = search(api, q=body["queryContext"]["alterationOverrideQuery"])
    assert "alteredQuery" not in forced["queryContext"]
    assert forced["value"] == []
    plain = search(api, q="sunset")
    assert "alteredQuery" not in plain["queryContext"]  # a known word is never altered


def test_every_suggestion_returns_results_under_the_same_filters(api: httpx.Client) -> None:
    kinds: set[str] = set()
    for q in ("red circle", "sunset", "blue sky", "cat", "astronaut"):
        for safe in ("Strict", "Off"):
            body = search(api, q=q, safeSearch=safe)
            kinds |= {name for name in (*LISTS, "pivotSuggestions") if body.get(name)}
            for query in suggested(body):
                assert query["text"] and query["displayText"]
                assert query["searchLink"].startswith("http") and "q=" in query["searchLink"]
                assert query["webSearchUrl"].startswith("http")
                again = search(api, q=query["text"], safeSearch=safe, count=1)
                assert again["value"], (q, query["text"])
    assert kinds == {*LISTS, "pivotSuggestions"}


def test_expansions_and_pivots_show_only_the_changed_word(api: httpx.Client) -> None:
    body = search(api, q="red circle")
    pivots = {p["pivot"]: p["suggestions"] for p in body["pivotSuggestions"]}
    assert set(pivots) <= {"red", "circle"} and pivots
    for pivot, suggestions in pivots.items():
        for s in suggestions:
            assert s["displayText"] in s["text"].split()
            assert pivot not in s["text"].split()
            assert s["thumbnail"]["thumbnailUrl"].startswith("http")
    for s in search(api, q="sunset").get("queryExpansions", []):
        assert s["text"] == f"sunset {s['displayText']}"
        assert api.get(s["thumbnail"]["thumbnailUrl"]).status_code == 200


def test_text_decorations_mark_query_words(api: httpx.Client) -> None:
    raw = search(api, q="red circle", textDecorations="true")
    assert "\ue000" in raw["value"][0]["name"] and "\ue001" in raw["value"][0]["name"]
    related = raw.get("relatedSearches", [])
    assert all("\ue000" in r["displayText"] for r in related)
    assert all("\ue000" not in r["text"] for r in related)  # text stays submittable
    html = search(api, q="red circle", textDecorations="true", textFormat="HTML")
    assert "<b>" in html["value"][0]["name"]
    plain = search(api, q="red circle")
    assert "\ue000" not in plain["value"][0]["name"]


def test_suggestions_only_on_the_first_page(api: httpx.Client) -> None:
    body = search(api, q="pattern", count=5, offset=5)
    assert not suggested(body)


def test_official_client_reads_every_suggestion_list(server: Server) -> None:
    client = ImageSearchClient(
        endpoint=server.base, credentials=CognitiveServicesCredentials(server.key)
    )
    result = client.images.search(query="red circle")
    assert result.pivot_suggestions and result.pivot_suggestions[0].suggestions
    first = result.pivot_suggestions[0].suggestions[0]
    assert first.text and first.display_text and first.search_link
    assert first.thumbnail is not None and first.thumbnail.thumbnail_url
    assert result.similar_terms and result.similar_terms[0].text
    expanded = client.images.search(query="sunset")
    assert expanded.query_expansions and expanded.query_expansions[0].display_text
