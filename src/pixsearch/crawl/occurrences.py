"""A page's image reference → the Occurrence the index stores."""

from __future__ import annotations

from pixsearch.crawl.extract import ImageRef, Page
from pixsearch.crawl.licenses import license_key
from pixsearch.crawl.urls import url_words
from pixsearch.records import Occurrence


def occurrence_for(ref: ImageRef, page: Page) -> Occurrence:
    """The place `ref.url` appears on `page`, its text split by TEXT_FIELDS name."""
    facts = page.facts
    license, license_url = facts.license, facts.license_url
    if ref.license_url and license_key(ref.license_url):
        license, license_url = license_key(ref.license_url), ref.license_url
    page_title = " ".join(dict.fromkeys(t for t in (facts.title, facts.h1) if t))
    text = {
        "caption": ref.caption,
        "name": ref.name,
        "near": ref.near,
        "context": ref.context,
        "page_title": page_title,
        "url_words": url_words(ref.url),
    }
    return Occurrence(
        source=f"{page.url} {ref.url}",
        content_url=ref.url,
        host_page_url=page.url,
        title=ref.name or ref.caption[:200] or facts.title or ref.url.rsplit("/", 1)[-1],
        text={k: v for k, v in text.items() if v},
        license=license,
        license_url=license_url,
        date_published=facts.date_published,
        language=facts.language,
        offers=list(facts.offers),
        recipe=facts.recipe,
        alternates=list(ref.alternates),
    )
