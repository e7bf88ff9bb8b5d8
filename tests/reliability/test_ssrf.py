"""imgUrl and imageInfo.url: every numeric host form, user info and loopback names.

Over real HTTP against `pixsearch serve`, with fetch_private off and on. Refused
URLs answer 400 and open no connection to the loopback "canary" they point at;
allowed ones fetch the picture. Before the fix, an octal host (0177.0.0.1) with
fetch_private on answered 500 (httpx refused to parse it).

The last tests drive the fetch client directly with a scripted resolver, to show
that it connects to the address it checked (no second lookup to rebind).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httpcore
import httpx
import orjson
import pytest

from pixsearch.crawl import safety
from pixsearch.crawl.fetcher import Fetcher, FetchFailed, FetchSettings
from pixsearch.crawl.transport import CheckedBackend, checked_client
from tests.reliability.conftest import Canary, PictureSite

# Spellings of 127.0.0.1 (and a name for it) that the fetcher must see through.
LOOPBACK_FORMS = (
    "0177.0.0.1",  # octal
    "0x7f.1",  # hex, short
    "0x7f.0.0.1",
    "2130706433",  # one decimal number
    "127.1",  # short
    "127.0.0.1",
    "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
    "[::ffff:7f00:1]",
    "localhost",  # a name that resolves to loopback
)
# Never fetched, in either mode: user info, and numeric hosts that are no address.
ALWAYS_REFUSED = (
    "http://user@127.0.0.1:{port}/cat.jpg",
    "http://user:pw@127.0.0.1:{port}/cat.jpg",
    "http://example.com\\@127.0.0.1:{port}/cat.jpg",
    "http://0999.0.0.1:{port}/cat.jpg",  # 9 is no octal digit
    "http://1.2.3.4.5:{port}/cat.jpg",
    "http://256.0.0.1:{port}/cat.jpg",
    "http://4294967296:{port}/cat.jpg",
    "http://[fe80::1%25lo]:{port}/cat.jpg",
    "ftp://127.0.0.1:{port}/cat.jpg",
)


def details(base: str, url: str) -> httpx.Response:
    return httpx.get(
        base + "/v7.0/images/details",
        params={"imgUrl": url, "modules": "All"},
        timeout=20,
    )


def visual(base: str, url: str) -> httpx.Response:
    knowledge = orjson.dumps({"imageInfo": {"url": url}})
    return httpx.post(
        base + "/v7.0/images/visualsearch",
        files={"knowledgeRequest": (None, knowledge)},
        timeout=20,
    )


ASK = {"imgUrl": (details, "imgUrl"), "imageInfo.url": (visual, "imageInfo.url")}


def assert_refused(response: httpx.Response, parameter: str) -> None:
    assert response.status_code == 400, response.text[:500]
    error = response.json()["errors"][0]
    assert error["code"] == "InvalidRequest" and error["parameter"] == parameter, error


@pytest.mark.parametrize("via", sorted(ASK))
@pytest.mark.parametrize("host", LOOPBACK_FORMS)
def test_loopback_forms_refused_by_default(
    public_only_server: str, canary: Canary, via: str, host: str
) -> None:
    ask, parameter = ASK[via]
    assert_refused(ask(public_only_server, f"http://{host}:{canary.port}/cat.jpg"), parameter)
    assert canary.count == 0


@pytest.mark.parametrize("via", sorted(ASK))
@pytest.mark.parametrize("template", ALWAYS_REFUSED)
def test_userinfo_and_bad_numbers_refused_in_both_modes(
    public_only_server: str, private_ok_server: str, canary: Canary, via: str, template: str
) -> None:
    ask, parameter = ASK[via]
    url = template.format(port=canary.port)
    for base in (public_only_server, private_ok_server):
        assert_refused(ask(base, url), parameter)
    assert canary.count == 0


@pytest.mark.parametrize("via", sorted(ASK))
@pytest.mark.parametrize("host", LOOPBACK_FORMS)
def test_loopback_forms_fetch_the_picture_when_private_is_allowed(
    private_ok_server: str, picture_site: PictureSite, via: str, host: str
) -> None:
    ask, _ = ASK[via]
    response = ask(private_ok_server, f"http://{host}:{picture_site.port}/cat.jpg")
    assert response.status_code == 200, response.text[:500]
    assert len(picture_site.hosts) == 1  # fetched once, from the one server that has it


# -- The fetch client, with a scripted resolver ----------------------------------------


@dataclass
class ScriptedDns:
    """host -> the answers to give, one per lookup (the last one repeats); lookups made."""

    answers: dict[str, list[list[str]]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)

    async def lookup(self, host: str, port: int) -> tuple[str, ...]:
        self.lookups.append(host)
        script = self.answers[host]
        return tuple(script.pop(0) if len(script) > 1 else script[0])


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> ScriptedDns:
    scripted = ScriptedDns()
    monkeypatch.setattr(safety, "_lookup", scripted.lookup)
    monkeypatch.setattr(safety, "_addresses", {})
    return scripted


def test_connection_goes_to_the_checked_address(
    dns: ScriptedDns, picture_site: PictureSite
) -> None:
    """`rebind.test` exists only in the scripted resolver, so reaching the picture proves the
    client dialled the address it resolved and checked, not a fresh lookup of its own."""
    dns.answers["rebind.test"] = [["127.0.0.1"], ["10.9.9.9"]]
    url = f"http://rebind.test:{picture_site.port}/cat.jpg"

    async def fetch() -> bytes:
        settings = FetchSettings(user_agent="t", allow_private=True, retries=0)
        async with checked_client(allow_private=True, timeout=5, headers={}) as client:
            return (await Fetcher(client, settings).get(url, _no_rule)).body

    assert asyncio.run(asyncio.wait_for(fetch(), 10)) == picture_site.body
    assert picture_site.hosts == [f"rebind.test:{picture_site.port}"]  # Host header kept
    assert dns.lookups == ["rebind.test"]  # one lookup for the check and the connection


def test_rebinding_after_the_check_is_not_followed(dns: ScriptedDns, canary: Canary) -> None:
    """A name that answers public first and loopback next: the dial uses the first answer."""
    dns.answers["rebind.test"] = [["93.184.216.34"], ["127.0.0.1"]]
    dialled: list[str] = []

    class Recorder(httpcore.AsyncNetworkBackend):
        async def connect_tcp(self, host: str, port: int, *args: object, **kw: object) -> object:
            dialled.append(host)
            raise httpcore.ConnectError("not in tests")

    async def go() -> None:
        await safety.check_host("rebind.test", canary.port, allow_private=False)  # the check
        backend = CheckedBackend(allow_private=False)
        backend.inner = Recorder()  # type: ignore[assignment]
        with pytest.raises(httpcore.ConnectError):
            await backend.connect_tcp("rebind.test", canary.port)

    asyncio.run(go())
    assert dialled == ["93.184.216.34"]
    assert canary.count == 0


def test_a_name_with_any_private_address_is_refused_before_dialling(
    dns: ScriptedDns, canary: Canary
) -> None:
    dns.answers["mixed.test"] = [["93.184.216.34", "127.0.0.1"]]
    url = f"http://mixed.test:{canary.port}/cat.jpg"

    async def fetch() -> None:
        settings = FetchSettings(user_agent="t", retries=0)
        async with checked_client(allow_private=False, timeout=5, headers={}) as client:
            await Fetcher(client, settings).get(url, _no_rule)

    with pytest.raises(FetchFailed) as caught:
        asyncio.run(asyncio.wait_for(fetch(), 10))
    assert caught.value.reason == "unsafe-destination"
    assert canary.count == 0


async def _no_rule(url: str) -> str | None:
    return None
