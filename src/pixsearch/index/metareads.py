"""Reading meta.db as of a generation: documents, their pages, groups, counts.

Every read names the generation it sees (`max_gen`; None, for the writer, means
its pending rows too) and skips rows written after it or deleted by then.

Result pages read each image's committed record (index/docrecords.py) rather
than its rows when there is one; the rows stay the authority. Decoded records
and group counts are cached per generation.

``MetaReads`` is the reading half of ``MetaDB`` (index/metadb.py), its base
class: MetaDB opens the connection and makes the caches declared here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from pixsearch.index import docrecords
from pixsearch.index.docrecords import Decoded, GenerationCache
from pixsearch.index.factrows import (
    FACT_COLUMNS,
    occurrence_from_dict,
    occurrence_from_json,
    row_to_doc,
    to_unsigned,
)
from pixsearch.index.store import PagePlaces, places_of
from pixsearch.records import ImageDocument, Occurrence


class MetaReads:
    """Reads of images and occurrences visible at a generation (MetaDB's base class)."""

    conn: sqlite3.Connection
    decoded: GenerationCache[int, Decoded]
    _groups: GenerationCache[int, tuple[int, int]]
    _has_records: bool
    _records_gen: int

    def fetch(self, doc_ids: Sequence[int], *, max_gen: int | None) -> list[ImageDocument]:
        """Documents by doc_id in the given order; `max_gen` None means pending rows too."""
        if max_gen is None:
            return self._fetch_rows(doc_ids, max_gen)
        if max_gen != self._records_gen:
            self._has_records = self._records_table()
            self._records_gen = max_gen
        found = self.decoded.through(max_gen, doc_ids, lambda ids: self._decode(ids, max_gen))
        return [found[d].document(d) for d in doc_ids if d in found]

    def _decode(self, doc_ids: list[int], max_gen: int) -> dict[int, Decoded]:
        """Visible images by their records; by their rows where a record is missing or newer."""
        out: dict[int, Decoded] = {}
        if self._has_records:
            rows = self._record_rows(doc_ids, max_gen)
            for doc_id, gen, data in rows:
                if data is not None and gen <= max_gen:
                    decoded = docrecords.decode(data, occurrence_from_dict)
                    if decoded is not None:
                        out[doc_id] = decoded
            doc_ids = [d for d, _, _ in rows if d not in out]
        for doc in self._fetch_rows(doc_ids, max_gen):
            out[doc.doc_id] = docrecords.decoded_of(doc)
        return out

    def pages_of(self, doc_ids: Sequence[int], *, max_gen: int) -> list[PagePlaces]:
        """Each visible image's group and (page URL, page title) places, by its record
        where it has one (nothing decoded, the cache of documents left alone)."""
        if max_gen != self._records_gen:
            self._has_records = self._records_table()
            self._records_gen = max_gen
        out: list[PagePlaces] = []
        rest = list(doc_ids)
        if self._has_records and rest:
            rows, rest = self._record_rows(rest, max_gen), []
            for doc_id, gen, data in rows:
                found = docrecords.places(data) if data is not None and gen <= max_gen else None
                if found is None:
                    rest.append(doc_id)
                else:
                    out.append(found)
        out.extend(map(places_of, self._fetch_rows(rest, max_gen)))
        return out

    def _record_rows(self, doc_ids: Sequence[int], max_gen: int) -> list[tuple[int, Any, Any]]:
        """(doc_id, record generation, record) of each visible image; both None where it
        has no record."""
        marks = ", ".join("?" for _ in doc_ids)
        return self.conn.execute(
            f"SELECT i.doc_id, r.gen, r.data FROM images i LEFT JOIN records r USING (doc_id) "
            f"WHERE i.doc_id IN ({marks}) AND i.gen<=? "
            "AND (i.deleted_gen IS NULL OR i.deleted_gen>?)",
            (*doc_ids, max_gen, max_gen),
        ).fetchall()

    def _records_table(self) -> bool:
        """Whether this database has records yet (a reader never creates the table)."""
        probe = "SELECT 1 FROM sqlite_master WHERE type='table' AND name='records'"
        return self.conn.execute(probe).fetchone() is not None

    def _fetch_rows(self, doc_ids: Sequence[int], max_gen: int | None) -> list[ImageDocument]:
        if not doc_ids:
            return []
        marks = ", ".join("?" for _ in doc_ids)
        limit = max_gen if max_gen is not None else 1 << 62
        rows = self.conn.execute(
            f"SELECT doc_id, {FACT_COLUMNS}, first_seen, group_id FROM images "
            f"WHERE doc_id IN ({marks}) AND gen<=? AND (deleted_gen IS NULL OR deleted_gen>?)",
            (*doc_ids, limit, limit),
        ).fetchall()
        occurrences = self._occurrences([r[0] for r in rows], limit)
        docs = {r[0]: row_to_doc(r, occurrences.get(r[0], [])) for r in rows}
        return [docs[d] for d in doc_ids if d in docs]

    def _occurrences(self, doc_ids: list[int], max_gen: int) -> dict[int, list[Occurrence]]:
        if not doc_ids:
            return {}
        marks = ", ".join("?" for _ in doc_ids)
        out: dict[int, list[Occurrence]] = {}
        for doc_id, data in self.conn.execute(
            f"SELECT doc_id, data FROM occurrences WHERE doc_id IN ({marks}) AND gen<=? "
            "ORDER BY id",
            (*doc_ids, max_gen),
        ):
            out.setdefault(doc_id, []).append(occurrence_from_json(data))
        return out

    def changed_since(self, gen: int, *, max_gen: int) -> list[int]:
        """Images whose row or any occurrence was written by a generation in (gen, max_gen]."""
        rows = self.conn.execute(
            "SELECT doc_id FROM images WHERE gen>?1 AND gen<=?2 "
            "UNION SELECT doc_id FROM occurrences WHERE gen>?1 AND gen<=?2",
            (gen, max_gen),
        )
        return sorted(row[0] for row in rows)

    def page_image_counts(self, urls: Sequence[str], *, max_gen: int) -> dict[str, int]:
        """Distinct images on each of these pages (relatedCollections: pages with many)."""
        if not urls:
            return {}
        marks = ", ".join("?" for _ in urls)
        rows = self.conn.execute(
            "SELECT host_page_url, COUNT(DISTINCT doc_id) FROM occurrences "
            f"WHERE host_page_url IN ({marks}) AND gen<=? GROUP BY host_page_url",
            (*urls, max_gen),
        )
        return {url: count for url, count in rows}

    def doc_id_for(self, column: str, value: str, *, max_gen: int | None) -> int | None:
        assert column in ("image_id", "sha256")
        limit = max_gen if max_gen is not None else 1 << 62
        row = self.conn.execute(
            f"SELECT doc_id FROM images WHERE {column}=? AND gen<=? "
            "AND (deleted_gen IS NULL OR deleted_gen>?)",
            (value, limit, limit),
        ).fetchone()
        return int(row[0]) if row else None

    def group_counts(self, group_ids: Sequence[int], *, max_gen: int) -> dict[int, tuple[int, int]]:
        """Per near-duplicate group: (distinct sizes, distinct pages) of its visible images.

        These are availableSizesCount and pagesIncludingCount; a local file's page
        is the image's own page, so copies of one file in two folders count once.
        """
        return self._groups.through(
            max_gen, group_ids, lambda ids: self._count_groups(ids, max_gen)
        )

    def _count_groups(self, group_ids: Sequence[int], max_gen: int) -> dict[int, tuple[int, int]]:
        if not group_ids:
            return {}
        if self.decoded.size <= 0:  # no decoded records to count from
            return self._count_rows(group_ids, max_gen)
        out, settled = self._count_single(group_ids, max_gen)
        group_ids = [g for g in group_ids if g not in settled]
        if group_ids:
            out.update(self._count_rows(group_ids, max_gen))
        return out

    def _count_single(
        self, group_ids: Sequence[int], max_gen: int
    ) -> tuple[dict[int, tuple[int, int]], set[int]]:
        """The counts of groups of one image whose decoded record is at hand, and which
        groups they settle: most groups have one image, most of a page's counts.

        Reading the group index alone (no table row) and the documents the page
        just read costs a fifth of the counting query, which reads each member's
        row and every row of its occurrences (~0.5 ms for a page's 30 groups at 1M
        images). A group with any other row, deleted or not yet visible, is left to it.
        """
        marks = ", ".join("?" for _ in group_ids)
        members: dict[int, list[int]] = {}
        for group_id, doc_id in self.conn.execute(
            f"SELECT group_id, doc_id FROM images WHERE group_id IN ({marks})", group_ids
        ):
            members.setdefault(group_id, []).append(doc_id)
        single = {ids[0]: g for g, ids in members.items() if len(ids) == 1}
        # Only images visible at max_gen are decoded at it: a cached member is live.
        found = self.decoded.lookup(max_gen, single)
        out: dict[int, tuple[int, int]] = {}
        for doc_id, decoded in found.items():
            if decoded.occurrences:  # the counting query's join has no row for none
                pages = {o.host_page_url for o in decoded.occurrences}
                if None in pages:  # a local file's page is the file itself
                    pages.discard(None)
                    pages.add(f"local:{doc_id}")
                out[single[doc_id]] = (1, len(pages))
        return out, {single[d] for d in found}

    def _count_rows(self, group_ids: Sequence[int], max_gen: int) -> dict[int, tuple[int, int]]:
        marks = ", ".join("?" for _ in group_ids)
        rows = self.conn.execute(
            "SELECT i.group_id, count(DISTINCT i.width || 'x' || i.height), "
            "count(DISTINCT coalesce(o.host_page_url, 'local:' || i.doc_id)) "
            "FROM images i JOIN occurrences o ON o.doc_id = i.doc_id "
            f"WHERE i.group_id IN ({marks}) AND i.gen<=?1 AND i.deleted_gen IS NULL "
            "AND o.gen<=?1 GROUP BY i.group_id".replace("?1", "?"),
            (*group_ids, max_gen, max_gen),
        )
        return {int(g): (int(sizes), int(pages)) for g, sizes, pages in rows}

    def group_members(self, group_id: int, *, max_gen: int, limit: int) -> list[int]:
        rows = self.conn.execute(
            "SELECT doc_id FROM images WHERE group_id=? AND gen<=? AND deleted_gen IS NULL "
            "ORDER BY width * height DESC LIMIT ?",
            (group_id, max_gen, limit),
        )
        return [int(r[0]) for r in rows]

    def hashes(self, *, max_gen: int | None = None) -> Iterable[tuple[int, int, int, str]]:
        """(phash, doc_id, group_id, colour layout) of every live image, for near-duplicates."""
        limit = max_gen if max_gen is not None else 1 << 62
        for phash, doc_id, group_id, layout in self.conn.execute(
            "SELECT phash, doc_id, group_id, color_layout FROM images "
            "WHERE deleted_gen IS NULL AND gen<=?",
            (limit,),
        ):
            yield to_unsigned(phash), doc_id, group_id, layout

    def dark_looks(self) -> Iterable[tuple[int, str]]:
        """(doc_id, look over black) of every live transparent image that has one."""
        yield from self.conn.execute(
            "SELECT doc_id, dark_look FROM images WHERE deleted_gen IS NULL AND dark_look != ''"
        )

    def count_images(self, *, max_gen: int) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM images WHERE gen<=? AND deleted_gen IS NULL", (max_gen,)
        ).fetchone()
        return int(row[0])

    def count_occurrences(self, *, max_gen: int) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM occurrences WHERE gen<=?", (max_gen,)
        ).fetchone()
        return int(row[0])

    def count_analyzed(self, *, max_gen: int) -> dict[str, int]:
        """Visible images each analyzer ran on, by its name."""
        rows = self.conn.execute(
            "SELECT analyzed, count(*) FROM images WHERE gen<=? AND deleted_gen IS NULL"
            " GROUP BY analyzed",
            (max_gen,),
        )
        counts: dict[str, int] = {}
        for joined, n in rows:
            for name in filter(None, (joined or "").split(",")):
                counts[name] = counts.get(name, 0) + n
        return counts
