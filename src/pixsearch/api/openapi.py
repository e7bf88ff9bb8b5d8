"""The OpenAPI document, derived from the declared parameters."""

from __future__ import annotations

from typing import Any

from pixsearch.api.params import PARAMETERS, Param

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


def openapi_document(version: str) -> dict[str, Any]:
    error = {
        "description": "ErrorResponse",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }
    search = {
        "summary": "Images matching q (Bing Image Search v7).",
        "parameters": [
            {
                "name": "Ocp-Apim-Subscription-Key",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
            },
            *(_parameter(p) for p in PARAMETERS),
        ],
        "responses": {
            "200": {"description": "Images answer"},
            "400": error,
            "401": error,
            "403": error,
            "429": error,
        },
    }
    thumbnail = {
        "summary": "A thumbnail, optionally resized (w, h, c, p as in the reference).",
        "parameters": [
            {"name": n, "in": "query", "schema": {"type": "string"}}
            for n in ("id", "pid", "w", "h", "c", "p")
        ],
        "responses": {"200": {"description": "JPEG image"}, "404": error},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "pixsearch — Bing Image Search v7 compatible API", "version": version},
        "paths": {
            "/v7.0/images/search": {"get": search},
            "/bing/v7.0/images/search": {"get": search},
            "/th": {"get": thumbnail},
        },
        "components": {
            "schemas": {
                "ErrorResponse": {
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
                                    for k in (
                                        "code",
                                        "subCode",
                                        "message",
                                        "moreDetails",
                                        "parameter",
                                        "value",
                                    )
                                },
                            },
                        },
                    },
                }
            }
        },
    }
