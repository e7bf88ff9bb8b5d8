"""How the index reads words: folding, glue words, content words and adult words.

These rules are applied when an image is indexed (its adult-text mark, the
vocabulary's terms) and again on queries (adult intent, spelling, suggestions),
and both sides must agree, so they are defined once, here; ``index/store.py``
passes them on to the query side.

Why this adult word list: it holds only words whose usual sense in captions,
titles and queries is sexual content. Ambiguous words stay out even though adult
pages use them, because Strict would otherwise hide ordinary pictures: "sex" (sex
education, sex chromosomes), "breast" (chicken breast, breast cancer), "tits" (blue
tits), "pussy" (willow, cats), "cock" (roosters), "stripper" (paint), "nipple"
(baby bottles), "sexy" and "hardcore" (cars, dresses, punk), "bikini", "lingerie"
and "underwear" (shopping; the detector still sees exposed parts). "nude" and
"naked" are in: Strict exists for people who accept losing "nude lipstick" to also
lose nude photos. Prefixes catch compounds that URLs and hashtags glue together
("pornhub", "xxxvideos", "nsfwart").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_TOKEN = re.compile(r"[^\W_]+")

# Words that say nothing about a picture; kept short on purpose (English UI default).
STOPWORDS = frozenset(
    (  # noqa: SIM905 - a word list reads better as one string
        "a an and are as at be by for from has have in is it its of on or over that the this "
        "to was were with without jpg jpeg png gif webp img image images photo picture pic dsc"
    ).split()
)

ADULT_WORDS: frozenset[str] = frozenset(
    (  # noqa: SIM905 - a word list reads better as one string
        "porn porno pornography pornographic xxx nsfw hentai nude nudes naked nudity "
        "topless bottomless erotic erotica fetish bdsm milf milfs blowjob handjob cumshot "
        "camgirl camgirls onlyfans gangbang threesome orgy striptease upskirt genitals "
        "genitalia vagina penis dildo sexcam"
    ).split()
)
ADULT_PREFIXES: tuple[str, ...] = ("porn", "xxx", "nsfw", "hentai")


def tokens(text: str) -> list[str]:
    """Words as the index folds them: lower case, accents off ('Nüde_Photo-2': nude, photo, 2).

    The runs of _TOKEN; for ASCII text the same words come three times faster from
    str.translate and split (_ASCII_SPLIT), and most text is ASCII.
    """
    folded = text.lower()
    if folded.isascii():
        return folded.translate(_ASCII_SPLIT).split()
    folded = unicodedata.normalize("NFKD", folded)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return _TOKEN.findall(folded)


def is_content_word(term: str) -> bool:
    """A word that can name what a picture shows: alphabetic, longer than one letter, not glue."""
    return len(term) > 1 and term.isalpha() and term not in STOPWORDS


def is_adult_word(word: str) -> bool:
    return word in ADULT_WORDS or word.startswith(ADULT_PREFIXES)


# ASCII text folds to [a-z0-9] runs: every other ASCII character (the underscore
# included, as _TOKEN says) becomes a space, and str.split() gives the tokens.
_ASCII_SPLIT = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})


def is_adult_text(texts: Iterable[str]) -> bool:
    """Whether any of the texts contains an adult word (a token of ``tokens``).

    Runs for every image written, so it checks all the texts at once: an adult
    prefix must appear as a substring before any token is looked at, and words
    are a set lookup over the split ASCII text (``tokens`` for other text). The
    newline joining the texts is no token character, so no token spans two texts.
    """
    joined = "\n".join(text for text in texts if text).lower()
    if joined.isascii():
        words = joined.translate(_ASCII_SPLIT).split()
    else:
        words = tokens(joined)
        joined = " ".join(words)
    if not ADULT_WORDS.isdisjoint(words):
        return True
    return any(p in joined for p in ADULT_PREFIXES) and any(
        w.startswith(ADULT_PREFIXES) for w in words
    )
