"""Ranking beyond BM25: static priors, fusion with semantic matches, host diversity.

Priors are static per image, computed when it is indexed (index/priors.py); the
store hands each hit's score multiplier up in ``StoreHit.prior``, so ranking
needs nothing of how they are computed or stored. A multiplier below the
neutral 2.0 sinks an image.

Priors, fusion and diversity run in the service over a fixed window of the raw
BM25 list (its first WINDOW hits, whatever page is asked for): the window's
order is a pure function of the index and the query, so offsets into the
reordered list stay stable across pages. Beyond the window the raw order stands.

Site chrome (a picture on most pages of its site: logo, header icons, share
buttons; index/chrome.py finds them) goes below every other hit of the window:
its text is every page's text, so it matches most queries about the site, but
it is never what they are after. It is demoted, not dropped: a query nothing
else matches still finds it, and its details stay reachable.
"""

from __future__ import annotations

import heapq
import statistics
from collections import Counter
from dataclasses import dataclass, field

from pixsearch.index.store import StoreHit

WINDOW = 100  # raw hits reordered by fusion and diversity: about three first pages
RRF_K = 60  # reciprocal-rank-fusion constant of Cormack et al.; damps the top ranks
SITE_DECAY = 0.55  # each earlier hit from the same site multiplies a hit's score by this
FRESH_WEIGHT = 0.02  # at most +2 %: breaks near-ties towards newer images, never more


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


@dataclass(frozen=True, slots=True)
class SemanticHit:
    doc_id: int
    group_id: int
    similarity: float  # cosine similarity of query and image text, -1..1
    site: int = 0
    published: int = 0
    prior: float = 1.0


@dataclass(slots=True)
class Explanation:
    """Why a hit sits where it does; filled only when explain is asked for."""

    bm25_score: float | None = None  # Tantivy's score, None if only the semantic side found it
    bm25_rank: int | None = None  # 1-based position in the BM25 list, priors applied
    prior: float = 1.0  # the static multiplier applied (2.0: an ordinary image)
    semantic_similarity: float | None = None
    semantic_rank: int | None = None
    fused_score: float = 0.0
    fused_rank: int = 0  # 1-based, before diversity
    final_rank: int = 0  # 1-based, after diversity
    site_penalty: float = 1.0  # product of the diversity decays applied
    fresh_bonus: float = 1.0
    chrome: bool = False  # site chrome, placed below the window's other hits


@dataclass(slots=True)
class Reranked:
    hits: list[StoreHit]
    explanations: dict[int, Explanation] = field(default_factory=dict)  # doc_id → why
    added: int = 0  # documents that only the semantic side found


def rerank(
    hits: list[StoreHit],
    semantic: list[SemanticHit],
    *,
    fresh_since: int | None = None,
    now: int = 0,
    diversity: bool = True,
    priors: bool = True,
    explain: bool = True,
    chrome: frozenset[int] = frozenset(),
    several_words: bool = False,
) -> Reranked:
    """The raw list with its first WINDOW hits weighted, fused, freshened and diversified.

    Hits whose near-duplicate group is in `chrome` (site chrome) end the window.
    When the query requires `several_words` (or a phrase), the text hits of the window,
    which hold them all, come before those only semantic matching found (keywords_first).
    `explain` False leaves the explanations empty (they cost about as much as the rest).
    """
    head, tail = hits[:WINDOW], hits[WINDOW:]
    notes: dict[int, Explanation] = {}
    added = 0
    if not (semantic or explain or (fresh_since is not None and now > fresh_since)):
        ordered = _weighted(head, priors=priors, diversity=diversity)
    else:
        if priors:
            # Stable sort: equal weighted scores keep Tantivy's order.
            head = sorted(head, key=lambda h: -h.score * h.prior)
        fused, notes, added = fuse(head, semantic, priors=priors, explain=explain)
        if fresh_since is not None and now > fresh_since:
            fused = _freshen(fused, fresh_since, now, notes)
        if explain:
            for rank, (hit, score) in enumerate(fused, start=1):
                notes[hit.doc_id].fused_rank = rank
                notes[hit.doc_id].fused_score = score
        ordered = (
            diversify(fused, notes if explain else None) if diversity else [h for h, _ in fused]
        )
    if semantic and several_words:
        ordered = keywords_first(ordered, {h.doc_id for h in head})
    if chrome:
        ordered = chrome_last(ordered, chrome, notes if explain else None)
    if explain:
        for rank, hit in enumerate(ordered, start=1):
            notes[hit.doc_id].final_rank = rank
    if tail:
        placed = {h.doc_id for h in ordered}
        ordered += [h for h in tail if h.doc_id not in placed]
    return Reranked(hits=ordered, explanations=notes, added=added)


def _weighted(head: list[StoreHit], *, priors: bool, diversity: bool) -> list[StoreHit]:
    """What fuse and diversify make of a window with no semantic candidates, freshness
    or explanations: the prior-weighted BM25 order, diversified. The same order as that
    path (the same products, stable sorts), over lists: this runs on every search.
    """
    scores = [h.score * h.prior for h in head] if priors else [h.score * 1.0 for h in head]
    if priors:  # descending and stable: equal weighted scores keep Tantivy's order
        order = sorted(range(len(head)), key=scores.__getitem__, reverse=True)
        head = [head[i] for i in order]
        scores = [scores[i] for i in order]
    if not diversity:
        return head
    positions, _ = _diverse_order([h.site for h in head], scores)
    return head if positions is None else [head[p] for p in positions]


def keywords_first(hits: list[StoreHit], matched: set[int]) -> list[StoreHit]:
    """`hits` with those the text query `matched` before those only meaning found,
    each side in its order.

    Asked for queries of several words: a text hit then holds every (informative)
    word typed, a semantic-only one not all of them. Rank fusion alone weighs the two
    lists alike, so a lone exact match (one drawing holding both words of "tape
    mirror") could sink under ten loosely related pictures, the more so under a
    small-image prior. A single word is weaker evidence: it also stands in text beside
    a picture that is about something else ("birds" in a neighbouring card), where
    meaning ranks better, so one-word queries keep the fused order.
    """
    meaning = [h for h in hits if h.doc_id not in matched]
    if not meaning or len(meaning) == len(hits):
        return hits
    return [h for h in hits if h.doc_id in matched] + meaning


def chrome_last(
    hits: list[StoreHit], chrome: frozenset[int], notes: dict[int, Explanation] | None = None
) -> list[StoreHit]:
    """`hits` with those of the `chrome` groups moved after all others, each side in order."""
    content = [h for h in hits if h.group_id not in chrome]
    if len(content) == len(hits):
        return hits
    boilerplate = [h for h in hits if h.group_id in chrome]
    if notes is not None:
        for hit in boilerplate:
            notes[hit.doc_id].chrome = True
    return content + boilerplate


def fuse(
    head: list[StoreHit], semantic: list[SemanticHit], *, priors: bool = True, explain: bool = True
) -> tuple[list[tuple[StoreHit, float]], dict[int, Explanation], int]:
    """Reciprocal-rank fusion of the BM25 window and the semantic candidates.

    Ranks, not scores: BM25 scores are unbounded and query dependent, cosine
    similarities are not, and rank fusion needs no calibration between them.
    Without semantic candidates the (prior-weighted) BM25 scores are kept. With
    them, only the penalty part of a prior applies to the fused score: adjacent
    RRF scores differ by about 1 %, so a size bonus would outweigh relevance.
    The penalty is relative to the median candidate: where everything that
    matched is small (a clip-art or icon collection), small is no signal.
    """
    notes = (
        {
            h.doc_id: Explanation(bm25_score=h.score, bm25_rank=i, prior=h.prior)
            for i, h in enumerate(head, 1)
        }
        if explain
        else {}
    )
    if not semantic:
        return [(h, h.score * (h.prior if priors else 1.0)) for h in head], notes, 0
    scores = {h.doc_id: 1.0 / (RRF_K + i) for i, h in enumerate(head, 1)}
    by_id = {h.doc_id: h for h in head}
    added = 0
    for rank, s in enumerate(semantic, start=1):
        if explain:
            note = notes.setdefault(s.doc_id, Explanation(prior=s.prior))
            note.semantic_similarity, note.semantic_rank = s.similarity, rank
        scores[s.doc_id] = scores.get(s.doc_id, 0.0) + 1.0 / (RRF_K + rank)
        if s.doc_id not in by_id:
            by_id[s.doc_id] = StoreHit(
                doc_id=s.doc_id,
                group_id=s.group_id,
                score=0.0,
                site=s.site,
                published=s.published,
                prior=s.prior,
            )
            added += 1
    if priors:
        reference = statistics.median(h.prior for h in by_id.values())
        scores = {d: s * min(by_id[d].prior / reference, 1.0) for d, s in scores.items()}
    order = sorted(scores, key=lambda d: (-scores[d], d))
    return [(by_id[d], scores[d]) for d in order], notes, added


def _freshen(
    fused: list[tuple[StoreHit, float]], since: int, now: int, notes: dict[int, Explanation]
) -> list[tuple[StoreHit, float]]:
    """A tiny bonus by age within the freshness window: newer wins ties, not relevance."""
    span = float(now - since)
    out = []
    for hit, score in fused:
        bonus = 1.0 + FRESH_WEIGHT * _clamp((hit.published - since) / span, 0.0, 1.0)
        if notes:
            notes[hit.doc_id].fresh_bonus = bonus
        out.append((hit, score * bonus))
    out.sort(key=lambda pair: -pair[1])  # stable: equal scores keep their order
    return out


def diversify(
    fused: list[tuple[StoreHit, float]], notes: dict[int, Explanation] | None = None
) -> list[StoreHit]:
    """Greedy re-ranking where each earlier pick from a site decays that site's next hit.

    A site's hits are picked in their fused order, so its j-th hit always competes
    with its score times SITE_DECAY**j: the greedy order is a merge of the sites'
    lists by those keys (ties: the earlier hit). When every site's keys fall along
    its list, as they do for the best-first scores of a search, the merge is one
    sort; otherwise (negative scores of demoted sites) it is merged lazily.
    Hits of unknown site (local files: site 0) are never penalised.
    """
    positions, decays = _diverse_order([hit.site for hit, _ in fused], [s for _, s in fused])
    if positions is None:
        return [hit for hit, _ in fused]
    if notes is not None:
        for position, decay in decays.items():
            notes[fused[position][0].doc_id].site_penalty = decay
    return [fused[position][0] for position in positions]


def _diverse_order(
    sites: list[int], scores: list[float]
) -> tuple[list[int] | None, dict[int, float]]:
    """diversify's order as positions of the fused list (None: that list's own order),
    and the decay applied at each decayed position."""
    if len(set(sites)) == len(sites):
        return None, {}
    repeated = {site for site, n in Counter(sites).items() if n > 1 and site != 0}
    if not repeated:
        return None, {}
    keys = [-score for score in scores]  # negated: ascending order is best first
    picks: dict[int, int] = {}
    last: dict[int, int] = {}  # each repeated site's previous position
    decays: dict[int, float] = {}
    merged = True
    for position, site in enumerate(sites):
        if site not in repeated:
            continue
        j = picks[site] = picks.get(site, -1) + 1
        if j:
            decay = decays[position] = SITE_DECAY**j
            keys[position] *= decay
            merged = merged and keys[position] >= keys[last[site]]
        last[site] = position
    if merged:  # stable: equal keys keep their positions' order
        return sorted(range(len(keys)), key=keys.__getitem__), decays
    queues: dict[int, list[tuple[float, int]]] = {}
    for position, site in enumerate(sites):
        queues.setdefault(site or -1 - position, []).append((keys[position], position))
    return [position for _, position in heapq.merge(*queues.values())], decays
