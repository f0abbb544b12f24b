"""Text as every stage compares it: normalised lines, word counts, word shingles.

Scraped text mixes NFC and NFD accents, non-breaking spaces, zero-width characters and Windows
line ends. Every rule, the title, the dedup signatures and the removal offsets work on the
output of :func:`normalize_lines`, so two copies of a page that differ only in such bytes look
identical downstream. This module sits at the bottom: it imports nothing of thresher.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


_SPACES = re.compile(r"\s+")


def normalize_line(line: str) -> str:
    """NFC, invisible characters dropped, any run of whitespace (NBSP too) made one space."""
    line = unicodedata.normalize("NFC", line).translate(_INVISIBLE)
    return _SPACES.sub(" ", line).strip()


def normalize_lines(text: str) -> list[str]:
    """Split text into normalised lines; blank lines stay (as ``""``) so line numbers hold."""
    return [normalize_line(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


# Chinese and Japanese write without spaces: two such characters count as about one word, so
# a Japanese paragraph is not mistaken for a one-word menu item.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def word_count(text: str) -> int:
    """Words in ``text``: whitespace-separated tokens, plus half the CJK characters."""
    n = len(text.split())
    cjk = len(_CJK.findall(text))
    return n + cjk // 2 if cjk else n


_TOKEN = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = 4) -> Counter:
    """Overlapping runs of ``n`` lower-cased word tokens: unlike a bag of words they also tell
    text kept in order from the same words glued to chaff."""
    toks = [t.casefold() for t in _TOKEN.findall(text)]
    if len(toks) < n:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


def containment(inner: str, outer: str) -> float:
    """Share of ``inner``'s shingles found in ``outer`` (1.0 when ``inner`` has none)."""
    a, b = shingles(inner), shingles(outer)
    total = sum(a.values())
    return sum((a & b).values()) / total if total else 1.0
