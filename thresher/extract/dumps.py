"""Text dumps (a page flattened to one block per line) to a clean article: decode, then rules.

This is the extract stage for ``.txt`` inputs. There is no markup to use, so everything rests
on the text rules in :mod:`thresher.rules`; what they move out of the text (headline,
bylines, credits, agency, date line) becomes the article's metadata here.
"""

from __future__ import annotations

from thresher.rules import strip_boilerplate
from thresher.config import Config
from thresher.dates import parse_date
from thresher.sources.decode import decode_bytes
from thresher.language import detect_language
from thresher.extract.result import Extracted
from thresher.records import Reject
from thresher.text import word_count

EXTRACTOR = "textdump@1"


def clean_dump(data: bytes, cfg: Config) -> Extracted | Reject:
    """Decode a text dump and strip its boilerplate, or say why it cannot become an article."""
    decoded = decode_bytes(data)
    if isinstance(decoded, Reject):
        return decoded
    cleaned = strip_boilerplate(decoded.text, cfg.rules, cfg.patterns)
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
