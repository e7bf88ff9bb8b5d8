"""The embedded backend: Tantivy + SQLite + thumbnail files in one directory.

Commit protocol (generation G = last committed + 1):

1. rows of G are written to SQLite (invisible: readers stop at the committed gen);
2. thumbnails are written as images are added, and flushed and named
   (index/thumbs.py) before the rows that name them are committed;
3. Tantivy commits G's documents together with a marker document "G landed"
   (new images' documents go to its writer as they are added, so its indexing
   thread works while the next images are prepared; nothing is visible before
   this commit, and an image changed before it is sent again, see ``_unsend``);
4. SQLite records G as committed and purges rows whose deletion G committed.

A crash before 3 leaves Tantivy at G-1 and the next writer rolls SQLite back;
a crash between 3 and 4 is rolled forward (readers already treat a landed
marker as committed). Either way readers only ever see a whole generation.

Visual embeddings (index/vectors.py) join step 3: generation G's vector file is
renamed into place just before Tantivy commits G, so a landed marker always has
its vectors; recovery deletes vector files of generations that did not land.
Text and CLIP vectors (index/derived.py) are written after the commit by their
own writers; readers pick their files up as they appear.

This module opens the store and writes; serving is its base class
(index/embeddedreads.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pixsearch.index.alignment import Thumb, ThumbCache, aligner
from pixsearch.index.darklook import DarkLook
from pixsearch.index.derived import DerivedVectors
from pixsearch.index.docrecords import CACHE_SIZE
from pixsearch.index.dupes import DUP_NEIGHBOURS, DuplicateIndex, parse_layout
from pixsearch.index.embeddedreads import EmbeddedReads
from pixsearch.index.metadb import MetaDB
from pixsearch.index.nearscan import NearScan
from pixsearch.index.store import VectorSpace, WriteStore
from pixsearch.index.textindex import RESULTS, TextIndex
from pixsearch.index.thumbs import ThumbnailStore
from pixsearch.index.vectors import VectorIndex
from pixsearch.records import ImageDocument, Occurrence

COMPARED_THUMBS = 32  # decoded thumbnails kept for near-duplicate checks: at most ~55 MB

# New images whose documents go to Tantivy's writer before the commit, at most. Its
# queue holds 10,000; a send to a full queue spins while it waits (measured: about
# +20 % main-thread CPU per image in 50,000-image generations), and the commit waits
# for the queue anyway.
SEND_AHEAD = 5000


class EmbeddedStore(EmbeddedReads):
    """ReadStore always; WriteStore when opened with writable=True (one writer at a time).

    `record_cache`: how many decoded images result pages keep (index/docrecords.py);
    `result_cache`: how many search answers are kept for the commit (index/textindex.py).
    """

    def __init__(
        self,
        root: Path,
        *,
        writable: bool = False,
        dup_distance: int = 6,
        record_cache: int = CACHE_SIZE,
        result_cache: int = RESULTS,
    ) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.text = TextIndex(root / "text", results=result_cache)
        # A reader must never write: not even CREATE IF NOT EXISTS, which would wait
        # for the writer's open transaction.
        db = root / "meta.db"
        self.meta = MetaDB(db, readonly=not writable and db.exists(), record_cache=record_cache)
        self.thumbs = ThumbnailStore(root / "thumbs")
        self.vectors = VectorIndex(root / "vectors", writable=writable)
        self._vectors_loaded = False
        self.writable = writable
        self._dup_distance = dup_distance
        self._dupes: DuplicateIndex | None = None
        self._near: NearScan | None = None
        # the thumbnails the writer's pixel checks decoded (alignment.py)
        self._compared = ThumbCache(self.thumbs.get, COMPARED_THUMBS)
        self._derived: dict[VectorSpace, DerivedVectors] = {}
        self._pending: dict[int, tuple[ImageDocument, bool]] = {}  # doc_id → (doc, existed)
        self._deleted_pending: set[int] = set()
        self._sent: set[int] = set()  # pending images Tantivy already has (uncommitted)
        self._sending = True  # whether new images still go to Tantivy as they are added
        if writable:
            _ = self.text.writer  # take the writer lock before touching the journal
            self.recover()
        self._visible = self._visible_gen()
        self.gen = self.meta.committed_gen() + 1

    # -- WriteStore ------------------------------------------------------------

    def recover(self) -> str | None:
        """Finish or undo a generation a dead writer left half-done."""
        committed = self.meta.committed_gen()
        landed = self.text.has_generation(committed + 1)
        outcome = None
        if landed:
            self.meta.finish_generation(committed + 1)
            outcome = "rolled-forward"
        elif self.meta.pending_generation(committed):
            self.meta.rollback_generation(committed + 1)
            outcome = "rolled-back"
        self.vectors.discard_uncommitted(self.meta.committed_gen())
        self._vectors_loaded = False
        return outcome

    @property
    def dupes(self) -> DuplicateIndex:
        if self._dupes is None:
            self._dupes = DuplicateIndex(self._dup_distance)
            darks = dict(self.meta.dark_looks())
            for phash, doc_id, group_id, layout in self.meta.hashes():
                dark = DarkLook.parse(darks.get(doc_id, ""))
                self._dupes.add(phash, doc_id, group_id, parse_layout(layout), dark)
        return self._dupes

    def find_by_sha(self, sha256: str) -> ImageDocument | None:
        doc_id = self.meta.doc_id_for("sha256", sha256, max_gen=None)
        if doc_id is None:
            return None
        pending = self._pending.get(doc_id)
        if pending is not None:
            return pending[0]
        docs = self.meta.fetch([doc_id], max_gen=None)
        return docs[0] if docs else None

    def add(
        self,
        doc: ImageDocument,
        thumbnail: bytes | None,
        embedding: np.ndarray | None = None,
        *,
        grouped: bool = False,
    ) -> int:
        """Add a new image (its sha256 must not be indexed yet) with its occurrences.

        Its near-duplicate group: a hash match's (thumbnails agreeing), else, given its
        visual embedding, a verified match among its nearest vectors (index/dupes.py);
        with `grouped`, the one the caller set in ``doc.group_id`` (0: its own).
        """
        self._require_writer()
        if thumbnail is not None:
            self.thumbs.put(doc.facts.sha256, thumbnail)
        self._begin()
        layout = parse_layout(doc.facts.color_layout)
        dark = DarkLook.parse(doc.facts.dark_look)
        if not grouped:
            doc.group_id = (
                self.dupes.group_for(
                    doc.facts.phash,
                    layout,
                    verify=aligner(thumbnail, self._thumb_of),
                    neighbours=None if embedding is None else lambda: self._neighbours(embedding),
                    dark=dark,
                )
                or 0
            )
        doc.doc_id = self.meta.insert_image(doc, gen=self.gen)
        doc.group_id = doc.group_id or doc.doc_id
        for occurrence in doc.occurrences:
            self.meta.upsert_occurrence(doc.doc_id, occurrence, gen=self.gen, new_image=True)
        if self._dupes is not None:  # else loaded with this image from its row when needed
            self._dupes.add(doc.facts.phash, doc.doc_id, doc.group_id, layout, dark)
        self._pending[doc.doc_id] = (doc, False)
        self._sending = self._sending and len(self._sent) < SEND_AHEAD
        if self._sending:
            self.text.add(doc, gen=self.gen)
            self._sent.add(doc.doc_id)
        return doc.doc_id

    def _thumb_of(self, doc_id: int) -> Thumb | None:
        row = self.meta.conn.execute(
            "SELECT sha256 FROM images WHERE doc_id=?", (doc_id,)
        ).fetchone()
        return self._compared.get(row[0]) if row else None

    def _neighbours(self, embedding: np.ndarray) -> list[tuple[int, float]]:
        self._load_vectors()
        return self.vectors.search(embedding, DUP_NEIGHBOURS)

    def add_vector(self, doc_id: int, vector: np.ndarray) -> None:
        """Attach an image's visual embedding; visible with the next commit."""
        self._require_writer()
        self._load_vectors()
        self.vectors.add(doc_id, vector)

    def add_occurrence(self, doc_id: int, occurrence: Occurrence) -> bool:
        """Attach another place to an indexed image; False if nothing changed."""
        self._require_writer()
        self._begin()
        if not self.meta.upsert_occurrence(doc_id, occurrence, gen=self.gen):
            return False
        if doc_id in self._sent:
            self._unsend()
        if doc_id in self._pending:
            doc, _ = self._pending[doc_id]
            # In place, as the row's update keeps its place: the record keeps the rows' order.
            places = [o.source for o in doc.occurrences]
            if occurrence.source in places:
                doc.occurrences[places.index(occurrence.source)] = occurrence
            else:
                doc.occurrences.append(occurrence)
        else:
            docs = self.meta.fetch([doc_id], max_gen=None)
            if docs:
                self._pending[doc_id] = (docs[0], True)
                self._sending = False  # it goes to Tantivy at commit, and the later ones after it
        return True

    def _unsend(self) -> None:
        """Take back what Tantivy was given ahead of this commit: an image it has changed.

        Deleting and re-adding that one would leave a deleted document, which
        Tantivy counts in its term statistics until a merge; so this generation's
        documents go to Tantivy at commit instead, as if never sent.
        """
        self.text.writer.rollback()
        self._sent.clear()
        self._sending = False
        for doc_id in self._deleted_pending:  # the deletions went with the rollback
            self.text.delete(doc_id)

    def delete(self, image_id: str) -> bool:
        self._require_writer()
        doc_id = self.meta.doc_id_for("image_id", image_id.upper(), max_gen=None)
        if doc_id is None:
            return False
        self._begin()
        if doc_id in self._sent:
            self._unsend()
        self.meta.mark_deleted(doc_id, gen=self.gen)
        self.text.delete(doc_id)
        self.dupes.remove(doc_id)
        self._load_vectors()
        self.vectors.remove(doc_id)
        self._pending.pop(doc_id, None)
        self._deleted_pending.add(doc_id)
        return True

    @property
    def has_pending(self) -> bool:
        return bool(self._pending or self._deleted_pending or self.vectors.dirty)

    def commit(self) -> int:
        """Make everything added since the last commit visible, atomically."""
        self._require_writer()
        self.thumbs.sync()  # before the rows that name them can land
        self.meta.write_records((doc for doc, _ in self._pending.values()), gen=self.gen)
        self.meta.commit()
        for doc_id, (doc, existed) in self._pending.items():
            if doc_id in self._sent:
                continue
            if existed:
                self.text.delete(doc_id)
            self.text.add(doc, gen=self.gen)
        self.vectors.save(self.gen)  # before the marker: a landed generation has its vectors
        self.text.commit(self.gen)
        self.meta.finish_generation(self.gen)
        self.vectors.prune(self.gen)
        self._pending.clear()
        self._deleted_pending.clear()
        self._sent.clear()
        self._sending = True
        self._visible = self.gen
        self.gen += 1
        return self._visible

    def close(self) -> None:
        self.thumbs.discard()  # of images added and never committed
        self.text.close()
        self.meta.close()

    def _begin(self) -> None:
        if not self.meta.conn.in_transaction:
            self.meta.begin()

    def _require_writer(self) -> None:
        if not self.writable:
            raise PermissionError("this store was opened read-only")


_: type[WriteStore] = EmbeddedStore  # mypy checks the embedded store against the whole seam
