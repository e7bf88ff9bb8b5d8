"""The OpenAPI document, derived from the declared parameters."""

from __future__ import annotations

from typing import Any

from pixsearch.api.params import CUSTOM_CONFIG, PARAMETERS, Param

_TYPES = {"string": "string", "int": "integer", "enum": "string", "bool": "boolean"}


def _parameter(param: Param) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _TYPES[param.kind]}
    if param.values:
        schema["enum"] = list(param.values)
    if param.kind == "int":
        schema["minimum"] = 0
        if param.maximum is not None:
            schema["maximum"] = param.maximum
    return {
        "name": param.name,
        "in": "query",
        "required": param.name == "q",
        "description": param.description,
        "schema": schema,
    }


_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["_type", "errors"],
    "properties": {
        "_type": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    k: {"type": "string"}
                    for k in ("code", "subCode", "message", "moreDetails", "parameter", "value")
                },
            },
        },
    },
}
_ERROR = {
    "description": "ErrorResponse",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
}


def _search_operation(*, custom: bool = False) -> dict[str, Any]:
    key = {
        "name": "Ocp-Apim-Subscription-Key",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
    }
    return {
        "summary": "Images matching q"
        + (" inside a custom instance's slice." if custom else " (Bing Image Search v7)."),
        "parameters": [
            key,
            *(_parameter(p) for p in ((CUSTOM_CONFIG, *PARAMETERS) if custom else PARAMETERS)),
        ],
        "responses": {
            "200": {"description": "Images answer"},
            **{code: _ERROR for code in ("400", "401", "403", "429")},
        },
    }


def _thumbnail_operation() -> dict[str, Any]:
    return {
        "summary": "A thumbnail, optionally resized (w, h, c, p as in the reference).",
        "parameters": [
            {"name": n, "in": "query", "schema": {"type": "string"}}
            for n in ("id", "pid", "w", "h", "c", "p")
        ],
        "responses": {"200": {"description": "JPEG image"}, "404": _ERROR},
    }


def _details_operation() -> dict[str, Any]:
    names = ("q", "insightsToken", "id", "imgUrl", "modules", "cal", "cat", "car", "cab", "ct")
    return {
        "summary": "Insights for one image (token, id, or uploaded as multipart `image`).",
        "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}} for n in names],
        "responses": {
            "200": {"description": "ImageInsights answer"},
            **{code: _ERROR for code in ("400", "401", "403", "429")},
        },
    }


def openapi_document(version: str) -> dict[str, Any]:
    search = {"get": _search_operation()}
    custom = {"get": _search_operation(custom=True)}
    details = {"get": _details_operation(), "post": _details_operation()}
    trending = {
        "get": {
            "summary": "Trending searches, each with an image (from this server's query log).",
            "parameters": [
                {"name": n, "in": "query", "schema": {"type": "string"}}
                for n in ("mkt", "cc", "setLang", "safeSearch", "customConfig")
            ],
            "responses": {
                "200": {"description": "TrendingImages answer"},
                **{code: _ERROR for code in ("400", "401", "403", "429")},
            },
        }
    }
    visual = {
        "post": {
            "summary": "Visual search: multipart `knowledgeRequest` JSON and/or `image` part.",
            "parameters": [
                {"name": n, "in": "query", "schema": {"type": "string"}}
                for n in ("mkt", "cc", "setLang", "safeSearch")
            ],
            "responses": {
                "200": {"description": "ImageKnowledge answer"},
                **{code: _ERROR for code in ("400", "401", "403", "429")},
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "pixsearch — Bing Image Search v7 compatible API", "version": version},
        "paths": {
            "/v7.0/images/search": search,
            "/bing/v7.0/images/search": search,
            "/v7.0/custom/images/search": custom,
            "/bingcustomsearch/v7.0/images/search": custom,
            "/v7.0/images/details": details,
            "/bing/v7.0/images/details": details,
            "/v7.0/images/trending": trending,
            "/bing/v7.0/images/trending": trending,
            "/v7.0/images/visualsearch": visual,
            "/bing/v7.0/images/visualsearch": visual,
            "/th": {"get": _thumbnail_operation()},
        },
        "components": {"schemas": {"ErrorResponse": _ERROR_SCHEMA}},
    }
