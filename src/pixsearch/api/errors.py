"""The Bing ErrorResponse model as an exception the routes raise.

Every non-200 answer of the API goes through BingError so its body is the
documented ErrorResponse; the SDKs cannot parse anything else.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    return BingError(
        401,
        "InvalidAuthorization",
        "Authorization is required.",
        sub_code="AuthorizationMissing",
        more_details=detail,
    )


def not_found(path: str) -> BingError:
    return BingError(404, "InvalidRequest", f"Resource not found: {path[:200]}")


def method_not_allowed(method: str) -> BingError:
    return BingError(405, "InvalidRequest", f"Method {method} is not allowed here.")


def server_error() -> BingError:
    return BingError(
        500, "ServerError", "An unexpected error occurred.", sub_code="UnexpectedError"
    )
