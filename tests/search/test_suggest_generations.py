"""Suggestion probes over a real embedded index: what is kept lasts one generation."""

from __future__ import annotations

from pathlib import Path

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.store import Filters, StoreQuery, StoreResult
from pixsearch.search.probes import Prober
from pixsearch.search.service import SearchService
from tests.index.helpers import make_doc


class Counting:
    """An embedded reader, counting its searches."""

    def __init__(self, store: EmbeddedStore) -> None:
        self.store = store
        self.searches = 0

    def search(self, query: StoreQuery) -> StoreResult:
        self.searches += 1
        return self.store.search(query)

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


def test_a_commit_makes_kept_probe_answers_be_asked_again(tmp_path: Path) -> None:
    writer = EmbeddedStore(tmp_path / "index", writable=True)
    for n, caption in enumerate(["red sunset over the sea", "tabby cat on a sofa"]):
        writer.add(make_doc(n, caption), None)
    writer.commit()
    reader = EmbeddedStore(tmp_path / "index")
    counted = Counting(reader)
    prober = Prober(SearchService(counted))  # type: ignore[arg-type]
    assert prober.probe("striped zebra", Filters()) is None
    assert prober.probe("striped zebra", Filters()) is None and counted.searches == 1

    zebra = make_doc(7, "striped zebra on the plain")
    writer.add(zebra, None)
    writer.commit()
    writer.close()
    assert reader.refresh()
    found = prober.probe("striped zebra", Filters())  # a new generation: searched again
    assert found is not None and counted.searches == 2
    assert reader.get([found[0]])[0].image_id == zebra.image_id
    assert prober.probe("red sunset", Filters(), count=True) == prober.probe(
        "red sunset", Filters(), count=True
    )
    assert counted.searches == 3
