"""Unicode and whitespace normalisation: text is compared after this, never before.

Scraped text mixes NFC and NFD accents, non-breaking spaces, zero-width characters and
Windows line ends. Every rule, the title, the dedup signatures and the removal offsets work on
the output of :func:`normalize_lines`, so two copies of a page that differ only in such bytes
look identical downstream.
"""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"\s+")


def normalize_line(line: str) -> str:
    """NFC, invisible characters dropped, any run of whitespace (NBSP too) made one space."""
    line = unicodedata.normalize("NFC", line).translate(_INVISIBLE)
    return _SPACES.sub(" ", line).strip()


def normalize_lines(text: str) -> list[str]:
    """Split text into normalised lines; blank lines stay (as ``""``) so line numbers hold."""
    return [normalize_line(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def normalize_text(text: str) -> str:
    """Normalised text with paragraphs (non-blank lines) separated by one blank line."""
    return "\n\n".join(line for line in normalize_lines(text) if line)
