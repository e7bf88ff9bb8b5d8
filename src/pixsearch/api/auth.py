"""Subscription-key checks, answering with the reference's authorization errors."""

from __future__ import annotations

from starlette.requests import Request

from pixsearch.api import errors
from pixsearch.api.errors import BingError
from pixsearch.api.keys import KeyInfo, KeyStore

HEADER = "ocp-apim-subscription-key"
QUERY = "subscription-key"  # the API-management query form some clients use


def authorize(request: Request, keys: KeyStore) -> KeyInfo:
    from_header = request.headers.get(HEADER)
    from_query = request.query_params.get(QUERY)
    if from_header is not None and from_query is not None:
        raise BingError(
            401,
            "InvalidAuthorization",
            "Only one authorization method may be used.",
            sub_code="AuthorizationRedundancy",
        )
    key = (from_header if from_header is not None else from_query or "").strip()
    if not key:
        raise errors.unauthorized("The Ocp-Apim-Subscription-Key header is missing.")
    info = keys.lookup(key)
    if info is None:
        raise errors.unauthorized("Subscription key is not recognized.")
    if not info.enabled:
        raise BingError(
            403,
            "InsufficientAuthorization",
            "The subscription key is disabled.",
            sub_code="AuthorizationDisabled",
        )
    if info.expired:
        raise BingError(
            403,
            "InsufficientAuthorization",
            "The subscription key has expired.",
            sub_code="AuthorizationExpired",
        )
    return info
