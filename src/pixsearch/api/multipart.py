"""A bounded multipart/form-data reader that keeps every part as bytes.

Starlette's form parser turns a part without a filename into text, but the
visual search client sends its image part exactly so (no filename,
application/octet-stream), so the bytes would be lost. This reads the raw
parts with python-multipart, refusing bodies over the cap as they stream in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from pixsearch.api import errors

MAX_PARTS = 8


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
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise errors.missing("image")
    collector = _Collector()
    parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > max_bytes:
            raise errors.invalid("image", "", f"The request is larger than {max_bytes} bytes.")
        parser.write(chunk)
    parser.finalize()
    return collector.parts
