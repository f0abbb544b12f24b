"""Values from pages and sidecars made safe at the door, before they become columns.

Scraped metadata is written by strangers: a sidecar's ``fetched_at`` of year 9999, a JSON-LD
``datePublished`` of year 1, a five-million-character ``javascript:`` URL, a title carrying
terminal escape sequences. Stored as they come, such values break every reader after them
(``OverflowError`` in a date conversion, a search index that refuses the whole archive) or
act on whoever prints them. Here each value is checked once, when its row is built:

* times outside [1800-01-01, the run's start + 1 day] are dropped (nothing was fetched or
  published before 1800 or after the run);
* URLs are parsed; only http(s) URLs with a host, at most ``MAX_URL_CHARS`` long, are kept;
* names and titles lose their control characters and are capped at ``MAX_NAME_CHARS``.

Nothing is lost silently: each change goes into the row's ``normalised`` column (the field,
its original as a string, why), the original stays whole in the page's snapshots, and each is
logged. Readers also hold to the schema's ranges (:func:`thresher.records.within_ranges`),
for rows another writer made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from thresher.text import strip_controls

log = logging.getLogger(__name__)

EARLIEST = datetime(1800, 1, 1, tzinfo=timezone.utc)  # before any newspaper on the web had a page
FUTURE_SLACK = timedelta(days=1)  # clocks and time zones of scrapers: a day past the run, no more
MAX_URL_CHARS = 2048  # the sitemaps protocol's limit; longer ones are not addresses anyone links
MAX_NAME_CHARS = 2000  # a title, site, author or summary; a longer one is a page pasted into a tag
MAX_ORIGINAL_CHARS = 2000  # of an original kept in ``normalised`` (all of it is in the snapshots)
WEB_SCHEMES = ("http", "https")


@dataclass
class Door:
    """The checks of one row, with the run's start time as "now" (so that re-deriving a row
    later gives the same answer); ``notes`` collects what was changed, for ``normalised``."""

    now: datetime
    notes: list[dict] = field(default_factory=list)

    def _note(self, name: str, original: object, reason: str) -> None:
        text = original if isinstance(original, str) else str(original)
        if len(text) > MAX_ORIGINAL_CHARS:
            text = text[:MAX_ORIGINAL_CHARS] + f"… ({len(text):,} characters)"
        self.notes.append({"field": name, "original": text, "reason": reason})
        log.info("%s %s: %s", name, reason, text[:200].encode("unicode_escape").decode("ascii"))

    def time(self, name: str, value: datetime | None, original: object = None) -> datetime | None:
        """``value`` if it lies between 1800 and a day after the run started, else None."""
        if value is None:
            return None
        try:
            utc = value.astimezone(timezone.utc)
        except (OverflowError, ValueError):  # "9999-12-31T23:59:59-14:00" is in year 10000 in UTC
            utc = None
        if utc is None or utc < EARLIEST:
            why = "out of range" if utc is None else "before 1800"
            self._note(name, original if original is not None else value.isoformat(), f"dropped: {why}")
            return None
        if utc > self.now + FUTURE_SLACK:
            self._note(name, original if original is not None else value.isoformat(),
                       f"dropped: after the run ({self.now.date().isoformat()})")
            return None
        return value

    def url(self, name: str, value: object) -> str | None:
        """An http(s) URL with a host, without control characters or surrounding space, at
        most ``MAX_URL_CHARS`` long; anything else None (and noted)."""
        if not isinstance(value, str) or not value.strip():
            return None
        url = strip_controls(value).strip()
        if len(url) > MAX_URL_CHARS:
            self._note(name, value, f"dropped: {len(url):,} characters, longer than {MAX_URL_CHARS:,}")
            return None
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            self._note(name, value, "dropped: does not parse as a URL")
            return None
        if parts.scheme.lower() not in WEB_SCHEMES:
            self._note(name, value, f"dropped: scheme {parts.scheme.lower() or '(none)'!r}, not http(s)")
            return None
        if not host:
            self._note(name, value, "dropped: no host")
            return None
        if url != value.strip():
            self._note(name, value, "control characters removed")
        return url

    def name(self, name: str, value: object) -> str | None:
        """A one-line name or title: control characters out, whitespace collapsed, capped."""
        if not isinstance(value, str):
            return None
        clean = " ".join(strip_controls(value).split())
        if clean != " ".join(value.split()):
            self._note(name, value, "control characters removed")
        if len(clean) > MAX_NAME_CHARS:
            self._note(name, value, f"cut at {MAX_NAME_CHARS:,} characters (was {len(clean):,})")
            clean = clean[:MAX_NAME_CHARS]
        return clean or None

    def names(self, name: str, values: object) -> list[str]:
        """Each of a list of names, as :meth:`name`; empty ones left out."""
        found = (self.name(name, v) for v in values or ())
        return [v for v in found if v]
