"""Query-parameter parsing and validation for the search endpoints.

Each parameter of the reference is declared once in PARAMETERS (name, kind,
allowed values); the parser, the error messages and /openapi.json all read it.
Enum values match case-insensitively and map to the store's lower-case keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pixsearch.api import errors
from pixsearch.index.store import Filters, Range
from pixsearch.records import COLOR_NAMES
from pixsearch.search.scope import SAFE_SEARCH, excluded_adult
from pixsearch.search.service import SearchRequest

MAX_COUNT = 150
DEFAULT_COUNT = 35
MAX_FILE_SIZE = 520_192  # the reference caps file-size filters here
UINT16 = 65_535
COLORS = ("ColorOnly", "Monochrome", *COLOR_NAMES)


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: str  # "string" | "int" | "enum" | "bool"
    description: str
    values: tuple[str, ...] = ()
    maximum: int | None = None


PARAMETERS: tuple[Param, ...] = (
    Param("q", "string", "The user's search query; may contain site:, quotes, - and OR."),
    Param("count", "int", "Number of images to return (default 35, at most 150).", maximum=UINT16),
    Param(
        "offset",
        "int",
        "Zero-based number of results to skip; send the previous nextOffset.",
        maximum=UINT16,
    ),
    Param("id", "string", "An imageId to put first in the results."),
    Param("mkt", "string", "Market, <language>-<COUNTRY>."),
    Param("cc", "string", "Two-letter country code (needs Accept-Language)."),
    Param("setLang", "string", "Language of user-interface strings."),
    Param("safeSearch", "enum", "Adult-content filter.", SAFE_SEARCH),
    Param("aspect", "enum", "Aspect ratio.", ("All", "Square", "Wide", "Tall")),
    Param("color", "enum", "Dominant colour, ColorOnly or Monochrome.", COLORS),
    Param(
        "freshness",
        "enum",
        "Discovered within the last day, week or month.",
        ("Day", "Week", "Month"),
    ),
    Param("height", "int", "Exact height in pixels.", maximum=UINT16),
    Param("width", "int", "Exact width in pixels.", maximum=UINT16),
    Param("minHeight", "int", "Minimum height in pixels."),
    Param("maxHeight", "int", "Maximum height in pixels."),
    Param("minWidth", "int", "Minimum width in pixels."),
    Param("maxWidth", "int", "Maximum width in pixels."),
    Param("minFileSize", "int", "Minimum file size in bytes (capped at 520192)."),
    Param("maxFileSize", "int", "Maximum file size in bytes (capped at 520192)."),
    Param("imageContent", "enum", "Faces or portraits.", ("Face", "Portrait", "NonPortrait")),
    Param(
        "imageType",
        "enum",
        "Kind of image.",
        (
            "AnimatedGif",
            "AnimatedGifHttps",
            "Clipart",
            "Graphics",
            "Line",
            "Photo",
            "Shopping",
            "Transparent",
        ),
    ),
    Param(
        "license",
        "enum",
        "Licence the image is offered under.",
        ("All", "Any", "Public", "Share", "ShareCommercially", "Modify", "ModifyCommercially"),
    ),
    Param(
        "size",
        "enum",
        "Size class: Small both sides under 200 px, Large both at least 500, Medium the rest; "
        "Wallpaper a Large landscape picture of at least 1024x768.",
        ("All", "Small", "Medium", "Large", "Wallpaper"),
    ),
    Param("textDecorations", "bool", "Hit-highlighting markers in display strings."),
    Param("textFormat", "enum", "Format of hit highlighting.", ("Raw", "HTML")),
    Param(
        "debug",
        "enum",
        "pixsearch extension, honoured only with the admin key (X-Admin-Key): "
        "explain adds a ranking explanation to each image.",
        ("Explain",),
    ),
)
# Custom Image Search takes every parameter above plus this one (required there).
CUSTOM_CONFIG = Param("customConfig", "string", "Id of the custom search instance to search.")
BY_NAME = {p.name.lower(): p for p in PARAMETERS}
_FRESHNESS = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}


@dataclass(frozen=True, slots=True)
class SearchParams:
    request: SearchRequest
    safe_search: str  # canonical: Off | Moderate | Strict
    text_decorations: bool
    text_format: str
    debug: str | None = None  # "Explain" when asked for; the route checks the admin key


class Params:
    """Case-insensitive access to query parameters with the reference's validation."""

    def __init__(self, query: Mapping[str, str]) -> None:
        self._values: dict[str, str] = {}
        for key, value in query.items():
            self._values.setdefault(key.lower(), value)

    def text(self, name: str) -> str | None:
        return self._values.get(name.lower())

    def enum(self, name: str) -> str | None:
        """Canonical spelling of an enum value, or a 400 naming the parameter."""
        raw = self.text(name)
        if raw is None or raw == "":
            return None
        param = BY_NAME[name.lower()]
        for allowed in param.values:
            if allowed.lower() == raw.strip().lower():
                return allowed
        raise errors.invalid(param.name, raw, f"Allowed values: {', '.join(param.values)}.")

    def integer(self, name: str, *, low: int = 0) -> int | None:
        raw = self.text(name)
        if raw is None or raw == "":
            return None
        param = BY_NAME[name.lower()]
        try:
            value = int(raw.strip())
        except ValueError:
            raise errors.invalid(param.name, raw, "Expected a whole number.") from None
        high = param.maximum if param.maximum is not None else 2**31 - 1
        if not low <= value <= high:
            raise errors.invalid(param.name, raw, f"Expected a number from {low} to {high}.")
        return value

    def boolean(self, name: str) -> bool:
        raw = (self.text(name) or "").strip().lower()
        if raw in ("", "false", "0"):
            return False
        if raw in ("true", "1"):
            return True
        raise errors.invalid(BY_NAME[name.lower()].name, raw, "Expected true or false.")


def parse_search(query: Mapping[str, str], *, now: datetime | None = None) -> SearchParams:
    params = Params(query)
    q = (params.text("q") or "").strip()
    if not q:
        raise errors.missing("q")
    _exclusive(params, "height", ("minHeight", "maxHeight"))
    _exclusive(params, "width", ("minWidth", "maxWidth"))
    if params.text("cc") and params.text("mkt"):
        raise errors.invalid("cc", params.text("cc") or "", "cc and mkt are mutually exclusive.")
    count = params.integer("count")
    safe = params.enum("safeSearch") or "Moderate"
    request = SearchRequest(
        q=q,
        filters=parse_filters(params, safe_search=safe, now=now or datetime.now(UTC)),
        count=DEFAULT_COUNT if count is None else min(count, MAX_COUNT),
        offset=params.integer("offset") or 0,
        pin_image_id=(params.text("id") or "").strip().upper() or None,
    )
    return SearchParams(
        request=request,
        safe_search=safe,
        text_decorations=params.boolean("textDecorations"),
        text_format=params.enum("textFormat") or "Raw",
        debug=params.enum("debug"),
    )


def parse_filters(params: Params, *, safe_search: str, now: datetime) -> Filters:
    def keyword(name: str) -> str | None:
        value = params.enum(name)
        return None if value in (None, "All") else value.lower()

    freshness = keyword("freshness")
    return Filters(
        aspect=keyword("aspect"),
        color=keyword("color"),
        published_since=freshness_since(freshness, now) if freshness else None,
        width=_range(params, "width", "minWidth", "maxWidth"),
        height=_range(params, "height", "minHeight", "maxHeight"),
        file_size=_file_size(params),
        image_content=keyword("imageContent"),
        image_type=keyword("imageType"),
        license=keyword("license"),
        size=keyword("size"),
        exclude_adult=excluded_adult(safe_search),
    )


def freshness_since(freshness: str, now: datetime) -> datetime:
    """The oldest publication date `freshness` (day, week, month) lets through, counted
    from the start of the current minute.

    A request's filters are part of what keys its kept answer (index/textindex.py); a
    boundary to the microsecond made every freshness request a new key, so none was ever
    served from kept answers. To the minute, the same query asked again within it is;
    the window is at most 59 s longer, which no reader of "the last 30 days" can tell.
    """
    return now.replace(second=0, microsecond=0) - _FRESHNESS[freshness]


def _exclusive(params: Params, exact: str, ranges: tuple[str, ...]) -> None:
    if params.text(exact) is None:
        return
    for other in ranges:
        if params.text(other) is not None:
            raise errors.invalid(
                other, params.text(other) or "", f"{exact} and {other} are mutually exclusive."
            )


def _range(params: Params, exact: str, low: str, high: str) -> Range:
    value = params.integer(exact)
    if value is not None:
        return Range(value, value)
    return Range(params.integer(low), params.integer(high))


def _file_size(params: Params) -> Range:
    low, high = params.integer("minFileSize"), params.integer("maxFileSize")
    return Range(
        None if low is None else min(low, MAX_FILE_SIZE),
        None if high is None else min(high, MAX_FILE_SIZE),
    )
