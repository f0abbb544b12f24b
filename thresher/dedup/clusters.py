"""Clusters of copies: exact hashes, LSH candidates and re-fetches of one URL, confirmed by
estimated Jaccard (and, for short texts, by their facts), joined by union-find, each cluster
with one canonical record chosen by a deterministic rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from thresher.dedup.signatures import band_keys, pair_similarity, similarity, word_minhash

# A candidate is a duplicate when its estimated Jaccard reaches this: measured on the labelled
# set in tests/fixtures/dedup (copies, edits, truncations vs shared quotes and template briefs).
NEAR_THRESHOLD = 0.5


class UnionFind:
    """Disjoint sets over 0..n-1 with path halving; small and iterative (no recursion)."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass(frozen=True)
class Decision:
    """A page found to duplicate an earlier or better one."""

    doc_id: str
    duplicate_of: str
    similarity: float
    method: str  # "exact", "near" or "refetch" (the same page fetched again)


def candidate_pairs(bands: np.ndarray) -> np.ndarray:
    """Pairs (i, j) of rows sharing a band key, found by grouping keys with Arrow, band by
    band (memory stays proportional to the number of documents, not documents x bands).

    Within a bucket every member is paired with the bucket's first member only: union-find
    joins the rest, and a bucket of k copies costs k pairs instead of k^2.
    """
    n = bands.shape[0]
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    docs = np.arange(n, dtype=np.int64)
    found = []
    for b in range(bands.shape[1]):
        grouped = pa.table({"key": bands[:, b], "doc": docs}).group_by("key", use_threads=False).aggregate(
            [("doc", "min"), ("doc", "count")]
        )
        counts = grouped.column("doc_count").to_numpy()
        if not (counts > 1).any():
            continue
        # Each document whose bucket holds others is paired with the bucket's smallest member.
        shared = pa.table({"key": grouped.column("key"), "first": grouped.column("doc_min")}).filter(
            pa.array(counts > 1)
        )
        joined = pa.table({"key": bands[:, b], "doc": docs}).join(shared, "key", join_type="inner", use_threads=False)
        first, doc = joined.column("first").to_numpy(), joined.column("doc").to_numpy()
        keep = first != doc
        found.append(np.stack([first[keep], doc[keep]], axis=1))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(found), axis=0)


def pick_canonical(members: Sequence[int], archived: Sequence[bool], fetched: Sequence[float],
                   lengths: Sequence[int], paths: Sequence[str]) -> int:
    """The canonical record of a cluster, deterministically:

    1. a record already in the archive (the earliest archived one): history is not rewritten;
    2. else the earliest fetched (the first publication seen);
    3. then the longest text (the most complete copy);
    4. then the smallest source path (a stable tie-break).
    """
    return min(members, key=lambda i: (not archived[i], fetched[i], -lengths[i], paths[i]))


# Two short texts whose shingles agree are still two stories when they tell different facts
# (terms marked as facts: names and numbers). Either each holds at least FACT_MIN_UNSHARED
# facts the other lacks and they share less than FACT_MIN_SHARE of the smaller side's facts,
# or each holds at least FACT_MIN_NUMBERS numbers the other lacks (a market close, a score, a
# forecast: template briefs differ in their numbers, and a copy, even re-edited with a new
# dateline or a reformatted figure, keeps them). Measured on the labelled set's tuning part
# (tests/fixtures/dedup).
FACT_MIN_UNSHARED = 2
FACT_MIN_SHARE = 0.6
FACT_MIN_NUMBERS = 3


# A URL key that many different texts share in one archive is not one page's (a site whose
# canonical link points at its home page, a live page): it decides nothing about re-fetches.
URL_GROUP_MAX = 50


def facts_differ(a: Sequence[int] | None, b: Sequence[int] | None) -> bool:
    """True when two short texts (their :func:`~thresher.dedup.signatures.terms`) tell different
    facts (see :data:`FACT_MIN_SHARE` and :data:`FACT_MIN_NUMBERS`). False when either is long."""
    if a is None or b is None:
        return False
    fa = {t >> 2 for t in a if t & 1}
    fb = {t >> 2 for t in b if t & 1}
    only_a, only_b = fa - fb, fb - fa
    if len(only_a) < FACT_MIN_UNSHARED or len(only_b) < FACT_MIN_UNSHARED:
        return False
    if len(fa & fb) < FACT_MIN_SHARE * min(len(fa), len(fb)):
        return True
    na = {t >> 2 for t in a if t & 2}
    nb = {t >> 2 for t in b if t & 2}
    return len(na - nb) >= FACT_MIN_NUMBERS and len(nb - na) >= FACT_MIN_NUMBERS


def word_jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """Jaccard similarity of two short texts' word sets (exact, from their terms)."""
    wa, wb = {t >> 2 for t in a}, {t >> 2 for t in b}
    return len(wa & wb) / len(wa | wb) if wa or wb else 1.0


# Texts too short to sign (a caption-length page, a two-line brief) are compared by their word
# sets: a copy must share this share of its words (one word in ten may differ) and its facts.
# Two different short texts on one template share most words, so the bar is high, and texts
# of fewer distinct words than SHORT_MIN_WORDS are matched exactly only.
SHORT_THRESHOLD = 0.8
SHORT_MIN_WORDS = 8
# Word-set MinHash for short texts, in 8 bands of 2 rows: P(candidate) = 1 - (1 - J^2)^8, over
# 0.999 at J = 0.8 and 0.9 at J = 0.5; candidates are confirmed exactly, so recall is what counts.
SHORT_BANDS, SHORT_ROWS = 8, 2


def short_candidates(rows: Sequence[int], terms: Sequence) -> np.ndarray:
    """Pairs (i, j) of short texts (``rows``, each with terms) that share a word-MinHash band."""
    picked, sigs = [], []
    for i in rows:
        words = np.unique(np.array([t >> 2 for t in terms[i]], dtype=np.uint64))
        if len(words) >= SHORT_MIN_WORDS:
            picked.append(i)
            sigs.append(word_minhash(words, SHORT_BANDS * SHORT_ROWS))
    if len(picked) < 2:
        return np.empty((0, 2), dtype=np.int64)
    keys = np.stack(sigs).astype(np.uint64).reshape(len(picked), SHORT_BANDS, SHORT_ROWS)
    bands = (keys * np.array([1, 1_000_003], dtype=np.uint64)).sum(axis=2, dtype=np.uint64)
    pairs = candidate_pairs(bands)
    return np.array(picked, dtype=np.int64)[pairs] if len(pairs) else pairs


def url_groups(urls: Sequence[Sequence[str] | None]) -> list[list[int]]:
    """Rows that share a URL key (the same page fetched again), one list per key; keys shared by
    more than :data:`URL_GROUP_MAX` rows are left out (see there)."""
    by_key: dict[str, list[int]] = {}
    for i, keys in enumerate(urls):
        for key in keys or ():
            by_key.setdefault(key, []).append(i)
    return [rows for rows in by_key.values() if 1 < len(rows) <= URL_GROUP_MAX]


def same_page(urls: Sequence[Sequence[str] | None], i: int, j: int) -> bool:
    """Rows i and j share a URL key."""
    return bool(set(urls[i] or ()) & set(urls[j] or ()))


def pair_sim(i: int, j: int, signatures: np.ndarray, signed: np.ndarray, terms: Sequence) -> float:
    """Estimated Jaccard of two texts: their signatures', or their word sets' when a text is too
    short to sign; 0 when there is nothing to compare."""
    if signed[i] and signed[j]:
        return similarity(signatures[i], signatures[j])
    if terms[i] is not None and terms[j] is not None:
        return word_jaccard(terms[i], terms[j])
    return 0.0


def cluster(doc_ids: Sequence[str], hashes: Sequence[str], signatures: np.ndarray, signed: np.ndarray,
            archived: Sequence[bool], fetched: Sequence[float], lengths: Sequence[int],
            paths: Sequence[str], threshold: float = NEAR_THRESHOLD, terms: Sequence | None = None,
            urls: Sequence | None = None, groups: list[list[int]] | None = None) -> list[Decision]:
    """Decide which documents duplicate another; archived ones take part but are never moved.

    ``signatures`` is ``(n, NUM_PERM)`` uint32 with ``signed[i]`` False where a text was too
    short to sign (its row is ignored); the other inputs are parallel sequences. ``terms``
    (short texts' words, None for long ones) keep template briefs apart; ``urls`` (each row's
    URL keys) make pages fetched again from the same URL compared directly, whatever LSH says,
    and their copies ``refetch`` duplicates. ``groups`` are the rows sharing a URL key, when
    the caller has them (:func:`url_groups` of ``urls`` otherwise).
    """
    n = len(doc_ids)
    terms = terms if terms is not None else [None] * n
    urls = urls if urls is not None else [None] * n
    uf = UnionFind(n)
    first_by_hash: dict[str, int] = {}
    for i, h in enumerate(hashes):
        if h in first_by_hash:
            uf.union(first_by_hash[h], i)
        else:
            first_by_hash[h] = i
    # Exact copies are joined above and have equal signatures, so LSH only needs the first row
    # of each text: same clusters, and a text copied k times no longer yields k pairs per band.
    rows = np.array(sorted(i for i in first_by_hash.values() if signed[i]), dtype=np.int64)
    if len(rows) > 1:
        sigs = signatures[rows] if len(rows) < n else signatures  # no copy when all are signed
        pairs = candidate_pairs(band_keys(sigs))
        if len(pairs):
            sims = pair_similarity(sigs, pairs)
            for a, b in pairs[sims >= threshold]:
                i, j = int(rows[a]), int(rows[b])
                if not facts_differ(terms[i], terms[j]):
                    uf.union(i, j)
    # Short texts have no signature: their word sets are compared, with a stricter bar.
    short = [i for i in first_by_hash.values() if not signed[i] and terms[i] is not None]
    for i, j in short_candidates(sorted(short), terms):
        i, j = int(i), int(j)
        if word_jaccard(terms[i], terms[j]) >= SHORT_THRESHOLD and not facts_differ(terms[i], terms[j]):
            uf.union(i, j)
    # The same page fetched again is compared directly: a missed LSH band must not make a
    # re-fetch a new version, and short texts (no signature) are compared by their words.
    for group in url_groups(urls) if groups is None else groups:
        for x, i in enumerate(group):
            for j in group[:x]:
                if uf.find(i) != uf.find(j) and pair_sim(i, j, signatures, signed, terms) >= threshold \
                        and not facts_differ(terms[i], terms[j]):
                    uf.union(i, j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(uf.find(i), []).append(i)
    decisions = []
    for members in groups.values():
        if len(members) < 2:
            continue
        canon = pick_canonical(members, archived, fetched, lengths, paths)
        for i in members:
            if i == canon or archived[i]:
                continue
            refetch = same_page(urls, i, canon)
            if hashes[i] == hashes[canon]:
                decisions.append(Decision(doc_ids[i], doc_ids[canon], 1.0, "refetch" if refetch else "exact"))
            else:
                sim = pair_sim(i, canon, signatures, signed, terms)
                decisions.append(Decision(doc_ids[i], doc_ids[canon], round(sim, 4), "refetch" if refetch else "near"))
    return sorted(decisions, key=lambda d: d.doc_id)
