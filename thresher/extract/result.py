"""What extraction hands on: a cleaned page before provenance is attached."""

from __future__ import annotations

from dataclasses import dataclass

from thresher.rules import Removal


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
    encoding_source: str | None = None  # which step of the decoding cascade chose `encoding`
