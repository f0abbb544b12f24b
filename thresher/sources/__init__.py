"""Sources: raw inputs in, pages out.

Comes in: RAW_DIR (a folder or an object-store URL). Goes out: :class:`RawInput` per input file
(:func:`discover`), then per input the :class:`Page` units to extract, or :class:`Failed` units
with a reject reason (:func:`read_pages`); bytes are decoded to text by :mod:`.decode`, WARC
files are streamed (and indexed, to be split) by :mod:`.warc`, and inputs are cut into shards
of bounded pages and bytes by :mod:`.shards`.
"""

from __future__ import annotations

from thresher.sources.discover import RawInput, discover, input_format, parse_sidecar, read_sidecar, sidecar_path
from thresher.sources.read import (Failed, Page, RawBytes, content_bytes, file_unit, index_warc, page_context, read_input,
                                   read_pages, unit_from_snapshots, warc_unit)
from thresher.sources.shards import WorkUnit, cut, index_warcs

__all__ = ["Failed", "Page", "RawBytes", "RawInput", "WorkUnit", "content_bytes", "cut", "discover", "index_warc",
           "index_warcs", "input_format", "read_input", "read_pages", "read_sidecar", "sidecar_path", "parse_sidecar",
           "file_unit", "page_context", "unit_from_snapshots", "warc_unit"]
