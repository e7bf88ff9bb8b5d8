"""Fetching a picture named by URL (details imgUrl, visual search imageInfo.url).

A server that fetches any URL a caller names is a server-side request forgery
hole, so this goes through the crawler's fetcher: every hop's URL normalised
(numeric hosts in one form, user info refused), its host resolved and refused
when any address is private, loopback or link-local (unless the fetch_private
setting allows it), the connection made to the address checked, at most 5
redirects, the body capped at the upload limit, one overall time limit. Any
failure is the reference's 400 InvalidRequest / ParameterInvalidValue naming the
parameter.
"""

from __future__ import annotations

import asyncio

from pixsearch import __version__
from pixsearch.api import errors
from pixsearch.api.errors import BingError
from pixsearch.config import Settings
from pixsearch.crawl.fetcher import Fetcher, FetchFailed, FetchSettings
from pixsearch.crawl.transport import checked_client
from pixsearch.crawl.urls import normalize

TIMEOUT = 10.0  # seconds for the whole fetch, redirects included
MAX_URL = 2048


async def fetch_image(url: str, settings: Settings, *, parameter: str = "imgUrl") -> bytes:
    """The bytes at `url`, or a 400 naming `parameter` with the reason."""
    url = url.strip()
    canonical = normalize(url) if len(url) <= MAX_URL else None
    if canonical is None:
        raise errors.invalid(
            parameter,
            url[:200],
            "Expected an http or https URL with a host name or IP address"
            " and no user name or password.",
        )
    fetch_settings = FetchSettings(
        user_agent=f"pixsearch/{__version__} (image insights)",
        timeout=TIMEOUT,
        max_bytes=settings.max_upload_bytes,
        retries=0,
        allow_private=settings.fetch_private,
    )
    async with checked_client(
        allow_private=fetch_settings.allow_private,
        timeout=TIMEOUT,
        headers={"User-Agent": fetch_settings.user_agent, "Accept": "image/*"},
    ) as client:
        fetcher = Fetcher(client, fetch_settings)
        try:
            response = await asyncio.wait_for(fetcher.get(canonical, _every_hop), timeout=TIMEOUT)
        except FetchFailed as exc:
            raise _refused(parameter, url, _explain(exc)) from None
        except TimeoutError:
            raise _refused(parameter, url, f"The image took over {TIMEOUT:.0f} s.") from None
    if response.status != 200:
        raise _refused(parameter, url, f"The image URL answered HTTP {response.status}.")
    if not response.body:
        raise _refused(parameter, url, "The image URL returned no content.")
    return response.body


async def _every_hop(url: str) -> str | None:
    """No rule beyond the fetcher's own: every hop is an http(s) URL, normalised and checked."""
    return None


def _explain(exc: FetchFailed) -> str:
    reasons = {
        "unsafe-destination": "The image URL points to a private or local address.",
        "dns-failure": "The image URL's host could not be resolved.",
        "too-large": "The image is larger than the upload limit.",
        "timeout": "The image could not be fetched in time.",
        "too-many-redirects": "The image URL redirects more than 5 times.",
        "bad-redirect": "The image URL redirects to something that is not an http(s) URL.",
        "network": "The image URL could not be reached.",
    }
    return reasons.get(exc.reason, f"The image could not be fetched ({exc.reason}).")


def _refused(parameter: str, url: str, why: str) -> BingError:
    return errors.invalid(parameter, url[:200], why)
