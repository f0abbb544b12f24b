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
# Control characters are never text: NUL, escape sequences (a title that recolours or clears an
# auditor's terminal), DEL and the C1 range. Tabs and line ends are whitespace and handled as such.
_CONTROLS = dict.fromkeys([*range(0, 9), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)], None)
_INVISIBLE.update(_CONTROLS)


_SPACES = re.compile(r"\s+")


def normalize_line(line: str) -> str:
    """NFC, invisible and control characters dropped, any run of whitespace (NBSP too) made
    one space."""
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


def strip_controls(value: str) -> str:
    """``value`` without control characters (line ends and tabs become spaces): for names and
    titles, which are one line."""
    return value.replace("\r", " ").replace("\n", " ").replace("\t", " ").translate(_CONTROLS)


# Characters a terminal or a viewer acts on instead of showing: controls (escape sequences),
# bidirectional overrides and isolates (text that reads differently than it is), lone surrogates
# (a file name that is not UTF-8, which would crash the writer).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(value: object) -> str:
    """``value`` as text that is safe to print: every character a terminal would act on is shown
    as its escape (``\\x1b``, ``\\u202e``), so an auditor sees what is there and nothing acts."""
    text = value if isinstance(value, str) else str(value)
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii")
                       if ord(m.group()) < 0xD800 or ord(m.group()) > 0xDFFF else f"\\u{ord(m.group()):04x}", text)
