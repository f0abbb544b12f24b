"""Text dumps (a page flattened to one block per line) to a clean article: decode, then rules.

This is the extract stage for ``.txt`` inputs. There is no markup to use, so everything rests
on the text rules in :mod:`thresher.boilerplate`; what they move out of the text (headline,
bylines, credits, agency, date line) becomes the article's metadata here.
"""

from __future__ import annotations

from dataclasses import dataclass

from thresher.boilerplate import Removal, strip_boilerplate, word_count
from thresher.config import Config
from thresher.dates import parse_date
from thresher.decode import decode_bytes
from thresher.language import detect_language
from thresher.records import Reject

EXTRACTOR = "textdump@1"


@dataclass(frozen=True)
class Extracted:
    """A cleaned page before provenance is attached: text, metadata and the removal log."""

    text: str
    title: str | None
    authors: tuple[str, ...]
    credits: tuple[str, ...]
    source_agency: str | None
    published_at: str | None  # ISO-8601, UTC
    language: str | None
    encoding: str
    extractor: str
    removed: tuple[Removal, ...]


def clean_dump(data: bytes, cfg: Config) -> Extracted | Reject:
    """Decode a text dump and strip its boilerplate, or say why it cannot become an article."""
    decoded = decode_bytes(data)
    if isinstance(decoded, Reject):
        return decoded
    cleaned = strip_boilerplate(decoded.text, cfg.rules)
    n = word_count(cleaned.text)
    if n == 0 or n < cfg.min_words:
        return Reject("no_content", f"{n} words left after removing {len(cleaned.removals)} spans of boilerplate")
    meta = cleaned.meta
    language = detect_language(cleaned.text)
    date_text = meta.get("published_at_text")
    return Extracted(
        text=cleaned.text,
        title=meta.get("title"),
        authors=tuple(meta.get("authors", ())),
        credits=tuple(meta.get("credits", ())),
        source_agency=meta.get("source_agency"),
        published_at=parse_date(date_text, language) if date_text else None,
        language=language,
        encoding=decoded.encoding,
        extractor=EXTRACTOR,
        removed=cleaned.removals,
    )
