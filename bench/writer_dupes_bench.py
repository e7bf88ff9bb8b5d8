"""The index writer's near-duplicate check on look-alike photographs: CPU per image.

    python bench/writer_dupes_bench.py --images 400 [--uploads 40] [--rounds 3]
        [--dir .bench/writer-dupes]

pipeline_bench's photo-like pictures (smooth colour fields: their visual embeddings are
all alike, so every new picture is compared pixel by pixel with its nearest earlier ones
and none matches, the worst case of the check) go through the pipeline once with the
`visual` analyzer, as `pixsearch ingest` runs it; the results are kept in --dir. Each
round then indexes the first --images of them into a new index through ``Indexer``, as
ingest does, and
reports the writer's CPU per image, how many pixel comparisons it made, and the CPU spent
sampling alignment windows (``Thumb.windows``). Then, on the index of the last round,
--uploads further pictures (never indexed) are looked up as an upload to
/images/details is (``duplicate_of`` with thumbnail and embedding): the CPU per upload.
Run it with PYTHONPATH pointing at another tree's src to time that code on the same
pipeline results.
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pixsearch.index import alignment
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.store import Picture
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.indexer import Indexer
from pixsearch.ingest.parallel import process_many
from pixsearch.ingest.pipeline import Processed

DUP_DISTANCE = 6  # the dup_distance setting's default, as /images/details uses it


def processed(folder: Path, count: int, workers: int) -> list[Processed]:
    """The pipeline's results for `count` pictures, made once and kept in `folder`."""
    kept = folder / f"processed-{count}.pickle"
    if kept.exists():
        items: list[Processed] = pickle.loads(kept.read_bytes())
        return items
    # Imported here, after pixsearch: pipeline_bench puts this checkout's src first on
    # sys.path, and a tree given on PYTHONPATH must stay the one timed.
    sys.path.append(str(Path(__file__).resolve().parent))
    from pipeline_bench import generate

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(Path(tmp), count)
        config = PipelineConfig(analyzers=("visual",))
        items = [
            r for r in process_many(paths, config, workers=workers) if isinstance(r, Processed)
        ]
    kept.write_bytes(pickle.dumps(items))
    return items


class Clock:
    """Counts pixel comparisons and the CPU spent sampling windows, by wrapping both."""

    def __init__(self) -> None:
        self.comparisons = 0
        self.windows = 0.0

    def __enter__(self) -> Clock:
        self._mismatch = alignment.Alignment.mismatch
        self._windows = alignment.Thumb.windows
        clock = self

        def mismatch(self: alignment.Alignment) -> float:
            clock.comparisons += self._mismatch is None
            return clock._mismatch(self)

        def windows(self: alignment.Thumb, scale: tuple[float, float]) -> object:
            start = time.process_time()
            try:
                return clock._windows(self, scale)
            finally:
                clock.windows += time.process_time() - start

        alignment.Alignment.mismatch = mismatch  # type: ignore[method-assign]
        alignment.Thumb.windows = windows  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        alignment.Alignment.mismatch = self._mismatch  # type: ignore[method-assign]
        alignment.Thumb.windows = self._windows  # type: ignore[method-assign]


def index_round(items: list[Processed], uploads: list[Processed]) -> tuple[float, ...]:
    """(writer CPU s, pixel comparisons, CPU s sampling windows, groups, CPU s per upload)
    for one new index, and the uploads looked up in it."""
    with tempfile.TemporaryDirectory() as tmp, Clock() as clock:
        store = EmbeddedStore(Path(tmp), writable=True)
        indexer = Indexer(store)
        start = time.process_time()
        for item in items:
            indexer.handle(item)
        indexer.commit()
        spent = time.process_time() - start
        groups = len({doc.group_id for doc in store.get(list(range(1, len(items) + 1)))})
        comparisons, windows = clock.comparisons, clock.windows
        start = time.process_time()
        for item in uploads:
            facts = item.facts
            picture = Picture(facts.phash, facts.color_layout, item.thumbnail, item.embedding)
            store.duplicate_of(picture, max_distance=DUP_DISTANCE)
        per_upload = (time.process_time() - start) / max(len(uploads), 1)
        store.close()
    return spent, comparisons, windows, groups, per_upload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="for the pipeline pass")
    parser.add_argument("--dir", type=Path, default=Path(".bench/writer-dupes"))
    parser.add_argument("--uploads", type=int, default=40, help="of the pictures, looked up")
    args = parser.parse_args()
    made = processed(args.dir, args.images + args.uploads, args.workers)
    items, uploads = made[: args.images], made[args.images :]
    print(f"{len(items)} pictures, {len(uploads)} uploads, code from {alignment.__file__}")
    print(
        "| round | writer CPU ms/image | pixel comparisons/image | windows CPU ms/image "
        "| groups | CPU ms/upload |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    per_image = []
    for n in range(1, args.rounds + 1):
        spent, comparisons, windows, groups, upload = index_round(items, uploads)
        per_image.append(spent * 1000 / len(items))
        print(
            f"| {n} | {per_image[-1]:.2f} | {comparisons / len(items):.2f} "
            f"| {windows * 1000 / len(items):.2f} | {groups} | {upload * 1000:.1f} |"
        )
    print(f"median writer CPU: {statistics.median(per_image):.2f} ms/image")


if __name__ == "__main__":
    main()
