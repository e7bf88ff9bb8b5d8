"""A crawled site over real HTTP: words near an image find it, words far from it do not lead.

Real pictures (Tux Paint stamps, tuxpaint-stamps-default) on a small site served on
loopback, crawled with `pixsearch crawl`, searched through `pixsearch serve`.
File names are opaque and images have no alt text: only the text around them says
what they show.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from tests.conftest import start_server, stop_server
from tests.debian import apt_install

from pixsearch.cli.main import cli

STAMPS = Path("/usr/share/tuxpaint/stamps")
PICTURES = {  # served name -> stamp
    "/m/a1.png": "animals/birds/penguin.png",
    "/m/b2.png": "town/usps_mailbox.png",
    "/m/c3.png": "food/fruit/apple_red.png",
}
HEADER = '<header><img src="/brand.png" alt="Cove Pictures"><nav>Home · About</nav></header>'


def _page(title: str, main: str) -> tuple[str, str]:
    return f"<title>{title} – Cove Pictures</title>", f"{HEADER}<main>{main}</main>"


@pytest.fixture
def api(site, tmp_path: Path) -> Iterator[httpx.Client]:
    """The site crawled and served; `site` is the loopback server of tests/crawl/conftest.py."""
    reason = apt_install("tuxpaint-stamps-default")
    if reason:
        pytest.skip(reason)
    for url, stamp in PICTURES.items():
        site.image(url, (STAMPS / stamp).read_bytes(), "image/png")
    site.image("/brand.png", (STAMPS / "town/roadsigns/stop.png").read_bytes(), "image/png")
    pages = {
        # 'marigold' only in a figcaption
        "/item/1.html": _page(
            "Item 1",
            '<section><figure><img src="/m/a1.png" alt="">'
            "<figcaption>Marigold the penguin</figcaption></figure></section>",
        ),
        # 'lighthouse' in the card of the mailbox
        "/item/2.html": _page(
            "Item 2",
            '<section><div class="card"><img src="/m/b2.png" alt="">'
            "<p>The lighthouse keeper's mailbox</p></div></section>",
        ),
        # 'lighthouse' only far from the apple: in the aside right after it
        "/item/3.html": _page(
            "Item 3",
            '<section><div class="card"><img src="/m/c3.png" alt=""><p>Crisp and red</p>'
            "</div></section><aside><h3>Popular</h3><p>Lighthouse at dawn, lighthouse at night"
            "</p></aside>",
        ),
    }
    links = "".join(f'<a href="{u}">{u}</a> ' for u in pages)
    site.page("/", f"{HEADER}<main>{links}</main>", "<title>Cove Pictures</title>")
    for url, (head, body) in pages.items():
        site.page(url, body, head)
    index = tmp_path / "index"
    args = ["crawl", site.base + "/", "--index", str(index), "--allow-private"]
    result = CliRunner().invoke(cli, [*args, "--delay", "0", "--quiet", "--no-neural"])
    assert result.exit_code == 0, result.output
    process, base = start_server(index, extra=("--no-auth",))
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            yield client
    finally:
        stop_server(process)


def _shown(client: httpx.Client, q: str) -> list[str]:
    answer = client.get("/v7.0/images/search", params={"q": q, "count": 10})
    assert answer.status_code == 200, answer.text
    return [httpx.URL(v["contentUrl"]).path for v in answer.json()["value"]]


def test_a_word_only_in_a_figcaption_finds_the_image(api: httpx.Client) -> None:
    assert _shown(api, "marigold")[:1] == ["/m/a1.png"]


def test_far_away_page_text_ranks_below_the_image_whose_card_says_it(api: httpx.Client) -> None:
    shown = _shown(api, "lighthouse")
    assert shown[:1] == ["/m/b2.png"]  # said once in its card, beats twice in an aside
    assert "/brand.png" not in shown  # the header logo takes no text from the page
