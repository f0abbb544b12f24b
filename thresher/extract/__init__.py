"""Extract: a page's bytes in, its article out (or why not).

Comes in: a :class:`~thresher.sources.Page` and the run's :class:`~thresher.config.Config`.
Goes out: :class:`Extracted` (text, title, authors, dates, language, encoding, every removed
span) with the page's own metadata for HTML (:class:`HtmlMeta`), or a
:class:`~thresher.records.Reject`. HTML goes through :mod:`.html` (main-content extraction,
then the text rules), text dumps through :mod:`.dumps` (the text rules alone).
"""

from __future__ import annotations

from thresher.config import Config
from thresher.extract.dumps import clean_dump
from thresher.extract.html import extract_html
from thresher.extract.meta import HtmlMeta
from thresher.extract.result import Extracted
from thresher.records import Reject
from thresher.sources import Page

__all__ = ["Extracted", "HtmlMeta", "clean_dump", "extract_html", "extract_page"]


def extract_page(page: Page, cfg: Config) -> tuple[Extracted, HtmlMeta | None] | Reject:
    """Dispatch a page to the extractor for its kind."""
    if page.kind == "html":
        return extract_html(page.data, cfg, url=page.url, http_charset=page.http_charset)
    out = clean_dump(page.data, cfg)
    return out if isinstance(out, Reject) else (out, None)
