"""Deduplication of cleaned articles: exact copies, near-duplicate syndicated copies, and
paragraphs a site repeats on every page.

This stage sits between cleaning and publishing. It works on cleaned, normalised text only,
never on raw pages, in three layers:

* **repeated paragraphs**: a paragraph that recurs on many pages of the same site is template
  text the rules missed (a donation appeal, a standard disclaimer): it is removed, logged as
  ``repeated_paragraph``, before anything is compared. A paragraph shared by different sites
  is a quote or syndication and stays;
* **exact**: identical normalised text (lower case, word tokens only);
* **near**: MinHash signatures over word shingles, LSH banding to find candidates without
  comparing every pair, candidates confirmed by their estimated Jaccard similarity.

Signatures are computed per shard, in parallel, with numpy; candidates are found by grouping
band keys with Arrow, not Python dicts of the whole corpus. Clusters come from union-find;
each gets one canonical record by a deterministic rule (see :func:`pick_canonical`), and an
archived canonical is never replaced: history is not rewritten.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

# Shingles of five words: long enough that two different stories rarely share many (common
# phrases are 2-3 words), short enough that a light edit only breaks the few around it.
SHINGLE_WORDS = 5
# 128 hash functions in 32 bands of 4 rows: P(candidate) = 1 - (1 - J^4)^32, which is 0.87 at
# J = 0.5, 0.98 at J = 0.6 and 0.23 at J = 0.3. Copies (truncated, edited: J 0.5-0.9) nearly
# always meet in a band; what also meets is checked against NEAR_THRESHOLD, cheaply.
NUM_PERM = 128
BANDS, ROWS = 32, 4
# A candidate is a duplicate when its estimated Jaccard reaches this: measured on the labelled
# set in tests/fixtures/dedup (copies, edits, truncations vs shared quotes and template briefs).
NEAR_THRESHOLD = 0.5
# Texts shorter than this many shingles are compared exactly only: MinHash on a 20-word brief
# says more about its template than about its story.
MIN_SHINGLES = 20
# A paragraph on this many pages of one site is template text (background paragraphs of a
# running story recur in a handful of follow-ups, not in eight).
REPEAT_MIN_PAGES = 8
REPEAT_RULE = "repeated_paragraph@1"
# Rows per block in vectorised steps. A block of signatures widened to uint64 is BLOCK x 128 x 8
# bytes, and a step holds two or three such temporaries: 8192 rows keep them near 8 MB each,
# whatever the corpus (65536 made them 67 MB each, so dedup's peak grew with the corpus up to
# 65k documents: +234 MB at 50k documents against +56 MB at 10k).
BLOCK = 8192

_PRIME = np.uint64(4294967291)  # largest prime below 2^32: a*h + b stays below 2^64
_rng = np.random.default_rng(20251123)  # fixed seed: signatures must be identical in every run
_A = _rng.integers(1, 2**32 - 5, NUM_PERM, dtype=np.uint64)
_B = _rng.integers(0, 2**32 - 5, NUM_PERM, dtype=np.uint64)
_BAND_MIX = np.array([pow(1_000_003, r, 2**64) for r in range(ROWS)], dtype=np.uint64)
_SHINGLE_MIX = np.array([pow(0x9E3779B1, j, 2**64) for j in range(SHINGLE_WORDS)], dtype=np.uint64)
_TOKEN = re.compile(r"\w+", re.UNICODE)


def dedup_tokens(text: str) -> list[str]:
    """What dedup compares: lower-case word tokens (punctuation, case and spacing ignored)."""
    return [t.casefold() for t in _TOKEN.findall(text)]


def text_hash(tokens: Sequence[str]) -> str:
    """Exact-duplicate key: sha256 of the normalised token stream."""
    return hashlib.sha256(" ".join(tokens).encode("utf-8")).hexdigest()


def paragraph_hash(paragraph: str) -> int:
    """A stable 63-bit key for a normalised paragraph (for repeated-paragraph counts)."""
    digest = hashlib.blake2b(" ".join(dedup_tokens(paragraph)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def _token_ids(tokens: Sequence[str], cache: dict[str, int]) -> np.ndarray:
    out = np.empty(len(tokens), dtype=np.uint64)
    for i, tok in enumerate(tokens):
        h = cache.get(tok)
        if h is None:
            h = cache[tok] = zlib.crc32(tok.encode("utf-8"))
        out[i] = h
    return out


def minhash(tokens: Sequence[str], cache: dict[str, int] | None = None) -> np.ndarray | None:
    """MinHash signature (``NUM_PERM`` uint32) of the text's word shingles, or None when the
    text is too short to sign reliably."""
    n = len(tokens) - SHINGLE_WORDS + 1
    if n < MIN_SHINGLES:
        return None
    ids = _token_ids(tokens, {} if cache is None else cache)
    windows = np.lib.stride_tricks.sliding_window_view(ids, SHINGLE_WORDS)
    mixed = (windows * _SHINGLE_MIX).sum(axis=1, dtype=np.uint64)  # wraps mod 2^64: intended
    shingles = np.unique((mixed >> np.uint64(32)) ^ (mixed & np.uint64(0xFFFFFFFF)))
    values = (np.outer(shingles, _A) + _B) % _PRIME
    return values.min(axis=0).astype(np.uint32)


def band_keys(signatures: np.ndarray) -> np.ndarray:
    """One uint64 key per LSH band (``(n, BANDS)`` for ``(n, NUM_PERM)`` signatures):
    documents sharing any key become candidates. Computed in blocks: widening a million
    signatures to uint64 at once would cost 2 GB of temporaries."""
    out = np.empty((signatures.shape[0], BANDS), dtype=np.uint64)
    for i in range(0, signatures.shape[0], BLOCK):
        rows = signatures[i : i + BLOCK].astype(np.uint64).reshape(-1, BANDS, ROWS)
        out[i : i + BLOCK] = (rows * _BAND_MIX).sum(axis=2, dtype=np.uint64)
    return out


def pair_similarity(signatures: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Estimated Jaccard of each (i, j) pair of rows, in blocks to bound the temporaries."""
    out = np.empty(len(pairs), dtype=np.float64)
    for i in range(0, len(pairs), BLOCK):
        block = pairs[i : i + BLOCK]
        out[i : i + BLOCK] = (signatures[block[:, 0]] == signatures[block[:, 1]]).mean(axis=1)
    return out


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures: the share of equal positions."""
    return float(np.mean(a == b))


# --------------------------------------------------------------------------- repeated paragraphs


def repeated_paragraphs(docs: Iterable[tuple[str | None, Sequence[str]]], known: dict[tuple[str, int], int] | None = None,
                        min_pages: int = REPEAT_MIN_PAGES) -> set[tuple[str, int]]:
    """(site, paragraph hash) pairs that occur on at least ``min_pages`` pages of one site.

    ``docs`` yields (site, paragraphs) per page; ``known`` adds counts from earlier runs.
    Pages without a site are not counted: a paragraph shared across unknown origins may be
    a quote.
    """
    counts: dict[tuple[str, int], int] = dict(known or {})
    for site, paragraphs in docs:
        if not site:
            continue
        for h in {paragraph_hash(p) for p in paragraphs}:
            counts[(site, h)] = counts.get((site, h), 0) + 1
    return {key for key, n in counts.items() if n >= min_pages}


# --------------------------------------------------------------------------- clusters


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
