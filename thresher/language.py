"""Language identification of cleaned text, for the ``language`` column.

py3langid is a small, fast, dependency-light port of langid.py (97 languages): identifying a
page costs well under a millisecond, so it runs on every article.
"""

from __future__ import annotations

MIN_CHARS = 20  # below this a guess is noise; say "unknown" (null) instead
LANGID_CHARS = 600  # two paragraphs decide the language as well as the whole text, ten times faster


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when the text is too short to tell."""
    if len(text.strip()) < MIN_CHARS:
        return None
    import py3langid  # loads its model on first use; only workers that clean text pay for it

    lang, _ = py3langid.classify(text[:LANGID_CHARS])
    return lang
