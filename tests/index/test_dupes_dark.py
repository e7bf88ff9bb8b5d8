"""A copy of a transparent clip-art PNG that a site flattened over black joins its
original's near-duplicate group; look-alike drawings over black do not (issue 16).

Real openclipart drawings, the real pipeline and a real index (EmbeddedStore), in
both orders and across a reopened writer. Measured over hundreds of files by
bench/quality_file_facts.py (the jpeg-black-q80 copies).
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from pixsearch.index.darklook import DarkLook
from pixsearch.index.dupes import hamming
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.features.groups import assign_groups
from pixsearch.index.features.schema import (
    GROUP_COLUMNS,
    FeatureRecord,
    from_table,
    looks_of,
    to_table,
)
from pixsearch.index.lookalike import duplicate_of
from pixsearch.index.store import Picture
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.pipeline import Processed, process_bytes
from pixsearch.records import ImageDocument, Occurrence

HAT = "people/clothing/hats/green_fedora_01.png"
FLAGS = "signs_and_symbols/flags/oceania/australia"


def over_black(path: Path) -> bytes:
    """The drawing as a site serves it on a dark page: flattened over black, JPEG."""
    with Image.open(path) as im:
        rgba = im.convert("RGBA")
    flat = Image.new("RGB", rgba.size, (0, 0, 0))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    buffer = io.BytesIO()
    flat.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def processed(data: bytes, name: str) -> Processed:
    result = process_bytes(data, Occurrence(source=name), PipelineConfig())
    assert isinstance(result, Processed), result
    return result


def add(store: EmbeddedStore, picture: Processed) -> int:
    """Add as the ingest does; the image's group id."""
    doc = ImageDocument(picture.facts, [picture.occurrence], datetime.now(UTC))
    store.add(doc, picture.thumbnail)
    store.commit()
    return doc.group_id


def test_a_copy_flattened_over_black_joins_its_transparent_original(
    openclipart: Path, tmp_path: Path
) -> None:
    path = openclipart / HAT
    original = processed(path.read_bytes(), "hat.png")
    copy = processed(over_black(path), "hat-dark.jpg")
    dark = DarkLook.parse(original.facts.dark_look)
    assert dark is not None and not copy.facts.dark_look  # only the transparent one has it
    # Over white the two share no hash neighbourhood; over black they do.
    assert hamming(original.facts.phash, copy.facts.phash) > 20
    assert hamming(dark.phash, copy.facts.phash) <= 6

    # The original first; the copy in a later session, after the writer reopened.
    first = EmbeddedStore(tmp_path / "a", writable=True)
    group = add(first, original)
    first.close()
    again = EmbeddedStore(tmp_path / "a", writable=True)
    try:
        assert add(again, copy) == group
    finally:
        again.close()

    # The copy first; the original finds it through its own look over black.
    store = EmbeddedStore(tmp_path / "b", writable=True)
    try:
        assert add(store, original) == add(store, copy)
    finally:
        store.close()


def test_look_alike_flags_over_black_stay_apart(openclipart: Path, tmp_path: Path) -> None:
    # Queensland's and Tasmania's flags: one blue ensign, differing by the badge. Over
    # black Tasmania's copy hashes within 6 bits of Queensland's look over black and the
    # colours agree, so only the rebuilt pixels keep them apart.
    queensland, tasmania = (
        openclipart / FLAGS / f"australia_{n}.png" for n in ("queensland", "tasmania")
    )
    original = processed(queensland.read_bytes(), "queensland.png")
    other = processed(over_black(tasmania), "tasmania-dark.jpg")
    own = processed(over_black(queensland), "queensland-dark.jpg")
    dark = DarkLook.parse(original.facts.dark_look)
    assert dark is not None and hamming(dark.phash, other.facts.phash) <= 6
    store = EmbeddedStore(tmp_path, writable=True)
    try:
        group = add(store, original)
        assert add(store, other) != group
        assert add(store, own) == group
    finally:
        store.close()


def test_black_ink_has_no_look_over_black(openclipart: Path) -> None:
    # Over black a black line drawing is a black rectangle: a look over black would
    # hash like every other such drawing's, so none is kept.
    star = openclipart / "shapes/stars/star_35pt08step.png"
    assert processed(star.read_bytes(), "star.png").facts.dark_look == ""
    assert processed(over_black(star), "star-dark.jpg").facts.phash == 0


def test_index_build_from_feature_shards_groups_the_copy_too(openclipart: Path) -> None:
    # `pixsearch index build` / `reindex` group from feature shards: the look over black
    # travels in its own column, and shards written before it read as opaque.
    path = openclipart / HAT
    pictures = [processed(path.read_bytes(), "hat.png"), processed(over_black(path), "dark.jpg")]
    table = to_table([FeatureRecord(p.facts, [p.occurrence]) for p in pictures])
    assert [r.facts for r in from_table(table)] == [p.facts for p in pictures]
    thumbnails = {p.facts.sha256: p.thumbnail for p in pictures}
    looks = list(looks_of(table.select(list(GROUP_COLUMNS))))
    groups = assign_groups(looks, thumbnails.get)
    assert groups[pictures[1].facts.sha256] == pictures[0].facts.sha256
    old = table.drop_columns(["dark_look"])
    assert [r.facts.dark_look for r in from_table(old)] == ["", ""]
    old_looks = list(looks_of(old.select([c for c in GROUP_COLUMNS if c != "dark_look"])))
    assert len(set(assign_groups(old_looks, thumbnails.get).values())) == 2


def test_an_uploaded_copy_over_black_finds_its_original(openclipart: Path, tmp_path: Path) -> None:
    # What /images/details does with a POSTed picture: its visual neighbours are tried,
    # and a transparent neighbour is compared as it looks over black.
    config = replace(PipelineConfig(), analyzers=("visual",))
    path = openclipart / HAT
    original = process_bytes(path.read_bytes(), Occurrence(source="hat.png"), config)
    upload = process_bytes(over_black(path), Occurrence(source="upload"), config)
    assert isinstance(original, Processed) and isinstance(upload, Processed)
    writer = EmbeddedStore(tmp_path, writable=True)
    doc = ImageDocument(original.facts, [original.occurrence], datetime.now(UTC))
    assert original.embedding is not None
    writer.add_vector(writer.add(doc, original.thumbnail, original.embedding), original.embedding)
    writer.commit()
    writer.close()
    store = EmbeddedStore(tmp_path)
    try:
        picture = Picture(upload.facts.phash, upload.facts.color_layout, upload.thumbnail)
        assert duplicate_of(store, picture, max_distance=6) is None  # no hash match
        picture = replace(picture, embedding=upload.embedding)
        assert duplicate_of(store, picture, max_distance=6) == doc.doc_id
    finally:
        store.close()
