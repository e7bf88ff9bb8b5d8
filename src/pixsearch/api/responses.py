"""JSON responses with the reference's headers (trace id, market, client id)."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from pixsearch.api.errors import BingError
from pixsearch.api.markets import DEFAULT_MARKET
from pixsearch.api.wire import error_response

JSON_TYPE = "application/json; charset=utf-8"


def bing_json(
    request: Request,
    body: Any,
    *,
    status: int = 200,
    market: str = DEFAULT_MARKET,
    headers: dict[str, str] | None = None,
) -> Response:
    response = Response(orjson.dumps(body), status_code=status, media_type=JSON_TYPE)
    response.headers["BingAPIs-TraceId"] = uuid.uuid4().hex.upper()
    response.headers["BingAPIs-Market"] = market
    response.headers["X-MSEdge-ClientID"] = client_id(request)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def bing_error(request: Request, error: BingError) -> Response:
    return bing_json(request, error_response(error), status=error.status, headers=error.headers)


def client_id(request: Request) -> str:
    """Echo a well-formed X-MSEdge-ClientID; mint one when it is absent or malformed."""
    given = request.headers.get("x-msedge-clientid", "").strip()
    if 0 < len(given) <= 64 and given.isalnum():
        return given
    return secrets.token_hex(16).upper()
