"""Story clusters: which canonical articles report the same news event.

Archive-wide and incremental. Each new canonical article, taken in order of publication time
(then doc_id: an order fixed by the articles themselves, never by the order of pages in a
run), joins the story it is most similar to among stories with an article published within
``WINDOW_DAYS`` of it, when that similarity reaches ``JOIN_THRESHOLD``; otherwise it starts a
story of its own, whose id is derived from its doc_id. Stories already in the archive keep
their ids and members: a run only adds. Re-running over the same pages gives the same ids.

A story's similarity to an article is the mean of the article's ``LINK_TOP`` highest cosine
similarities to the story's members in the window (a single close member is enough for a
two-article story; a large story must be matched by more than one stray member, which stops a
chain of loosely related articles from growing one story out of a week's news).

Similarities are computed as sparse matrix products of the article vectors
(:mod:`thresher.stories.features`), one block of ``BLOCK_DAYS`` days of new articles at a
time against the articles within the window of that block, so memory follows the size of the
window, not of the archive.

In: Arrow tables (or columns) of doc_id, time, story vector; out: a story id per new doc_id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from thresher.stories.features import StoryVector, facts_conflict

# Chosen on the labelled real-article set (tests/fixtures/stories) by leave-one-group-out
# cross-validation; see docs/stories.md for the measured precision and recall around them.
JOIN_THRESHOLD = 0.19
LINK_TOP = 2
# An article joins only stories with a member published at most this many days from it: the
# coverage of one event spreads over days (follow-ups, weeklies), not months, and a yearly
# event ("Budget 2025", "Budget 2026") must not join last year's story.
WINDOW_DAYS = 3.0
# One outlet rarely covers one event twice in a week, but publishes many articles in one
# template (daily briefings, weekly round-ups, press releases) that share boilerplate, names
# and layout: a similarity to an article of the same site counts for this much.
SAME_SITE_FACTOR = 0.4
# Two articles whose leads state different numbers (features.facts_conflict) report different
# facts: their similarity counts for this much.
CONFLICT_FACTOR = 0.3
# New articles are compared a block of this many days at a time.
BLOCK_DAYS = 7.0
# Pairs below this similarity are not kept at all (they never decide anything).
FLOOR = 0.05
DAY = 86400.0


def story_id_for(doc_id: str) -> str:
    """The id of the story an article starts: derived from its doc_id, so stable across runs."""
    return "st" + hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:18]


@dataclass(frozen=True)
class Member:
    """An article already in a story (archived, or assigned earlier in this run)."""

    doc_id: str
    time: float  # seconds since the epoch: publication time, else fetch time
    story_id: str
    vector: StoryVector
    site: str | None = None


@dataclass(frozen=True)
class Candidate:
    """A new canonical article to place in a story."""

    doc_id: str
    time: float
    vector: StoryVector
    site: str | None = None


def _matrix(vectors: Sequence[StoryVector], vocabulary: np.ndarray) -> sp.csr_matrix:
    """Rows of story vectors as one sparse matrix whose columns are ``vocabulary`` (sorted
    feature hashes): the block's own vocabulary, not the 2^32 hash space."""
    lengths = np.fromiter((len(v) for v in vectors), dtype=np.int64, count=len(vectors))
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    if indptr[-1]:
        terms = np.concatenate([v.terms for v in vectors])
        indices = np.searchsorted(vocabulary, terms)
        data = np.concatenate([v.weights for v in vectors]).astype(np.float32)
    else:
        indices, data = np.empty(0, np.int64), np.empty(0, np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(vectors), max(1, len(vocabulary))))


def _vocabulary(*groups: Sequence[StoryVector]) -> np.ndarray:
    parts = [v.terms for group in groups for v in group]
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, np.uint32)


def _row(matrix: sp.csr_matrix, i: int) -> list[tuple[int, float]]:
    """Row ``i`` of a CSR matrix as (column, value) pairs at or above ``FLOOR``, read from its
    arrays directly (``getrow`` builds a matrix per call: most of the time at 100k articles)."""
    lo, hi = matrix.indptr[i], matrix.indptr[i + 1]
    values = matrix.data[lo:hi]
    keep = values >= FLOOR
    return list(zip(matrix.indices[lo:hi][keep].tolist(), values[keep].astype(np.float64).tolist()))


def _story_score(sims: list[float], members: int, top: int = LINK_TOP) -> float:
    """Mean of the ``top`` best similarities to a story's members; members the article does
    not resemble count as 0, and a story smaller than ``top`` is judged on what it has."""
    best = sorted(sims, reverse=True)[:top]
    return sum(best) / max(1, min(top, members))


def _discount(sim: float, a: Member | Candidate, b: Candidate, same_site: float, conflict: float) -> float:
    if a.site and a.site == b.site:
        sim *= same_site
    if conflict != 1.0 and facts_conflict(a.vector, b.vector):
        sim *= conflict
    return sim


def assign(candidates: Sequence[Candidate], archived: Sequence[Member], threshold: float = JOIN_THRESHOLD,
           window_days: float = WINDOW_DAYS, top: int = LINK_TOP, same_site: float = SAME_SITE_FACTOR, conflict: float = CONFLICT_FACTOR) -> dict[str, str]:
    """A story id for every candidate (new canonical article).

    ``archived`` are the members of existing stories that may matter: at least those published
    within ``window_days`` of some candidate (the caller reads only those from the index).
    Candidates are placed in (time, doc_id) order; each sees the archived articles and the
    candidates placed before it.
    """
    order = sorted(candidates, key=lambda c: (c.time, c.doc_id))
    window = window_days * DAY
    out: dict[str, str] = {}
    if not order:
        return out
    arch = sorted(archived, key=lambda m: (m.time, m.doc_id))
    arch_times = np.array([m.time for m in arch], dtype=np.float64)
    block = BLOCK_DAYS * DAY
    start = 0
    placed: list[Member] = []  # candidates already given a story, in order
    while start < len(order):
        t0 = order[start].time
        stop = start
        while stop < len(order) and order[stop].time < t0 + block:
            stop += 1
        batch = order[start:stop]
        lo, hi = t0 - window, batch[-1].time + window
        a_lo, a_hi = np.searchsorted(arch_times, lo, "left"), np.searchsorted(arch_times, hi, "right")
        near_arch = arch[a_lo:a_hi]
        near_placed = [m for m in placed if lo <= m.time <= hi]
        pool = near_arch + near_placed
        batch_vectors, pool_vectors = [c.vector for c in batch], [m.vector for m in pool]
        vocabulary = _vocabulary(batch_vectors, pool_vectors)
        batch_m = _matrix(batch_vectors, vocabulary)
        # Similarities to the pool (already decided) and within the batch (decided in order).
        to_pool = (batch_m @ _matrix(pool_vectors, vocabulary).T).tocsr() if pool else None
        within = (batch_m @ batch_m.T).tocsr()
        story_of_batch: list[str] = []
        size: dict[str, int] = {}
        for m in pool:
            size[m.story_id] = size.get(m.story_id, 0) + 1
        for i, cand in enumerate(batch):
            per_story: dict[str, list[float]] = {}
            if to_pool is not None:
                for j, s in _row(to_pool, i):
                    m = pool[j]
                    if abs(m.time - cand.time) <= window:
                        per_story.setdefault(m.story_id, []).append(_discount(s, m, cand, same_site, conflict))
            for j, s in _row(within, i):
                if j < i and abs(batch[j].time - cand.time) <= window:
                    sim = _discount(s, batch[j], cand, same_site, conflict)
                    per_story.setdefault(story_of_batch[j], []).append(sim)
            best_id, best = None, -1.0
            for sid, sims in per_story.items():
                score = _story_score(sims, size.get(sid, len(sims)), top)
                if score > best or (score == best and best_id is not None and sid < best_id):
                    best_id, best = sid, score
            sid = best_id if best_id is not None and best >= threshold else story_id_for(cand.doc_id)
            story_of_batch.append(sid)
            size[sid] = size.get(sid, 0) + 1
            out[cand.doc_id] = sid
        placed.extend(Member(c.doc_id, c.time, s, c.vector, c.site) for c, s in zip(batch, story_of_batch))
        # Placed candidates older than any later batch's window are no longer needed.
        if stop < len(order):
            horizon = order[stop].time - window
            placed = [m for m in placed if m.time >= horizon]
        start = stop
    return out
