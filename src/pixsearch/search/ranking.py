"""Ranking beyond BM25: static priors, fusion with semantic matches, host diversity.

Priors are static per image, computed when it is indexed (index/priors.py); the
store hands each hit's score multiplier up in ``StoreHit.prior``, so ranking
needs nothing of how they are computed or stored. A multiplier below the
neutral 2.0 sinks an image.

Priors, fusion and diversity run in the service over a fixed window of the raw
BM25 list (its first WINDOW hits, whatever page is asked for): the window's
order is a pure function of the index and the query, so offsets into the
reordered list stay stable across pages. Beyond the window the raw order stands.
"""

from __future__ import annotations

import heapq
import statistics
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
) -> Reranked:
    """The raw list with its first WINDOW hits weighted, fused, freshened and diversified."""
    head, tail = hits[:WINDOW], hits[WINDOW:]
    if priors:
        # Stable sort: equal weighted scores keep Tantivy's order.
        head = sorted(head, key=lambda h: -h.score * h.prior)
    fused, notes, added = fuse(head, semantic, priors=priors)
    if fresh_since is not None and now > fresh_since:
        fused = _freshen(fused, fresh_since, now, notes)
    for rank, (hit, score) in enumerate(fused, start=1):
        notes[hit.doc_id].fused_rank = rank
        notes[hit.doc_id].fused_score = score
    ordered = diversify(fused, notes) if diversity else [hit for hit, _ in fused]
    placed = {h.doc_id for h in ordered}
    for rank, hit in enumerate(ordered, start=1):
        notes[hit.doc_id].final_rank = rank
    rest = [h for h in tail if h.doc_id not in placed]
    return Reranked(hits=ordered + rest, explanations=notes, added=added)


def fuse(
    head: list[StoreHit], semantic: list[SemanticHit], *, priors: bool = True
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
    notes = {
        h.doc_id: Explanation(bm25_score=h.score, bm25_rank=i, prior=h.prior)
        for i, h in enumerate(head, 1)
    }
    if not semantic:
        return [(h, h.score * (h.prior if priors else 1.0)) for h in head], notes, 0
    scores = {h.doc_id: 1.0 / (RRF_K + i) for i, h in enumerate(head, 1)}
    by_id = {h.doc_id: h for h in head}
    added = 0
    for rank, s in enumerate(semantic, start=1):
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
        notes[hit.doc_id].fresh_bonus = bonus
        out.append((hit, score * bonus))
    out.sort(key=lambda pair: -pair[1])  # stable: equal scores keep their order
    return out


def diversify(fused: list[tuple[StoreHit, float]], notes: dict[int, Explanation]) -> list[StoreHit]:
    """Greedy re-ranking where each earlier pick from a site decays that site's next hit.

    A lazy heap holds each site's best remaining hit; since decays only lower
    scores, popping the best decayed candidate is exact, in O(n log sites).
    Hits of unknown site (local files: site 0) are never penalised.
    """
    queues: dict[int, list[tuple[int, StoreHit, float]]] = {}
    heap: list[tuple[float, int, int]] = []
    for position, (hit, score) in enumerate(fused):
        if hit.site == 0:
            heapq.heappush(heap, (-score, position, -1 - position))
            queues[-1 - position] = [(position, hit, score)]
        else:
            queues.setdefault(hit.site, []).append((position, hit, score))
    if len(queues) == len(fused):  # every hit from its own site: nothing to move
        return [hit for hit, _ in fused]
    picked: dict[int, int] = {}
    for key, queue in queues.items():
        queue.reverse()  # pop() from the end gives the site's best remaining hit
        if key >= 0:
            position, _, score = queue[-1]
            heapq.heappush(heap, (-score, position, key))
    out: list[StoreHit] = []
    while heap:
        _, _, key = heapq.heappop(heap)
        position, hit, score = queues[key].pop()
        out.append(hit)
        if key < 0:
            continue
        picked[key] = picked.get(key, 0) + 1
        if queues[key]:
            decay = SITE_DECAY ** picked[key]
            next_position, next_hit, next_score = queues[key][-1]
            notes[next_hit.doc_id].site_penalty = decay
            heapq.heappush(heap, (-next_score * decay, next_position, key))
    return out
