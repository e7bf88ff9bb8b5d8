"""Subscription-key checks, answering with the reference's authorization errors."""

from __future__ import annotations

from starlette.requests import Request

from pixsearch.api import errors
from pixsearch.api.errors import BingError
from pixsearch.tenancy.keys import KeyInfo, KeyStore
from pixsearch.tenancy.limits import Decision, Limiter

HEADER = "ocp-apim-subscription-key"
QUERY = "subscription-key"  # the API-management query form some clients use


def authorize(
    request: Request,
    keys: KeyStore,
    limiter: Limiter | None = None,
    *,
    custom_config: str | None = None,
) -> KeyInfo:
    """The caller's key, checked for state, instance access, quota and QPS, in that order."""
    return admit(identify(request, keys), limiter, custom_config=custom_config)


def admit(info: KeyInfo, limiter: Limiter | None, *, custom_config: str | None) -> KeyInfo:
    """The second half of authorize: may this known key make this call now?"""
    if not info.may_use(custom_config):
        raise BingError(
            403,
            "InsufficientAuthorization",
            "The subscription key has no access to this resource.",
            sub_code="AuthorizationDisabled",
        )
    if limiter is not None:
        _check(limiter.hit(info.name, info.qps, info.monthly_quota))
    return info


def _check(decision: Decision) -> None:
    if decision.allowed:
        return
    headers = {"Retry-After": str(decision.retry_after)}
    if decision.reason == "quota":
        raise BingError(
            403, "RateLimitExceeded", "The monthly call quota is used up.", headers=headers
        )
    raise BingError(
        429, "RateLimitExceeded", "Too many calls per second for this key.", headers=headers
    )


def identify(request: Request, keys: KeyStore) -> KeyInfo:
    """The first half of authorize: a known, enabled, unexpired key (401/403 otherwise)."""
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
    request.state.key_name = info.name  # for the access log: the name, never the key
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
