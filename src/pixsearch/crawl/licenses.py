"""Creative Commons licence URLs → the licence keys of index/attributes.py."""

from __future__ import annotations

import re

_CC = re.compile(
    r"creativecommons\.org/(?:licenses|licences)/(by(?:-nc)?(?:-sa|-nd)?)(?:/|$)", re.IGNORECASE
)
_CC0 = re.compile(r"creativecommons\.org/publicdomain/zero/", re.IGNORECASE)
_PDM = re.compile(r"creativecommons\.org/publicdomain/mark/", re.IGNORECASE)


def license_key(url: str) -> str | None:
    """The licence key for a licence URL, or None when it is not a known CC licence."""
    if _CC0.search(url):
        return "cc0"
    if _PDM.search(url):
        return "pdm"
    match = _CC.search(url)
    if match is None:
        return None
    key = "cc-" + match.group(1).lower()
    # by-nd-nc is the old spelling of by-nc-nd; the regex already only allows nc before sa/nd.
    return key
