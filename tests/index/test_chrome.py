"""Site chrome and template words learnt from the pages an index knows (index/chrome.py)."""

from __future__ import annotations

import copy
import gc
import sqlite3
import time
from pathlib import Path

import pytest

from pixsearch.index.chrome import ChromeHolder, SiteChrome, _SiteCounts, _Tally, host_of
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.memory import MemoryStore
from pixsearch.index.store import pages_of, places_of
from pixsearch.records import ImageDocument, Occurrence
from tests.index.helpers import make_doc

ACME = "http://acme.example"


def _on_pages(
    n: int, alt: str, pages: list[int], *, site: str = ACME, section: str = "Clipart"
) -> ImageDocument:
    doc = make_doc(n, alt)
    doc.occurrences = [
        Occurrence(
            source=f"{site}/item/{p}.html {site}/img/{n}.png",
            content_url=f"{site}/img/{n}.png",
            host_page_url=f"{site}/item/{p}.html",
            title=alt,
            text={"caption": alt, "page_title": f"Item {p} - {section} - Acme Pictures Item {p}"},
        )
        for p in pages
    ]
    return doc


def _site(store: MemoryStore, pages: int) -> int:
    """`pages` item pages, each with its own picture and the logo; the logo's doc_id."""
    logo = store.add(_on_pages(1000, "Acme Pictures", list(range(pages))))
    for p in range(pages):
        store.add(_on_pages(p, f"subject{'abcdefghijklmnop'[p]}", [p]))
    return logo


def test_a_picture_on_most_pages_of_its_site_is_chrome() -> None:
    store = MemoryStore()
    logo = _site(store, 8)
    strip = store.add(_on_pages(2000, "featured", [0, 1, 2]))  # on 3 of 8 pages: content
    chrome = ChromeHolder(store, check_seconds=0).current()
    assert chrome.generation == store.generation
    logo_group = store.get([logo])[0].group_id
    assert chrome.groups == {logo_group}
    assert store.get([strip])[0].group_id not in chrome.groups


def test_template_words_are_the_words_of_most_titles() -> None:
    store = MemoryStore()
    _site(store, 8)
    holder = ChromeHolder(store, check_seconds=0)
    assert holder.template_words("acme.example") == {"item", "clipart", "acme", "pictures"}
    assert holder.words_for_page(f"{ACME}/item/3.html") == holder.template_words("acme.example")
    assert holder.template_words() == holder.template_words("acme.example")
    assert holder.words_for_page("http://other.example/") == frozenset()


def test_a_section_name_is_a_template_word_though_few_titles_hold_it() -> None:
    store = MemoryStore()
    for p in range(60):  # 60 pages; "Stamps" titles 6 of them (10 %), "Clipart" the rest
        section = "Stamps" if p < 6 else "Clipart"
        store.add(_on_pages(p, f"subject{p}", [p], section=section))
    store.add(_on_pages(100, "lighthouse", [7, 8], section="Lighthouse"))  # a title's own part
    words = ChromeHolder(store, check_seconds=0).template_words("acme.example")
    assert {"item", "clipart", "stamps", "acme", "pictures"} <= words
    assert "lighthouse" not in words


def test_small_sites_have_no_template_and_counts_follow_commits() -> None:
    store = MemoryStore()
    logo = _site(store, 4)  # four pages: too few to tell a template from content
    holder = ChromeHolder(store, check_seconds=0)
    assert holder.groups() == frozenset() and holder.template_words() == frozenset()
    for p in range(4, 9):  # the site grows; only the new images are read again
        store.add(_on_pages(p, f"more{'abcdefghi'[p]}", [p]))
    logo_doc = store.get([logo])[0]
    assert logo_doc.group_id not in _settled(holder, store).groups  # on 4 of 9 pages now
    store.add(_on_pages(3000, "Acme Pictures", list(range(9))))  # a second, complete logo
    assert len(_settled(holder, store).groups) == 1


def test_a_group_seen_page_by_page_becomes_chrome_and_the_tally_stays_untracked() -> None:
    tally = _Tally()
    for p in range(12):  # twelve pages of one site, each with its own picture
        tally.add(p + 100, [(f"{ACME}/item/{p}.html", f"Item {p} - Clipart - Acme Pictures")])
    for p in [0, 1, 1, 2, 3, 4]:  # the logo met page by page, one page twice
        tally.add(7, [(f"{ACME}/item/{p}.html", "Item - Clipart - Acme Pictures")])
        assert 7 not in tally.result(1).groups  # on at most 5 of 12 pages: not yet chrome
    tally.add(7, [(f"{ACME}/item/5.html", "t"), ("http://other.example/a", "t")])
    assert tally.result(2).groups == {7}  # 6 of 12 pages of acme
    for p in range(5):  # a second site grows to a template; the first keeps its words
        tally.add(200 + p, [(f"http://other.example/{p}", f"Shop - {'abcde'[p]}")])
    words = tally.result(3).words
    assert words["other.example"] == {"shop"} and "clipart" in words["acme.example"]
    gc.collect()
    # A million images' tallies must not be walked by every full collection of a server.
    assert len(tally.few) == 17 and not any(map(gc.is_tracked, tally.few.values()))
    assert list(tally.wide) == [7]  # chrome candidates alone are sets
    assert not gc.is_tracked(tally.titles["acme.example"][f"{ACME}/item/3.html"])


def _settled(holder: ChromeHolder, store: MemoryStore) -> SiteChrome:
    """The holder's answer once it has counted the store's generation: after the first,
    counts run beside the requests, which keep the previous answer meanwhile."""
    deadline = time.monotonic() + 10
    while (current := holder.current()).generation != store.generation:
        assert time.monotonic() < deadline, "the count did not finish"
        time.sleep(0.01)
    return current


def test_host_of() -> None:
    assert host_of("HTTP://Acme.Example:8080/a") == "acme.example"
    assert host_of("") == "" and host_of("http://[bad") == ""


def test_an_embedded_index_reads_pages_alone_as_its_documents_give_them(tmp_path: Path) -> None:
    memory, writer = MemoryStore(), EmbeddedStore(tmp_path / "index", writable=True)
    docs = [_on_pages(1000, "Acme Pictures", list(range(8)))]
    docs += [_on_pages(p, f"subject{'abcdefgh'[p]}", [p]) for p in range(8)]
    docs.append(_on_pages(3000, "elsewhere", [1], site="http://other.example"))
    for doc in docs:
        memory.add(copy.deepcopy(doc))
        writer.add(doc, None)
    gone = writer.add(_on_pages(4000, "deleted", [2]), None)
    writer.commit()
    writer.delete(writer.get([gone])[0].image_id)
    writer.commit()
    writer.close()
    # An image written before records existed is read from its rows.
    with sqlite3.connect(tmp_path / "index" / "meta.db") as db:
        db.execute("DELETE FROM records WHERE doc_id = (SELECT MIN(doc_id) FROM records)")
    store = EmbeddedStore(tmp_path / "index")
    ids = store.changed_since(0)
    assert sorted(pages_of(store, ids)) == sorted(places_of(d) for d in store.get(ids))
    assert len(pages_of(store, [*ids, gone])) == len(docs)  # the deleted image is not read
    lite, whole = ChromeHolder(store, check_seconds=0), ChromeHolder(memory, check_seconds=0)
    assert lite.current().groups and lite.template_words() == whole.template_words()
    assert len(lite.current().groups) == len(whole.current().groups)


def test_a_big_site_keeps_counts_that_equal_a_count_from_its_titles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("pixsearch.index.chrome.BIG_SITE", 10)
    tally, given = _Tally(), {}
    # Pages come and the site renames itself: the last step titles every page anew.
    for step, (name, pages) in enumerate([("Pictures", 20), ("Pictures", 28), ("Images", 36)]):
        for p in range(pages):
            subject = "abcdefghij"[p % 10] + "klmnopqrst"[p // 10]  # a title's own word
            given[p] = title = f"{subject} {p} - Clipart - Acme {name}"
            tally.add(p, [(f"{ACME}/item/{p}.html", title)])
        words = tally.result(step).words["acme.example"]
        assert "acme.example" in tally.counts  # 20 pages or more: counted as they come
        titles = tally.titles["acme.example"]
        assert tally.counts["acme.example"] == _SiteCounts.of(titles.values())
        assert words == _SiteCounts.of(titles.values()).template_words(len(titles))
        assert ("pictures" in words) == (name == "Pictures") and "clipart" in words
    assert "pictures" not in tally.counts["acme.example"].words  # counted out to nothing
    before = copy.deepcopy(tally.counts["acme.example"])
    tally.add(99, [(f"{ACME}/item/3.html", given[3])])  # another picture on a known page
    assert tally.counts["acme.example"] == before and not tally._changed
