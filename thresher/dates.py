"""Date lines to timestamps: "Publié le 3 mars 2025 à 10h42" -> 2025-03-03T09:42:00+00:00.

dateparser reads dates in some 200 locales; told the page's language it skips the costly
search over all of them, so the extractor passes the detected language. Results are memoised
(a pure function of its inputs): sites repeat the same date line on every page of a day.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache

# "5 hours ago" has no fixed meaning in an archive: such lines give no timestamp, so a
# record never depends on the clock of the run that cleaned it.
_RELATIVE = {"ago", "yesterday", "today", "il y a", "vor", "hace", "há", "lalu", "trước", "fa"}
_US_CLOCK = re.compile(r"\b[ap]\.?m\b", re.IGNORECASE)


def parse_timestamp(value: object) -> datetime | None:
    """An ISO-8601 timestamp from a sidecar, a WARC header or a stage, as an aware datetime;
    a time without a zone is taken as UTC. Anything else (missing, malformed) gives None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@lru_cache(maxsize=4096)
def parse_date(text: str, language: str | None = None) -> str | None:
    """ISO-8601 UTC timestamp for a date line, or None when it is relative or unreadable.

    Numeric dates are read day-first (most of the world) unless the line uses a 12-hour
    clock, the mark of US sites, which write month-first. A time without a zone is UTC.
    """
    iso = parse_timestamp(text)  # ISO 8601, as page metadata gives it: no dateparser search
    if iso is not None:
        return iso.astimezone(timezone.utc).isoformat()
    words = set(text.casefold().split())
    if words & _RELATIVE or "il y a" in text.casefold():
        return None
    import dateparser  # heavy import, paid only by workers that meet a date line

    settings = {
        "RETURN_AS_TIMEZONE_AWARE": True,
        "TO_TIMEZONE": "UTC",
        "PREFER_DAY_OF_MONTH": "first",
        "DATE_ORDER": "MDY" if _US_CLOCK.search(text) else "DMY",
    }
    languages = [language] if language else None
    try:
        parsed = dateparser.parse(text, languages=languages, settings=settings)
    except ValueError:  # a language dateparser does not know
        parsed = dateparser.parse(text, settings=settings)
    if parsed is None and languages:
        parsed = dateparser.parse(text, settings=settings)
    return parsed.isoformat() if parsed else None


def load_all_locales() -> None:
    """Load what dateparser reads for a date line no locale claims: every locale's data, about
    2 s of CPU and 40 MB the first time a process meets such a line (on real pages, nearly
    every shard worker does). Done once in the process shard workers are forked from, they
    share it instead (``flows.preload``)."""
    parse_date.__wrapped__("no date 0 here", None)
