"""The check a custom instance's preset query parameters must pass: the API's own.

An instance may preset search parameters (mkt, safeSearch, filters). Whether a
value is valid is this API's knowledge, its parameter parser and its market
list, so the admin API and `pixsearch custom` hand this function to
`tenancy.instances.parse_instance` rather than tenancy importing the API.
"""

from __future__ import annotations

from collections.abc import Mapping

from pixsearch.api.errors import BingError
from pixsearch.api.markets import MARKETS
from pixsearch.api.params import parse_search
from pixsearch.tenancy.instances import InstanceError

_MARKETS = {m.lower() for m in MARKETS}


def check_defaults(defaults: Mapping[str, str]) -> None:
    """InstanceError naming the first preset a search would refuse, if any."""
    try:
        parse_search({"q": "x", **defaults})
    except BingError as exc:
        raise InstanceError(f"defaults: {exc.parameter}: {exc.message}") from None
    if "mkt" in defaults and defaults["mkt"].lower() not in _MARKETS:
        raise InstanceError(f"defaults: mkt {defaults['mkt']!r} is not a listed market")
