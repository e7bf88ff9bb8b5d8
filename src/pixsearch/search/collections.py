"""Insights drawn from the pages that include a picture and from its own pixels.

- collections: pages that show many images, this one among them (galleries);
- offers: schema.org Product offers on those pages (shopping sources);
- recipes: schema.org Recipe facts on those pages;
- face regions: the detector's boxes (no identities: pixsearch names nobody).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from pixsearch.index.store import ReadStore
from pixsearch.records import ImageDocument, ImageFacts, Occurrence

MIN_COLLECTION_IMAGES = 3  # a page with fewer images is an article, not a collection
MAX_COLLECTIONS = 10
MAX_OFFERS = 20
MAX_RECIPES = 10
AVAILABILITY = {
    a.lower(): a
    for a in (
        "Discontinued",
        "InStock",
        "InStoreOnly",
        "LimitedAvailability",
        "OnlineOnly",
        "OutOfStock",
        "PreOrder",
        "SoldOut",
    )
}


@dataclass(frozen=True, slots=True)
class Collection:
    name: str
    url: str
    source: str  # the publishing host
    images: int
    thumbnail_sha: str  # the picture as it appears in the collection
    description: str = ""


@dataclass(frozen=True, slots=True)
class Offer:
    name: str
    url: str  # the page offering it
    seller: str
    price: float | None
    currency: str
    availability: str | None  # one of AVAILABILITY's values


@dataclass(frozen=True, slots=True)
class Recipe:
    name: str
    url: str
    thumbnail_sha: str
    description: str = ""
    cook_time: str = ""
    prep_time: str = ""
    total_time: str = ""
    rating: float | None = None


PagePlace = tuple[ImageDocument, Occurrence]  # an image and one page it appears on


def collections(store: ReadStore, places: list[PagePlace]) -> list[Collection]:
    """Pages including the picture with at least MIN_COLLECTION_IMAGES images, largest first."""
    by_url = {o.host_page_url: (d, o) for d, o in places if o.host_page_url}
    counts = store.page_image_counts(list(by_url)) if by_url else {}
    out = []
    for url, images in counts.items():
        if images < MIN_COLLECTION_IMAGES:
            continue
        doc, occurrence = by_url[url]
        name = occurrence.text.get("page_title") or occurrence.title or url
        out.append(
            Collection(
                name=name,
                url=url,
                source=urlsplit(url).hostname or "",
                images=images,
                thumbnail_sha=doc.facts.sha256,
                description=occurrence.text.get("context", "")[:200],
            )
        )
    out.sort(key=lambda c: (-c.images, c.url))
    return out[:MAX_COLLECTIONS]


def offers(places: list[PagePlace]) -> list[Offer]:
    """Every distinct (page, seller, price) offer on the pages, cheapest first."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for _, occurrence in places:
        url = occurrence.host_page_url or occurrence.content_url or ""
        for raw in occurrence.offers:
            key = (url, raw.get("seller", ""), raw.get("price", ""))
            if key in seen:
                continue
            seen.add(key)
            out.append(to_offer(raw, name=occurrence.title, url=url))
    out.sort(key=lambda o: (o.price is None, o.price or 0.0))
    return out[:MAX_OFFERS]


def to_offer(raw: dict[str, str], *, name: str, url: str) -> Offer:
    return Offer(
        name=name,
        url=url,
        seller=raw.get("seller", "") or (urlsplit(url).hostname or ""),
        price=_number(raw.get("price")),
        currency=(raw.get("currency") or "USD").upper(),
        availability=AVAILABILITY.get((raw.get("availability") or "").lower()),
    )


def recipes(places: list[PagePlace]) -> list[Recipe]:
    seen: set[str] = set()
    out = []
    for doc, occurrence in places:
        recipe = occurrence.recipe
        url = occurrence.host_page_url or ""
        if not recipe or url in seen:
            continue
        seen.add(url)
        ingredients = recipe.get("ingredients") or []
        out.append(
            Recipe(
                name=str(recipe.get("name") or occurrence.title or url),
                url=url,
                thumbnail_sha=doc.facts.sha256,
                description=", ".join(str(i) for i in ingredients[:8]),
                cook_time=str(recipe.get("cookTime") or ""),
                prep_time=str(recipe.get("prepTime") or ""),
                total_time=str(recipe.get("totalTime") or ""),
                rating=_number(recipe.get("rating")),
            )
        )
    return out[:MAX_RECIPES]


def face_regions(facts: ImageFacts) -> list[tuple[float, float, float, float]]:
    """The detector's face boxes, clamped to the picture, largest first."""
    boxes = []
    for box in facts.faces:
        left, top, right, bottom = (min(max(float(v), 0.0), 1.0) for v in box)
        if right > left and bottom > top:
            boxes.append((left, top, right, bottom))
    return boxes


def _number(value: object) -> float | None:
    try:
        return float(str(value).replace(",", "")) if value not in (None, "") else None
    except ValueError:
        return None
