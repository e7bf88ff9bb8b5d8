"""Fetching a picture named by URL (details imgUrl, visual search imageInfo.url).

A server that fetches any URL a caller names is a server-side request forgery
hole, so this goes through the crawler's fetcher: every hop's host is resolved
and refused when any address is private, loopback or link-local (unless the
fetch_private setting allows it), at most 5 redirects, the body capped at the
upload limit, one overall time limit. Any failure is the reference's 400
InvalidRequest / ParameterInvalidValue naming the parameter.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx

from pixsearch import __version__
from pixsearch.api import errors
from pixsearch.api.errors import BingError
from pixsearch.config import Settings
from pixsearch.crawl.fetcher import Fetcher, FetchFailed, FetchSettings

TIMEOUT = 10.0  # seconds for the whole fetch, redirects included
MAX_URL = 2048


async def fetch_image(url: str, settings: Settings, *, parameter: str = "imgUrl") -> bytes:
    """The bytes at `url`, or a 400 naming `parameter` with the reason."""
    url = url.strip()
    if len(url) > MAX_URL or urlsplit(url).scheme.lower() not in ("http", "https"):
        raise errors.invalid(parameter, url[:200], "Expected an http or https URL.")
    fetch_settings = FetchSettings(
        user_agent=f"pixsearch/{__version__} (image insights)",
        timeout=TIMEOUT,
        max_bytes=settings.max_upload_bytes,
        retries=0,
        allow_private=settings.fetch_private,
    )
    async with httpx.AsyncClient(
        follow_redirects=False,  # the fetcher follows them itself, checking every hop
        timeout=TIMEOUT,
        headers={"User-Agent": fetch_settings.user_agent, "Accept": "image/*"},
    ) as client:
        fetcher = Fetcher(client, fetch_settings)
        try:
            response = await asyncio.wait_for(fetcher.get(url, _http_only), timeout=TIMEOUT)
        except FetchFailed as exc:
            raise _refused(parameter, url, _explain(exc)) from None
        except TimeoutError:
            raise _refused(parameter, url, f"The image took over {TIMEOUT:.0f} s.") from None
    if response.status != 200:
        raise _refused(parameter, url, f"The image URL answered HTTP {response.status}.")
    if not response.body:
        raise _refused(parameter, url, "The image URL returned no content.")
    return response.body


async def _http_only(url: str) -> str | None:
    return None if urlsplit(url).scheme.lower() in ("http", "https") else "not-http"


def _explain(exc: FetchFailed) -> str:
    reasons = {
        "unsafe-destination": "The image URL points to a private or local address.",
        "dns-failure": "The image URL's host could not be resolved.",
        "too-large": "The image is larger than the upload limit.",
        "timeout": "The image could not be fetched in time.",
        "too-many-redirects": "The image URL redirects more than 5 times.",
        "not-http": "The image URL redirects to a non-http URL.",
    }
    return reasons.get(exc.reason, f"The image could not be fetched ({exc.reason}).")


def _refused(parameter: str, url: str, why: str) -> BingError:
    return errors.invalid(parameter, url[:200], why)
