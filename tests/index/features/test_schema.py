"""Feature records survive Parquet exactly, and old files still read."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest

from pixsearch.index.features.schema import (
    FACT_COLUMNS,
    GROUP_COLUMNS,
    FeatureRecord,
    from_table,
    looks_of,
    to_table,
)
from pixsearch.records import ImageFacts, Occurrence
from tests.index.helpers import make_doc


def full_record() -> FeatureRecord:
    """A record using every kind of fact and occurrence field."""
    doc = make_doc(1, "red barn at dusk", page="https://farm.example/barns")
    facts = dataclasses.replace(
        doc.facts,
        phash=(1 << 64) - 3,  # the top bit set: unsigned 64-bit
        image_types=("photo", "shopping"),
        captured_at=datetime(2021, 5, 4, 12, 30, tzinfo=UTC),
        color_layout="0a" * 12,
        analyzed=("nudenet", "visual"),
        adult_score=0.125,
        faces=((0.1, 0.2, 0.3, 0.4),),
        image_content=("face",),
        tags=(("barn", 0.93), ("farm", 0.51)),
        ocr_text="OPEN DAILY",
    )
    places = [
        Occurrence(
            source="https://farm.example/barns#img1",
            content_url="https://farm.example/i/barn.jpg",
            host_page_url="https://farm.example/barns",
            title="Red barn",
            text={"caption": "a red barn", "page_title": "Barns of the valley"},
            license="cc-by",
            license_url="https://creativecommons.org/licenses/by/4.0/",
            date_published=datetime(2020, 1, 2, 3, 4, 5),  # naive, as some pages give them
            language="en",
            offers=[{"price": "12.00", "priceCurrency": "EUR"}],
            recipe={"name": "barn bread", "totalTime": "PT1H"},
            alternates=["https://farm.example/i/barn-2x.jpg"],
        ),
        doc.occurrences[0],
    ]
    return FeatureRecord(
        facts=facts,
        occurrences=places,
        first_seen=datetime(2024, 2, 29, tzinfo=UTC),
        embedding=np.linspace(-1, 1, 16, dtype=np.float32),
        clip_embedding=np.ones(8, dtype=np.float32),
        has_thumbnail=True,
    )


def test_every_fact_has_a_column() -> None:
    assert [c.name for c in FACT_COLUMNS] == [f.name for f in dataclasses.fields(ImageFacts)]


def test_records_read_back_equal() -> None:
    bare = FeatureRecord(make_doc(2, "plain").facts, make_doc(2, "plain").occurrences)
    records = [full_record(), bare]
    back = list(from_table(to_table(records)))
    assert back == records
    assert back[0].facts.phash == (1 << 64) - 3
    assert back[0].occurrences[0].date_published.tzinfo is None  # type: ignore[union-attr]
    assert back[1].embedding is None and back[1].first_seen is None


def test_a_file_without_a_later_fact_reads_its_default() -> None:
    table = to_table([full_record()])
    older = table.drop_columns(["ocr_text", "tags"])
    (record,) = from_table(older)
    assert record.facts.ocr_text == "" and record.facts.tags == ()


def test_a_file_without_a_required_fact_is_refused() -> None:
    with pytest.raises(ValueError, match="sha256"):
        list(from_table(to_table([full_record()]).drop_columns(["sha256"])))


def test_a_foreign_table_is_refused() -> None:
    with pytest.raises(ValueError, match="not a pixsearch feature table"):
        list(from_table(pa.table({"x": [1]})))


def test_looks_carry_what_grouping_needs() -> None:
    record = full_record()
    table = to_table([record]).select(list(GROUP_COLUMNS))
    (look,) = looks_of(table)
    assert (look.sha256, look.phash, look.color_layout) == (
        record.facts.sha256,
        record.facts.phash,
        record.facts.color_layout,
    )
    assert np.array_equal(look.embedding, record.embedding)  # type: ignore[arg-type]
