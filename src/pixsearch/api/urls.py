"""URLs this server mints in its answers: thumbnails, originals, pages, API links."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote_plus, urlencode

from pixsearch.records import ImageDocument, Occurrence


class Urls:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def thumbnail(self, sha256: str) -> str:
        return f"{self.base}/th?id=OIP.{sha256}&pid=Api"

    def content(self, doc: ImageDocument, occurrence: Occurrence) -> str:
        return occurrence.content_url or f"{self.base}/files/{doc.image_id}"

    def host_page(self, doc: ImageDocument, occurrence: Occurrence) -> str:
        return occurrence.host_page_url or f"{self.base}/images/{doc.image_id}"

    def web_search(self, q: str, image_id: str | None = None) -> str:
        # quote_plus, not urlencode, and once a query: this runs for every result.
        url = f"{self.base}/search?q={_quoted(q)}"
        return f"{url}&id={image_id}" if image_id else url

    def api_search(self, q: str, **extra: str | int) -> str:
        return f"{self.base}/v7.0/images/search?{urlencode({'q': q, **extra})}"

    def for_result(self, q: str, doc: ImageDocument, occurrence: Occurrence) -> dict[str, str]:
        return {
            "web_search": self.web_search(q, doc.image_id),
            "thumbnail": self.thumbnail(doc.facts.sha256),
            "content": self.content(doc, occurrence),
            "host_page": self.host_page(doc, occurrence),
        }


@lru_cache(maxsize=1024)
def _quoted(q: str) -> str:
    return quote_plus(q)
