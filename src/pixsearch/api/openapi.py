"""The OpenAPI document, derived from the declared parameters.

It states the answers the server really gives, and tests/reliability/
test_schemathesis.py holds a running server to it: every status an operation
returns, the ErrorResponse body with the SDKs' code and subCode values, the
headers that come with each answer. OpenAPI cannot say that two parameters
exclude each other, so those rules (cc with mkt, height with minHeight, one
image source on details) are in the parameters' descriptions.
"""

from __future__ import annotations

from typing import Any

from pixsearch.api.errors import CODES, SUB_CODES
from pixsearch.api.params import CUSTOM_CONFIG, PARAMETERS, Param
from pixsearch.api.thumbresize import MAX_SIDE

_TYPES = {"string": "string", "int": "integer", "enum": "string", "bool": "boolean"}
_INT32_MAX = 2**31 - 1  # params.Params.integer's bound where a parameter names none
_SEARCH_PATHS = ("/v7.0", "/bing/v7.0")
_ONE_SOURCE = (
    "The image is the uploaded one (POST), else insightsToken's, else id's, else imgUrl's;"
    " none of them: 400 ParameterMissing."
)
# Rules between parameters, which a parameter's own schema cannot express.
_RULES = {
    "q": "Must hold a non-blank character.",
    "cc": "Not with mkt; needs the Accept-Language header (400 naming cc otherwise).",
    "mkt": "Not with cc.",
    "setLang": "Not with the Accept-Language header.",
    "height": "Not with minHeight or maxHeight.",
    "width": "Not with minWidth or maxWidth.",
    "minHeight": "Not with height.",
    "maxHeight": "Not with height.",
    "minWidth": "Not with width.",
    "maxWidth": "Not with width.",
    "count": "Values over 150 are served as 150.",
}

_PATTERNS = {"q": r"\S", "cc": r"^\s*[A-Za-z]{2}\s*$"}


def _described(param: Param) -> str:
    rule = _RULES.get(param.name)
    return f"{param.description} {rule}" if rule else param.description


def _parameter(param: Param, *, required: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _TYPES[param.kind]}
    if param.values:
        schema["enum"] = list(param.values)
    if param.kind == "int":
        schema["minimum"] = 0
        schema["maximum"] = param.maximum if param.maximum is not None else _INT32_MAX
    if param.name in _PATTERNS:
        schema["pattern"] = _PATTERNS[param.name]
    return {
        "name": param.name,
        "in": "query",
        "required": required,
        "description": _described(param),
        "schema": schema,
        # An empty value reads as no value (params.Params); a required one is then missing.
        "allowEmptyValue": not required,
    }


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": schema or {"type": "string"},
        "allowEmptyValue": True,
    }


_BY_NAME = {p.name: p for p in PARAMETERS}
_MARKET = [_parameter(_BY_NAME[n]) for n in ("mkt", "cc", "setLang", "safeSearch")]
# Insights do not depend on the market: details and visual search take these unchecked.
_IGNORED_MARKET = [
    *(
        _query(n, "Accepted for compatibility; the answer does not depend on it.")
        for n in ("mkt", "cc", "setLang")
    ),
    _parameter(_BY_NAME["safeSearch"]),
]
_ACCEPT_LANGUAGE = {
    "name": "Accept-Language",
    "in": "header",
    "description": "Languages in order of preference; cc needs it, setLang excludes it.",
    "schema": {"type": "string"},
}
_UNIT = {"type": "number", "minimum": 0, "maximum": 1}


def _error_schema() -> dict[str, Any]:
    error = {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "enum": list(CODES)},
            "subCode": {"type": "string", "enum": list(SUB_CODES)},
            **{k: {"type": "string"} for k in ("message", "moreDetails", "parameter", "value")},
        },
    }
    return {
        "type": "object",
        "required": ["_type", "errors"],
        "properties": {
            "_type": {"const": "ErrorResponse"},
            "errors": {"type": "array", "minItems": 1, "items": error},
        },
    }


def _answer_schemas() -> dict[str, Any]:
    image = {
        "type": "object",
        "required": ["thumbnailUrl", "contentUrl", "imageId"],
        "properties": {
            "thumbnailUrl": {"type": "string"},
            "contentUrl": {"type": "string"},
            "imageId": {"type": "string"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
        },
    }
    image_ref = {"$ref": "#/components/schemas/ImageObject"}
    tile = {"type": "object", "required": ["query", "image"], "properties": {"image": image_ref}}
    category = {
        "type": "object",
        "required": ["title", "tiles"],
        "properties": {"title": {"type": "string"}, "tiles": {"type": "array", "items": tile}},
    }
    tag = {
        "type": "object",
        "required": ["displayName", "actions"],
        "properties": {"displayName": {"type": "string"}, "actions": {"type": "array"}},
    }

    def answer(kind: str, **fields: Any) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["_type", *fields],
            "properties": {"_type": {"const": kind}, **fields},
        }

    return {
        "ImageObject": image,
        "Images": answer(
            "Images",
            value={"type": "array", "items": image_ref},
            totalEstimatedMatches={"type": "integer", "minimum": 0},
            nextOffset={"type": "integer", "minimum": 0},
        ),
        "ImageInsights": answer("ImageInsights", imageInsightsToken={"type": "string"}),
        "TrendingImages": answer("TrendingImages", categories={"type": "array", "items": category}),
        "ImageKnowledge": answer(
            "ImageKnowledge", image={"type": "object"}, tags={"type": "array", "items": tag}
        ),
        "ErrorResponse": _error_schema(),
    }


def _header(description: str, pattern: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if pattern:
        schema["pattern"] = pattern
    return {"description": description, "required": True, "schema": schema}


_HEADERS = {
    "TraceId": _header("Id of this answer in the server's log.", "^[0-9A-F]{32}$"),
    "Market": _header("The market the answer was made for."),
    "ClientId": _header("The caller's X-MSEdge-ClientID, or a new one."),
    "Allow": _header("The methods this path takes."),
    "RetryAfter": _header("Seconds to wait before calling again.", "^[0-9]+$"),
}


def _json(schema: str, description: str, *extra_headers: str) -> dict[str, Any]:
    names = {"BingAPIs-TraceId": "TraceId", "BingAPIs-Market": "Market"}
    names["X-MSEdge-ClientID"] = "ClientId"
    names.update({h: h.replace("-", "") for h in extra_headers})
    return {
        "description": description,
        "headers": {h: {"$ref": f"#/components/headers/{ref}"} for h, ref in names.items()},
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


_RESPONSES = {
    "BadRequest": _json(
        "ErrorResponse", "InvalidRequest: ParameterMissing or ParameterInvalidValue."
    ),
    "Unauthorized": _json(
        "ErrorResponse",
        "InvalidAuthorization: AuthorizationMissing for a missing or unknown key (moreDetails"
        " says which), AuthorizationRedundancy for a key in both header and query.",
    ),
    "Forbidden": _json(
        "ErrorResponse",
        "InsufficientAuthorization (key disabled, expired or without access to the instance)"
        " or RateLimitExceeded (monthly quota used up, with Retry-After).",
    ),
    "NotFound": _json("ErrorResponse", "No such resource."),
    "MethodNotAllowed": _json(
        "ErrorResponse", "A method the path does not take; Allow lists those it does.", "Allow"
    ),
    "UriTooLong": _json(
        "ErrorResponse",
        "The URL is over 2,048 characters (the reference answers 404 here; 414 says why).",
    ),
    "TooManyRequests": _json(
        "ErrorResponse", "RateLimitExceeded: too many calls per second.", "Retry-After"
    ),
    "ServerError": _json("ErrorResponse", "ServerError: an unexpected failure (a bug)."),
}
_API_ERRORS = {
    "400": "BadRequest",
    "401": "Unauthorized",
    "403": "Forbidden",
    "405": "MethodNotAllowed",
    "414": "UriTooLong",
    "429": "TooManyRequests",
    "500": "ServerError",
}


def _operation(
    summary: str, answer: str, parameters: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    return {
        "summary": summary,
        "parameters": parameters,
        "responses": {
            "200": _json(answer, f"{answer} answer"),
            **{
                code: {"$ref": f"#/components/responses/{name}"}
                for code, name in _API_ERRORS.items()
            },
        },
        **extra,
    }


def _search_operation(*, custom: bool = False) -> dict[str, Any]:
    params = [_parameter(p, required=p.name == "q") for p in PARAMETERS]
    if custom:
        params.insert(0, _parameter(CUSTOM_CONFIG, required=True))
    summary = "Images matching q" + (
        " inside a custom instance's slice." if custom else " (Bing Image Search v7)."
    )
    return _operation(summary, "Images", [*params, _ACCEPT_LANGUAGE])


def _details_operation(*, upload: bool) -> dict[str, Any]:
    params = [
        _query("insightsToken", f"Token of an image from an earlier answer. {_ONE_SOURCE}"),
        _query("id", f"imageId of an indexed image. {_ONE_SOURCE}"),
        _query("imgUrl", f"http(s) URL of a picture for the server to fetch. {_ONE_SOURCE}"),
        _query("q", "The query the image was found with (for the related modules)."),
        _query("modules", "Comma-separated insights; RecognizedEntities only alone. Default All."),
        *(
            _query(n, "Crop edge, 0.0 to 1.0; left < right, top < bottom.", _UNIT)
            for n in ("cal", "cat", "car", "cab")
        ),
        _query("ct", "Crop type: Rectangular."),
        *_IGNORED_MARKET,
    ]
    extra: dict[str, Any] = {}
    if upload:
        extra["requestBody"] = _upload_body({"image": {"type": "string", "format": "binary"}})
    summary = "Insights for one image (" + ("uploaded" if upload else "token, id or imgUrl") + ")."
    return _operation(summary, "ImageInsights", params, **extra)


def _upload_body(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": "multipart/form-data, the picture at most 1 MB.",
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "properties": properties}}
        },
    }


def _visual_operation() -> dict[str, Any]:
    body = _upload_body(
        {
            "knowledgeRequest": {
                "type": "string",
                "description": "JSON: imageInfo (imageInsightsToken, url, cropArea) and "
                "knowledgeRequest.filters.site. Exactly one image source: the image part,"
                " imageInfo.imageInsightsToken or imageInfo.url (400 otherwise).",
            },
            "image": {"type": "string", "format": "binary"},
        }
    )
    body["required"] = True
    return _operation(
        "Visual search: tags with actions for one picture.",
        "ImageKnowledge",
        _IGNORED_MARKET,
        requestBody=body,
    )


def _trending_operation() -> dict[str, Any]:
    scope = _query("customConfig", "Trending within a custom instance (400 if unknown).")
    return _operation(
        "Trending searches, each with an image (from this server's query log).",
        "TrendingImages",
        [*_MARKET, scope, _ACCEPT_LANGUAGE],
    )


def _thumbnail_operation() -> dict[str, Any]:
    side = {"type": "integer", "minimum": 1, "maximum": MAX_SIDE}
    return {
        "summary": "A thumbnail, optionally resized (w, h, c, p as in the reference); no key.",
        "security": [],
        "parameters": [
            _query("id", "OIP.<thumbnail id> from a thumbnailUrl."),
            _query("pid", "Ignored (the reference's caller id)."),
            *(_query(n, f"{n}: pixels, 1 to {MAX_SIDE}.", side) for n in ("w", "h", "c")),
            _query("p", "Pad to the asked shape: 1 (default) or 0."),
        ],
        "responses": {
            "200": {"description": "JPEG image", "content": {"image/jpeg": {}}},
            "304": {"description": "Not modified (If-None-Match matched the ETag)."},
            "400": {"$ref": "#/components/responses/BadRequest"},
            "404": {"$ref": "#/components/responses/NotFound"},
            "405": {"$ref": "#/components/responses/MethodNotAllowed"},
            "414": {"$ref": "#/components/responses/UriTooLong"},
        },
    }


_DESCRIPTION = (
    "Every GET operation also answers HEAD: the same status and headers, no body. "
    "A method a path does not take gets 405 with an Allow header; a path not listed here "
    "gets 404; a URL over 2,048 characters gets 414. Every error is an ErrorResponse."
)


def openapi_document(version: str) -> dict[str, Any]:
    search = {"get": _search_operation()}
    custom = {"get": _search_operation(custom=True)}
    details = {"get": _details_operation(upload=False), "post": _details_operation(upload=True)}
    trending = {"get": _trending_operation()}
    visual = {"post": _visual_operation()}
    paths: dict[str, Any] = {}
    for prefix in _SEARCH_PATHS:
        paths[f"{prefix}/images/search"] = search
        paths[f"{prefix}/images/details"] = details
        paths[f"{prefix}/images/trending"] = trending
        paths[f"{prefix}/images/visualsearch"] = visual
    paths["/v7.0/custom/images/search"] = custom
    paths["/bingcustomsearch/v7.0/images/search"] = custom
    paths["/th"] = {"get": _thumbnail_operation()}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pixsearch — Bing Image Search v7 compatible API",
            "version": version,
            "description": _DESCRIPTION,
        },
        "paths": paths,
        "security": [{"SubscriptionKey": []}, {"SubscriptionKeyQuery": []}],
        "components": {
            "schemas": _answer_schemas(),
            "responses": _RESPONSES,
            "headers": _HEADERS,
            "securitySchemes": {
                "SubscriptionKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Ocp-Apim-Subscription-Key",
                },
                "SubscriptionKeyQuery": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "subscription-key",
                    "description": "The API-management form; not together with the header.",
                },
            },
        },
    }
