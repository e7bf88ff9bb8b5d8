"""A bounded multipart/form-data reader that keeps every part as bytes.

Starlette's form parser turns a part without a filename into text, but the
visual search client sends its image part exactly so (no filename,
application/octet-stream), so the bytes would be lost. This reads the raw
parts with python-multipart, refusing bodies over the cap as they stream in.

Whatever the body holds, the answer is a result or a 400 ErrorResponse naming
``image``: a boundary missing, over RFC 2046's 70 characters or not found in the
body, a header line over python-multipart's 4 KB or a ninth header in one part,
and a body that ends before its closing boundary (python-multipart's
``finalize`` does not check that; the parser's state says it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.requests import Request

from pixsearch.api import errors

MAX_PARTS = 8
MAX_BOUNDARY = 70  # RFC 2046 section 5.1.1


@dataclass(slots=True)
class Part:
    name: str = ""
    filename: str | None = None
    content_type: str = ""
    data: bytearray = field(default_factory=bytearray)

    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


class _Collector:
    def __init__(self) -> None:
        self.parts: list[Part] = []
        self._field = b""
        self._value = b""
        self._headers: dict[str, bytes] = {}

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._begin,
            "on_part_data": self._data,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done,
        }

    def _begin(self) -> None:
        if len(self.parts) >= MAX_PARTS:
            raise errors.invalid("image", "", f"At most {MAX_PARTS} form parts.")
        self.parts.append(Part())
        self._headers = {}

    def _data(self, data: bytes, start: int, end: int) -> None:
        self.parts[-1].data += data[start:end]

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.decode("latin-1").lower()] = self._value
        self._field, self._value = b"", b""

    def _headers_done(self) -> None:
        part = self.parts[-1]
        _, options = parse_options_header(self._headers.get("content-disposition", b""))
        part.name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        part.filename = filename.decode("utf-8", "replace") if filename is not None else None
        part.content_type = self._headers.get("content-type", b"").decode("latin-1")


async def read_parts(request: Request, max_bytes: int) -> list[Part]:
    """Every part of a multipart body of at most `max_bytes` bytes (a 400 when larger)."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data":
        raise errors.missing("image")
    collector = _Collector()
    parser = MultipartParser(_boundary(options), collector.callbacks())  # type: ignore[arg-type]
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > max_bytes:
            raise errors.invalid("image", "", f"The request is larger than {max_bytes} bytes.")
        try:
            parser.write(chunk)
        except FormParserError as exc:
            raise _malformed(str(exc)) from None
    if received == 0:
        raise errors.missing("image")
    if parser.state != MultipartState.END:
        raise _malformed("the body ends before its closing boundary")
    return collector.parts


def _boundary(options: dict[bytes, bytes]) -> bytes:
    boundary = options.get(b"boundary", b"")
    if not boundary:
        raise _malformed("the Content-Type has no boundary parameter")
    if len(boundary) > MAX_BOUNDARY:
        raise _malformed(f"the boundary is longer than {MAX_BOUNDARY} characters")
    return boundary


def _malformed(why: str) -> errors.BingError:
    return errors.invalid("image", "", f"The multipart body is malformed: {why[:200]}.")
