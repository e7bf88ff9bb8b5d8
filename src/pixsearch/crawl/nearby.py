"""Which text of a page is about an image: its own card, then its section, never the rest.

Closeness is read from the markup, not from character distance. The largest block
around an image that holds no other image (its figure, list item, table row or
card) and stays short is the image's own text: "near". The section it stands in,
the same sectioning element under the same heading, says less: the "context"
window. An aside, the header, the footer, the navigation or another section says
nothing about it, however close it stands in the source: a "popular now" box
beside a picture names other pictures.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field

from selectolax.lexbor import LexborNode

# Elements that bound a region of the page: text never crosses them into an image's context.
SECTIONING = frozenset(
    {"section", "article", "aside", "nav", "header", "footer", "main", "body", "html"}
)
NEAR_MAX = 600  # a block with more text than this is a page region, not the image's card
NEAR_DEPTH = 8  # ancestors climbed looking for the card
_SPACE = re.compile(r"\s+")

Region = tuple[int, int]  # (sectioning element, headings seen before): one section's text


def region_of(node: LexborNode, headings_seen: int) -> Region:
    """The section `node` stands in: its nearest sectioning ancestor, under the current heading."""
    current = node.parent
    while current is not None and current.tag not in SECTIONING:
        current = current.parent
    return (current.mem_id if current is not None else 0, headings_seen)


def near_text(img: LexborNode, caption: str) -> str:
    """Text of the largest short block around `img` holding no other image, less `caption`."""
    best = ""
    current, depth = img.parent, NEAR_DEPTH
    while current is not None and depth > 0 and current.tag not in SECTIONING:
        if len(current.css("img")) > 1:
            break
        text = _SPACE.sub(" ", current.text(deep=True)).strip()
        if len(text) > NEAR_MAX:
            break
        best = text
        current, depth = current.parent, depth - 1
    if caption and caption in best:  # the figcaption is already the caption field
        best = best.replace(caption, " ", 1)
    return _SPACE.sub(" ", best).strip()


@dataclass(slots=True)
class SectionText:
    """A page's text chunks by region, with their offsets, to cut windows from."""

    chunks: dict[Region, tuple[list[int], list[str]]] = field(default_factory=dict)

    def add(self, region: Region, at: int, text: str) -> None:
        offsets, texts = self.chunks.setdefault(region, ([], []))
        offsets.append(at)
        texts.append(text)

    def window(self, region: Region, at: int, width: int) -> str:
        """Up to `width` characters of `region`'s text on each side of offset `at`."""
        offsets, texts = self.chunks.get(region, ([], []))
        split = bisect_left(offsets, at)
        first, length = split, 0
        while first > 0 and length < width:
            first -= 1
            length += len(texts[first]) + 1
        last, length = split, 0
        while last < len(texts) and length < width:
            length += len(texts[last]) + 1
            last += 1
        before, after = " ".join(texts[first:split]), " ".join(texts[split:last])
        return f"{before[-width:]} {after[:width]}".strip()
