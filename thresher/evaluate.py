"""Scoring extracted text against hand-made article bodies, for benchmarks and tests.

The measure is the usual one for boilerplate removal: bag-of-words overlap of lower-cased
word tokens, micro-averaged over pages (long pages weigh more). It ignores order and
paragraph breaks, so it judges what was kept and dropped, not formatting.
"""

from __future__ import annotations

import re
from collections import Counter

_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> Counter:
    """Lower-cased word tokens of ``text`` with their counts."""
    return Counter(t.casefold() for t in _TOKEN.findall(text))


def overlap(pred: Counter, gold: Counter) -> tuple[int, int, int]:
    """(tokens in common, tokens predicted, tokens in gold): add these up across pages."""
    return sum((pred & gold).values()), sum(pred.values()), sum(gold.values())


def prf(common: int, predicted: int, gold: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from summed overlap counts."""
    p = common / predicted if predicted else 0.0
    r = common / gold if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def shingles(text: str, n: int = 4) -> Counter:
    """Overlapping runs of ``n`` word tokens, as article-extraction benchmarks score: unlike a
    bag of words it also punishes text kept out of order or glued to chaff."""
    toks = [t.casefold() for t in _TOKEN.findall(text)]
    if len(toks) < n:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))
