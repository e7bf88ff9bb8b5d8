"""Markets of the reference and how a request picks one."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pixsearch.api import errors

MARKETS: tuple[str, ...] = (
    "es-AR",
    "en-AU",
    "de-AT",
    "nl-BE",
    "fr-BE",
    "pt-BR",
    "en-CA",
    "fr-CA",
    "es-CL",
    "da-DK",
    "fi-FI",
    "fr-FR",
    "de-DE",
    "zh-HK",
    "en-IN",
    "en-ID",
    "it-IT",
    "ja-JP",
    "ko-KR",
    "en-MY",
    "es-MX",
    "nl-NL",
    "en-NZ",
    "no-NO",
    "zh-CN",
    "pl-PL",
    "pt-PT",
    "en-PH",
    "ru-RU",
    "ar-SA",
    "en-ZA",
    "es-ES",
    "sv-SE",
    "fr-CH",
    "de-CH",
    "zh-TW",
    "tr-TR",
    "en-GB",
    "en-US",
    "es-US",
)
DEFAULT_MARKET = "en-US"
_BY_LOWER = {m.lower(): m for m in MARKETS}
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


def resolve_market(mkt: str | None, cc: str | None, accept_language: str | None) -> str:
    """The market to use: an exact mkt, else cc with the first fitting language, else a best fit."""
    if mkt:
        exact = _BY_LOWER.get(mkt.strip().lower())
        if exact:
            return exact
        language = mkt.strip().lower().split("-")[0]
        return _first_with_language(language) or DEFAULT_MARKET
    languages = _languages(accept_language)
    if cc:
        country = cc.strip().upper()
        for language in languages:
            candidate = _BY_LOWER.get(f"{language}-{country.lower()}")
            if candidate:
                return candidate
        for market in MARKETS:
            if market.endswith("-" + country):
                return market
    for language in languages:
        found = _first_with_language(language)
        if found:
            return found
    return DEFAULT_MARKET


def _languages(header: str | None) -> list[str]:
    if not header:
        return []
    ranked = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*":
            ranked.append((-quality, position, tag.split("-")[0].lower()))
    return [language for _, _, language in sorted(ranked)]


def _first_with_language(language: str) -> str | None:
    preferred = {
        "en": "en-US",
        "es": "es-ES",
        "fr": "fr-FR",
        "de": "de-DE",
        "pt": "pt-BR",
        "zh": "zh-CN",
        "nl": "nl-NL",
    }
    if language in preferred:
        return preferred[language]
    return next((m for m in MARKETS if m.lower().startswith(language + "-")), None)


def market_for(query: Mapping[str, str], accept_language: str | None) -> str:
    """The request's market, enforcing the reference's pairing rules with documented 400s.

    `query` is read case-insensitively. Only pairs that the reference forbids are
    errors: an Accept-Language without cc is what every browser sends, so it
    is accepted and used for a best fit.
    """
    lowered = {name.lower(): value for name, value in query.items()}
    mkt, cc, set_lang = lowered.get("mkt"), lowered.get("cc"), lowered.get("setlang")
    has_languages = bool((accept_language or "").strip())
    if cc and mkt:
        raise errors.invalid("cc", cc, "cc and mkt are mutually exclusive.")
    if cc and not has_languages:
        raise errors.invalid("cc", cc, "cc requires the Accept-Language header.")
    if set_lang and has_languages:
        raise errors.invalid(
            "setLang", set_lang, "setLang and the Accept-Language header are mutually exclusive."
        )
    if cc and not _COUNTRY.match(cc.strip()):
        raise errors.invalid("cc", cc, "Expected a two-letter country code.")
    return resolve_market(mkt, cc, accept_language)
