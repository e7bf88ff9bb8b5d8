"""robots.txt, sitemaps, URL normalisation, licences, scope and network safety."""

from __future__ import annotations

import asyncio
import gzip

import pytest

from pixsearch.crawl.licenses import license_key
from pixsearch.crawl.robots import parse_robots
from pixsearch.crawl.safety import UnsafeDestination, check_host, is_public
from pixsearch.crawl.scope import Scope
from pixsearch.crawl.sitemaps import parse_sitemap
from pixsearch.crawl.urls import normalize, url_words

ROBOTS = """
User-agent: *
Disallow: /private/
Allow: /private/ok
Disallow: /*.gif$
Crawl-delay: 2

User-agent: pixsearch
User-agent: otherbot
Disallow: /only-us/
Allow: /
Sitemap: https://ex.com/sitemap.xml
"""


def test_robots_groups_and_precedence() -> None:
    robots = parse_robots(ROBOTS)
    assert not robots.allowed("somebot", "/private/a")
    assert robots.allowed("somebot", "/private/ok.html")  # longer Allow wins
    assert not robots.allowed("somebot", "/x/y.gif") and robots.allowed("somebot", "/x/y.gif?z")
    assert robots.crawl_delay("somebot") == 2
    # Our own group replaces the * group entirely.
    assert robots.allowed("pixsearch", "/private/a") and not robots.allowed(
        "pixsearch", "/only-us/"
    )
    assert robots.crawl_delay("pixsearch") is None
    assert robots.sitemaps == ["https://ex.com/sitemap.xml"]


def test_robots_tie_goes_to_allow_and_empty_disallow() -> None:
    robots = parse_robots("User-agent: *\nDisallow: /a\nAllow: /a\n")
    assert robots.allowed("x", "/a")
    assert parse_robots("User-agent: *\nDisallow:\n").allowed("x", "/anything")


def test_sitemap_index_gzip_and_entities() -> None:
    index = b"<sitemapindex><sitemap><loc>https://ex.com/s1.xml.gz</loc></sitemap></sitemapindex>"
    assert parse_sitemap(index).sitemaps == ["https://ex.com/s1.xml.gz"]
    urlset = b"<urlset><url><loc> https://ex.com/a?x=1&amp;y=2 </loc></url></urlset>"
    assert parse_sitemap(gzip.compress(urlset)).pages == ["https://ex.com/a?x=1&y=2"]


def test_normalize() -> None:
    assert normalize("HTTP://Ex.COM:80/a/../b?q=1#frag") == "http://ex.com/a/../b?q=1"
    assert normalize("../c d.jpg", "https://ex.com/x/y/") == "https://ex.com/x/c%20d.jpg"
    assert normalize("https://ex.com") == "https://ex.com/"
    assert normalize("/a%7eb", "https://ex.com/") == normalize("/a~b", "https://ex.com/")
    assert normalize("javascript:alert(1)") is None and normalize("ftp://ex.com/") is None
    assert url_words("https://ex.com/images/red-fox_2019.jpg") == "red fox 2019"


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://creativecommons.org/licenses/by/4.0/", "cc-by"),
        ("http://creativecommons.org/licenses/by-sa/3.0/deed.de", "cc-by-sa"),
        ("https://creativecommons.org/licenses/by-nc-nd/2.0", "cc-by-nc-nd"),
        ("https://creativecommons.org/publicdomain/zero/1.0/", "cc0"),
        ("https://creativecommons.org/publicdomain/mark/1.0/", "pdm"),
        ("https://example.com/license", None),
    ],
)
def test_license_keys(url: str, key: str | None) -> None:
    assert license_key(url) == key


def test_scope() -> None:
    scope = Scope(hosts={"ex.com"}, domains={"cdn.net"}, deny_prefixes=["https://ex.com/no/"])
    assert scope.why_not("https://img.cdn.net/a.jpg", "image") is None
    assert scope.why_not("https://evil.com/a.jpg", "image") == "out-of-scope-host"
    assert scope.why_not("https://ex.com/no/x", "page") == "out-of-scope"


def test_network_safety_refuses_private_addresses() -> None:
    for address in ("127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "::1", "fe80::1"):
        assert not is_public(address)
    assert is_public("93.184.216.34")
    with pytest.raises(UnsafeDestination):
        asyncio.run(check_host("127.0.0.1", 80, allow_private=False))
    with pytest.raises(UnsafeDestination):
        asyncio.run(check_host("localhost", 80, allow_private=False))  # after resolution
    asyncio.run(check_host("127.0.0.1", 80, allow_private=True))
