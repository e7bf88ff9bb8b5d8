"""Malformed multipart bodies get the documented 400 ErrorResponse, never a 500.

Over real HTTP against `pixsearch serve`. Before the fix, a boundary that does not
match, one over 256 bytes and a part header over 60 KB each answered 500.
"""

from __future__ import annotations

import httpx
import pytest

from tests.reliability.conftest import picture

BOUNDARY = "pixsearch-test-boundary"
PART = b'Content-Disposition: form-data; name="image"; filename="a.jpg"\r\n'


def body(boundary: str = BOUNDARY, *, extra_header: bytes = b"", end: bytes | None = None) -> bytes:
    """One image part framed by `boundary`; `end` replaces the closing boundary."""
    closing = f"\r\n--{boundary}--\r\n".encode() if end is None else end
    return (
        f"--{boundary}\r\n".encode()
        + PART
        + extra_header
        + b"Content-Type: image/jpeg\r\n\r\n"
        + b"\xff\xd8\xff\xe0 not really a jpeg"
        + closing
    )


def multipart(boundary: str) -> str:
    return f"multipart/form-data; boundary={boundary}"


LONG = "b" * 300
TRUNCATED = f"\r\n--{BOUNDARY[:5]}".encode()
BIG_HEADER = b"X-Big: " + b"a" * 61_440 + b"\r\n"
CASES: dict[str, tuple[str, bytes]] = {
    "empty body": (multipart(BOUNDARY), b""),
    "boundary does not match": (multipart("something-else"), body()),
    "boundary over 256 bytes": (multipart(LONG), body(LONG)),
    "boundary over 70 characters": (multipart("c" * 71), body("c" * 71)),
    "part header over 60 KB": (multipart(BOUNDARY), body(extra_header=BIG_HEADER)),
    "many part headers": (multipart(BOUNDARY), body(extra_header=b"X-A: 1\r\n" * 20)),
    "missing boundary parameter": ("multipart/form-data", body()),
    "empty boundary parameter": ('multipart/form-data; boundary=""', body()),
    "truncated final boundary": (multipart(BOUNDARY), body(end=TRUNCATED)),
    "no final boundary": (multipart(BOUNDARY), body(end=b"")),
    "garbage": (multipart(BOUNDARY), b"\x00\x01garbage" * 100),
}
ENDPOINTS = ("/v7.0/images/details?modules=All", "/v7.0/images/visualsearch")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_multipart_is_a_400(public_only_server: str, endpoint: str, case: str) -> None:
    content_type, data = CASES[case]
    response = httpx.post(
        public_only_server + endpoint,
        content=data,
        headers={"Content-Type": content_type},
        timeout=20,
    )
    assert response.status_code == 400, (case, response.status_code, response.text[:500])
    error = response.json()["errors"][0]
    assert response.json()["_type"] == "ErrorResponse"
    assert error["code"] == "InvalidRequest", error
    assert error["subCode"] in ("ParameterInvalidValue", "ParameterMissing"), error


def test_a_wellformed_upload_still_works(public_only_server: str) -> None:
    data = picture(7)
    framed = (
        f"--{BOUNDARY}\r\n".encode()
        + PART
        + b"Content-Type: image/jpeg\r\n\r\n"
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    response = httpx.post(
        public_only_server + "/v7.0/images/visualsearch",
        content=framed,
        headers={"Content-Type": multipart(BOUNDARY)},
        timeout=20,
    )
    assert response.status_code == 200, response.text[:500]
