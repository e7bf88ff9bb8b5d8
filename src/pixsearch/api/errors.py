"""The Bing ErrorResponse model as an exception the routes raise.

Every non-200 answer of the API goes through BingError so its body is the
documented ErrorResponse; the SDKs cannot parse anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

# The values the SDKs' ErrorCode and ErrorSubCode enums know; /openapi.json lists them, so
# the schema tests catch an answer an SDK could not map.
CODES = (
    "None",
    "ServerError",
    "InvalidRequest",
    "RateLimitExceeded",
    "InvalidAuthorization",
    "InsufficientAuthorization",
)
SUB_CODES = (
    "UnexpectedError",
    "ResourceError",
    "NotImplemented",
    "ParameterMissing",
    "ParameterInvalidValue",
    "HttpNotAllowed",
    "Blocked",
    "AuthorizationMissing",
    "AuthorizationRedundancy",
    "AuthorizationDisabled",
    "AuthorizationExpired",
)


@dataclass(slots=True)
class BingError(Exception):
    status: int
    code: str
    message: str
    sub_code: str | None = None
    parameter: str | None = None
    value: str | None = None
    more_details: str | None = None
    headers: dict[str, str] | None = None

    def __str__(self) -> str:
        return f"{self.status} {self.code}/{self.sub_code}: {self.message}"


def missing(parameter: str) -> BingError:
    return BingError(
        400,
        "InvalidRequest",
        "Required parameter is missing.",
        sub_code="ParameterMissing",
        parameter=parameter,
    )


def invalid(parameter: str, value: str, why: str = "") -> BingError:
    message = f"Parameter has invalid value. {why}".strip()
    return BingError(
        400,
        "InvalidRequest",
        message,
        sub_code="ParameterInvalidValue",
        parameter=parameter,
        value=value[:200],
    )


def unauthorized(detail: str) -> BingError:
    """401 for a missing key and for an unknown one alike, as the reference answers both.

    The SDKs' subCode enum has no "invalid key" value; moreDetails tells the two apart.
    """
    return BingError(
        401,
        "InvalidAuthorization",
        "Authorization is required.",
        sub_code="AuthorizationMissing",
        more_details=detail,
    )


def not_found(path: str) -> BingError:
    return BingError(404, "InvalidRequest", f"Resource not found: {path[:200]}")


def method_not_allowed(method: str, allowed: list[str]) -> BingError:
    """405 naming the methods the path takes, in an Allow header as RFC 9110 requires."""
    return BingError(
        405,
        "InvalidRequest",
        f"Method {method[:20]} is not allowed here.",
        more_details=f"Allowed: {', '.join(allowed)}.",
        headers={"Allow": ", ".join(allowed)},
    )


def uri_too_long(length: int, limit: int) -> BingError:
    """414 rather than the reference's bare 404: a 404 reads as "no such endpoint"."""
    return BingError(
        414,
        "InvalidRequest",
        f"The URL is {length} characters long; the limit is {limit}.",
        more_details="Keep the query string under 1,500 characters.",
    )


def server_error() -> BingError:
    return BingError(
        500, "ServerError", "An unexpected error occurred.", sub_code="UnexpectedError"
    )
