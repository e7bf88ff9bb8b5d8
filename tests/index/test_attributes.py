import random
from hashlib import blake2b
from urllib.parse import urlsplit

from pixsearch.index import attributes
from pixsearch.records import ImageDocument, Occurrence
from tests.index.helpers import make_doc


def test_size_classes_cover_every_image_once() -> None:
    assert attributes.sizes_of(100, 100) == ("small",)
    assert attributes.sizes_of(199, 199) == ("small",)
    # Small is "less than 200x200": a side of 200 or more makes a picture Medium,
    # however thin (a 451x150 banner, a 199x900 strip).
    assert attributes.sizes_of(451, 150) == ("medium",)
    assert attributes.sizes_of(199, 900) == ("medium",)
    assert attributes.sizes_of(200, 199) == ("medium",)
    assert attributes.sizes_of(200, 200) == ("medium",)
    assert attributes.sizes_of(900, 499) == ("medium",)
    assert attributes.sizes_of(499, 800) == ("medium",)
    assert attributes.sizes_of(500, 500) == ("large",)
    assert attributes.sizes_of(1920, 1080) == ("large", "wallpaper")
    assert attributes.sizes_of(1080, 1920) == ("large",)  # portrait: no wallpaper
    assert attributes.sizes_of(1024, 768) == ("large", "wallpaper")
    assert attributes.sizes_of(1023, 768) == ("large",)


def test_aspect_bands() -> None:
    assert attributes.aspect_of(100, 100) == "square"
    assert attributes.aspect_of(1600, 900) == "wide"
    assert attributes.aspect_of(900, 1600) == "tall"


def test_licence_permissions_nest_as_the_reference_says() -> None:
    p = attributes.LICENSE_PERMISSIONS
    assert "public" in p["cc0"] and "public" not in p["cc-by"]
    assert "modifycommercially" in p["cc-by-sa"] and "modifycommercially" not in p["cc-by-nc"]
    assert "sharecommercially" in p["cc-by-nd"] and "modify" not in p["cc-by-nd"]
    for perms in p.values():
        assert "any" in perms and "share" in perms


def test_hosts_and_prefixes() -> None:
    assert attributes.host_suffixes("www.a.Example.com") == [
        "www.a.example.com",
        "a.example.com",
        "example.com",
    ]
    assert attributes.url_prefixes("https://Ex.com/a/b.jpg") == [
        "ex.com/",
        "ex.com/a/",
        "ex.com/a/b.jpg",
    ]
    assert attributes.normalize_prefix("ex.com/a/") == "ex.com/a/"


def _reference_urls(doc: ImageDocument) -> tuple[tuple[str, ...], tuple[str, ...], int]:
    """hosts, prefixes and site key as they were computed before URLs were cached."""
    hosts: set[str] = set()
    prefixes: set[str] = set()
    site = 0
    for occurrence in doc.occurrences:
        for url in (occurrence.host_page_url, occurrence.content_url):
            if not url:
                continue
            parts = urlsplit(url)
            if parts.hostname:
                labels = parts.hostname.lower().rstrip(".").split(".")
                hosts.update(".".join(labels[i:]) for i in range(max(len(labels) - 1, 1)))
                if not site:
                    key = blake2b(parts.hostname.removeprefix("www.").encode(), digest_size=8)
                    site = int.from_bytes(key.digest(), "big") or 1
                base = parts.hostname.lower()
                path = parts.path.lstrip("/")
                segments = path.split("/") if path else []
                prefixes.add(base + "/")
                for i in range(len(segments)):
                    tail = "/".join(segments[: i + 1])
                    prefixes.add(f"{base}/{tail}" + ("/" if i < len(segments) - 1 else ""))
    return tuple(sorted(hosts)), tuple(sorted(prefixes)), site


def test_cached_url_fields_equal_parsing_every_url() -> None:
    urls = [
        None,
        "",
        "/local/file.jpg",
        "https://WWW.Example.COM/Gallery/Cats/tabby.JPG?size=2#top",
        "http://user:pw@photos.example.org:8080/a//b/",
        "http://[::1]:80/x.png",
        "https://example.com.",
        "https://example.com",
        "https://example.com/",
        "https://a.b.c.example.co.uk/p/1/",
        "file:///home/me/cat.png",
        "data:image/png;base64,AAAA",
    ]
    rng = random.Random(3)
    for _ in range(300):
        occurrences = [
            Occurrence(source=f"s{i}", host_page_url=rng.choice(urls), content_url=rng.choice(urls))
            for i in range(rng.randint(0, 3))
        ]
        doc = ImageDocument(make_doc(0, "").facts, occurrences, make_doc(0, "").first_seen)
        for _ in range(2):  # the second time from the caches
            hosts, prefixes, site = _reference_urls(doc)
            assert attributes.hosts_of(doc) == hosts
            assert attributes.prefixes_of(doc) == prefixes
            assert attributes.site_key(doc) == site
    assert attributes.url_prefixes(urls[3] or "") == [
        "www.example.com/",
        "www.example.com/Gallery/",
        "www.example.com/Gallery/Cats/",
        "www.example.com/Gallery/Cats/tabby.JPG",
    ]
