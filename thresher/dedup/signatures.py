"""What dedup compares: normalised tokens, exact-copy hashes and MinHash signatures.

Signatures are computed in the shard that cleaned the article (in parallel, with numpy), so the
run-wide dedup step only compares signatures, never texts.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Sequence

import numpy as np

from thresher.urls import url_key

# Shingles of five words: long enough that two different stories rarely share many (common
# phrases are 2-3 words), short enough that a light edit only breaks the few around it.
SHINGLE_WORDS = 5


# 128 hash functions in 32 bands of 4 rows: P(candidate) = 1 - (1 - J^4)^32, which is 0.87 at
# J = 0.5, 0.98 at J = 0.6 and 0.23 at J = 0.3. Copies (truncated, edited: J 0.5-0.9) nearly
# always meet in a band; what also meets is checked against NEAR_THRESHOLD, cheaply.
NUM_PERM = 128


BANDS, ROWS = 32, 4


# Texts shorter than this many shingles are compared exactly only: MinHash on a 20-word brief
# says more about its template than about its story.
MIN_SHINGLES = 20


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


def word_minhash(words: np.ndarray, perms: int) -> np.ndarray:
    """MinHash (``perms`` values) of a set of word hashes (uint64): short texts' candidates."""
    values = (np.outer(words, _A[:perms]) + _B[:perms]) % _PRIME
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


# Texts under this many words also carry their *terms* (below): for briefs, MinHash over
# shingles sees the shared template more than the facts that make each brief a story of its own.
SHORT_WORDS = 300


_RAW_TOKEN = re.compile(r"\w+", re.UNICODE)
_OPENERS = "\"'“‘«([¿¡-–—"


def _starts_sentence(text: str, at: int) -> bool:
    """True when the token at ``at`` opens a sentence (or a paragraph): its capital says nothing."""
    k = at - 1
    while k >= 0 and (text[k].isspace() and text[k] != "\n" or text[k] in _OPENERS):
        k -= 1
    return k < 0 or text[k] in ".!?:;\n…"


def terms(text: str) -> list[int] | None:
    """The distinct words of a short text as sorted 30-bit hashes, each shifted left by two
    bits that mark a *fact*: bit 0 a name or number (a capitalised word inside a sentence:
    names, places, teams; or a token with a digit), bit 1 a number (scores, prices, dates,
    reference numbers). None for texts of :data:`SHORT_WORDS` words or more, where shingles
    alone decide.

    Two briefs written on one template share most words and differ in their facts; two copies
    of one brief share their facts. :func:`thresher.dedup.clusters.facts_differ` compares them.
    """
    found: set[int] = set()
    n = 0
    for m in _RAW_TOKEN.finditer(text):
        n += 1
        if n >= SHORT_WORDS:
            return None
        tok = m.group()
        number = any(c.isdigit() for c in tok)
        fact = number or (tok[:1].isupper() and not _starts_sentence(text, m.start()))
        found.add(((zlib.crc32(tok.casefold().encode("utf-8")) & 0x3FFFFFFF) << 2) | (number << 1) | fact)
    return sorted(found)


def signature_row(row: dict, cache: dict[str, int]) -> dict:
    """What dedup needs of an article, computed once in the shard that cleaned it: the text's
    exact-copy key and MinHash signature, its terms when it is short, and the keys of its URLs
    (the page's own and its canonical URL), which tell a re-fetch of the same page."""
    tokens = dedup_tokens(row["text"])
    sig = minhash(tokens, cache)
    fetched = row["fetched_at"]
    canonical = url_key(row.get("canonical_url"))
    if canonical and canonical.endswith("/"):
        canonical = None  # a canonical link to the site's home page says nothing about this page
    keys = sorted({k for k in (url_key(row.get("source_url")), canonical) if k})
    return {
        "doc_id": row["doc_id"],
        "site": row["site"],
        "text_hash": text_hash(tokens),
        "signature": None if sig is None else sig.tolist(),
        "fetched_at": fetched.timestamp() if fetched else float("inf"),
        "n_chars": len(row["text"]),
        "source_path": row["source_path"],
        "urls": keys,
        "terms": terms(row["text"]),
        "version": None,
    }


def paragraph_row(row: dict) -> dict:
    """An article's paragraphs as dedup's template stage needs them: a hash and a length each."""
    paras = row["text"].split("\n\n")
    return {"doc_id": row["doc_id"], "site": row["site"], "hashes": [paragraph_hash(p) for p in paras],
            "lengths": [len(p) for p in paras]}
