"""Clusters of copies: exact hashes and LSH candidates confirmed by estimated Jaccard, joined by
union-find, each cluster with one canonical record chosen by a deterministic rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from thresher.dedup.signatures import band_keys, pair_similarity, similarity

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
    method: str  # "exact" or "near"


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


def cluster(doc_ids: Sequence[str], hashes: Sequence[str], signatures: np.ndarray, signed: np.ndarray,
            archived: Sequence[bool], fetched: Sequence[float], lengths: Sequence[int],
            paths: Sequence[str], threshold: float = NEAR_THRESHOLD) -> list[Decision]:
    """Decide which documents duplicate another; archived ones take part but are never moved.

    ``signatures`` is ``(n, NUM_PERM)`` uint32 with ``signed[i]`` False where a text was too
    short to sign (its row is ignored); the other inputs are parallel sequences.
    """
    n = len(doc_ids)
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
                uf.union(int(rows[a]), int(rows[b]))
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
            if hashes[i] == hashes[canon]:
                decisions.append(Decision(doc_ids[i], doc_ids[canon], 1.0, "exact"))
            else:
                sim = similarity(signatures[i], signatures[canon]) if signed[i] and signed[canon] else 0.0
                decisions.append(Decision(doc_ids[i], doc_ids[canon], round(sim, 4), "near"))
    return sorted(decisions, key=lambda d: d.doc_id)
