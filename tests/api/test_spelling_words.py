"""Spelling per word and suggestions made of the collection's words, over real HTTP.

Real clip art and stamps from the demo's Debian packages (openclipart-png,
tuxpaint-stamps-default), each stored under <slug>/<its original file name>
with a sidecar holding the title and caption the demo site gives it, ingested
by `pixsearch ingest` with sentence embeddings and served with semantic
matching on, as a default server runs. The file names carry what captions do
not: uploader handles ("nicu", "benji", "gerh") and numbering.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from pixsearch.demo.pictures import OPENCLIPART, Picture, catalogue
from pixsearch.index.words import is_content_word, tokens
from pixsearch.search.semantic import load_embedder
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import start_server, stop_server

pytestmark = [
    pytest.mark.skipif(not OPENCLIPART.is_dir(), reason="openclipart-png is not installed"),
    pytest.mark.skipif(load_embedder() is None, reason="the MiniLM weights package is missing"),
]

SEMANTIC_ON = {"PIXSEARCH_SEMANTIC": "1"}
TOPICS = {"apple": 10, "tree": 10, "christmas": 8, "hat": 8, "clock": 8, "star": 6, "cat": 6}
LISTS = ("queryExpansions", "similarTerms", "relatedSearches")


def chosen() -> list[Picture]:
    """Up to TOPICS[word] drawings whose caption or title holds each word, by slug order."""
    taken: Counter[str] = Counter()
    out = []
    for picture in sorted(catalogue(), key=lambda p: p.slug):
        words = set(tokens(f"{picture.caption} {picture.title}"))
        topic = next((w for w in TOPICS if w in words and taken[w] < TOPICS[w]), None)
        if topic is not None and not picture.photo:
            taken[topic] += 1
            out.append(picture)
    return out


Served = tuple[httpx.Client, list[Picture]]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("spelling")
    pictures = chosen()
    for picture in pictures:
        place = root / "site" / picture.slug
        place.mkdir(parents=True)
        copy = place / picture.path.name
        shutil.copyfile(picture.path, copy)
        sidecar = {"title": picture.title, "caption": picture.caption}
        copy.with_suffix(".json").write_text(json.dumps(sidecar))
    index = root / "index"
    done = subprocess.run(
        [sys.executable, "-m", "pixsearch", "ingest", str(root / "site"), "--index", str(index)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **SEMANTIC_ON},
    )
    assert done.returncode == 0, done.stderr
    key = SqliteKeyStore(ServiceDb(index / "service.db")).create("tests")
    process, base = start_server(index, env=SEMANTIC_ON)
    try:
        with httpx.Client(
            base_url=base, headers={"Ocp-Apim-Subscription-Key": key}, timeout=60
        ) as client:
            yield client, pictures
    finally:
        stop_server(process)


def search(client: httpx.Client, q: str, **params: object) -> dict:
    response = client.get("/v7.0/images/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_one_misspelled_word_among_correct_ones_is_corrected(
    served: Served,
) -> None:
    client, _ = served
    # Typed as is, these find images by meaning and by their right word, which kept
    # the old rule (correct only what finds three images or fewer) from trying.
    for typed, meant, override in (
        ("christmas tere", "christmas tree", "christmas +tere"),
        ("alarm clokc", "alarm clock", "alarm +clokc"),
        ("red aple", "red apple", "red +aple"),
    ):
        body = search(client, typed)
        assert body["queryContext"].get("alteredQuery") == meant, (typed, body["queryContext"])
        assert body["queryContext"]["alterationOverrideQuery"] == override
        assert body["value"]
        assert any(w in body["value"][0]["name"].lower() for w in meant.split())


def test_a_correct_common_word_is_never_altered(
    served: Served,
) -> None:
    client, _ = served
    # "hat" has "cat" and "bat" one edit away, "star" has "stars"; each is a word here.
    for q in ("hat", "cat", "star", "tree", "clock", "apple", "christmas tree", "alarm clock"):
        body = search(client, q)
        assert "alteredQuery" not in body["queryContext"], (q, body["queryContext"])


def test_suggestions_are_words_of_captions_not_of_file_names(
    served: Served,
) -> None:
    client, pictures = served
    described = Counter(w for p in pictures for w in set(tokens(f"{p.title} {p.caption}")))
    in_names = {w for p in pictures for w in tokens(f"{p.slug} {p.path.stem}")}
    url_only = in_names - set(described)
    assert {"nicu", "benji"} <= url_only  # the handles the file names carry
    kinds: set[str] = set()
    for q in ("apple", "hat", "christmas tree", "clock", "star"):
        body = search(client, q)
        found = [s for name in LISTS for s in body.get(name, [])]
        found += [s for pivot in body.get("pivotSuggestions", []) for s in pivot["suggestions"]]
        kinds |= {name for name in (*LISTS, "pivotSuggestions") if body.get(name)}
        for suggestion in found:
            words = [w for w in tokens(suggestion["text"]) if is_content_word(w)]
            new = [w for w in words if w not in tokens(q)]
            assert not set(new) & url_only, (q, suggestion["text"])
            assert all(described[w] >= 1 for w in new), (q, suggestion["text"])
    assert kinds  # the lists are not simply empty
