"""WARC archives to pages: each ``response`` or ``resource`` record with an HTML payload is a page.

Crawls arrive as WARC files (the web-archive standard), often gigabytes holding thousands of
pages. They are streamed record by record with warcio, never read whole; the size limit
applies to each record. A record's provenance is the WARC file, the record's byte offset in
it and its WARC-Record-ID, so an auditor can seek straight to it. Other record types
(``request``, ``metadata``, ``warcinfo``) describe the crawl and are not pages.

A large file is shared out between shards by record ranges: :func:`index_records` lists
where each record starts (warcio's own offsets, so a range starts exactly where a reader
seeking there finds a record: a gzip member, or the ``WARC/`` line of an uncompressed file),
and :func:`iter_records` reads one range, from a start offset to the start of the next range.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from thresher.dates import parse_timestamp
from thresher.records import Reject, sha256_hex
from thresher.sources.decode import declared_charset
from thresher.storage import READ_BLOCK

log = logging.getLogger(__name__)

PAGE_RECORD_TYPES = {"response", "resource"}
TRAILER_BYTES = 4  # the CRLF CRLF that closes the last record of an uncompressed WARC
HTML_TYPES = ("text/html", "application/xhtml+xml")


def _is_html(content_type: str, payload: bytes) -> bool:
    if content_type:
        return content_type.split(";")[0].strip().lower() in HTML_TYPES
    head = payload[:1024].lower()
    return b"<html" in head or b"<!doctype html" in head


class WarcRecord:
    """One page-like record: its payload and what the WARC says about it."""

    __slots__ = ("offset", "record_id", "url", "date", "content_type", "charset", "payload", "sha256")

    def __init__(self, offset: int, record_id: str | None, url: str | None, date: datetime | None,
                 content_type: str, payload: bytes) -> None:
        self.offset = offset
        self.record_id = record_id
        self.url = url
        self.date = date
        self.content_type = content_type
        self.charset = declared_charset(content_type)
        self.payload = payload
        self.sha256 = sha256_hex(payload)

    @property
    def is_html(self) -> bool:
        return _is_html(self.content_type, self.payload)


def _open(path: Path | str, fs=None):
    """The file and its size; ``fs`` is the fsspec file system ``path`` is on (object
    storage), None for a local file: an object is streamed a block at a time, never
    downloaded whole."""
    if fs is None:
        fh = open(path, "rb")
        return fh, os.fstat(fh.fileno()).st_size
    fh = fs.open(path, "rb", block_size=READ_BLOCK, cache_type="readahead")
    return fh, fh.size


def _check(record) -> None:
    if record.format != "warc":  # warcio also reads legacy ARC, and junk as ARC
        raise ValueError(f"not a WARC record (looks like {record.format})")
    if not record.rec_type:
        raise ValueError("a record without a WARC-Type header")


def index_records(path: Path | str, fs=None) -> list[tuple[int, int, bool]]:
    """``(offset, content bytes, is a page record)`` for each record of a WARC file, in file
    order, up to the first thing that does not parse (where reading will reject the rest).

    Headers only: payloads are skipped (an uncompressed file is read through, a gzipped one
    inflated, since a gzip member's end is only found by inflating it: about 0.25 ms per record
    of 70 KB here, against tens of milliseconds to extract the page). Never raises for bad
    input: the reader, which meets the same bytes, reports the fault once, as it would unsplit.
    """
    found: list[tuple[int, int, bool]] = []
    try:
        fh, _ = _open(path, fs)
    except OSError:
        return found
    try:
        with fh:
            records = ArchiveIterator(fh)
            for record in records:
                _check(record)
                length = record.rec_headers.get_header("Content-Length") or ""
                page = record.rec_type in PAGE_RECORD_TYPES
                found.append((records.get_record_offset(), int(length) if length.isdigit() else 0, page))
    except (zlib.error, EOFError, ArchiveLoadFailed, ValueError, OSError):
        pass  # the reader meets it again, in the last range of the file, and says so
    return found


def iter_records(path: Path | str, max_bytes: int, max_records: int = 1_000_000, fs=None, start: int = 0,
                 stop: int | None = None, pages_before: int = 0) -> Iterator[WarcRecord | tuple[int, Reject]]:
    """Page-like records of a WARC file in file order; a record too large or a file that stops
    parsing yields ``(offset, Reject)`` so the failure is recorded where it happened.

    A range of the file is read with ``start`` (the offset of its first record, from
    :func:`index_records`) and ``stop`` (where the next range starts; None: to the end, where
    a cut or trailing junk is reported). ``pages_before`` is the page records of the file
    before ``start``: ``max_records`` counts the whole file, whichever range reaches it."""
    offset = start
    end = start
    pages = pages_before
    try:
        fh, size = _open(path, fs)
        if start:
            fh.seek(start)
    except OSError as exc:
        yield start, Reject("unreadable", f"{type(exc).__name__}: {exc.strerror or exc}")
        return
    try:
        with fh:
            records = ArchiveIterator(fh)  # its offsets are absolute: it starts at fh.tell()
            for record in records:
                _check(record)
                if record.rec_type not in PAGE_RECORD_TYPES:
                    offset = records.get_record_offset()
                    end = offset + records.get_record_length()
                    if stop is not None and records.offset >= stop:
                        return  # records.offset: where the next record starts
                    continue
                headers = record.rec_headers
                if record.rec_type == "response" and record.http_headers is not None:
                    content_type = record.http_headers.get_header("Content-Type") or ""
                else:
                    content_type = headers.get_header("Content-Type") or ""
                pages += 1
                if pages > max_records:
                    yield records.get_record_offset(), Reject("too_large", f"more than {max_records} page records in one WARC file")
                    return
                # Read the payload before asking for the offset: warcio's get_record_offset()
                # reads to the end of the record, after which the content stream is empty.
                payload = record.content_stream().read(max_bytes + 1)
                offset = records.get_record_offset()
                end = offset + records.get_record_length()
                if len(payload) > max_bytes:
                    yield offset, Reject("too_large", f"WARC record payload over {max_bytes} bytes")
                    if stop is not None and records.offset >= stop:
                        return
                    continue
                missing = getattr(record.raw_stream, "limit", 0)
                if missing:
                    # A cut file: warcio hands out the partial record without complaint; its
                    # block is shorter than its Content-Length. Archiving half a page is worse
                    # than rejecting it, and nothing can follow.
                    yield offset, Reject("truncated_archive", f"record ends {missing} bytes short of its Content-Length")
                    return
                yield WarcRecord(
                    offset,
                    headers.get_header("WARC-Record-ID"),
                    headers.get_header("WARC-Target-URI"),
                    parse_timestamp(headers.get_header("WARC-Date")),
                    content_type,
                    payload,
                )
                if stop is not None and records.offset >= stop:
                    return
    except (zlib.error, EOFError) as exc:
        log.warning("WARC %s is truncated after offset %d: %s", path, offset, exc)
        yield end, Reject("truncated_archive", f"{type(exc).__name__} after offset {offset}: {str(exc)[:200]}")
        return
    except (ArchiveLoadFailed, ValueError, OSError) as exc:
        log.warning("WARC %s stops parsing after offset %d: %s", path, offset, exc)
        yield end, Reject("malformed_warc", f"{type(exc).__name__} after offset {offset}: {str(exc)[:200]}")
        return
    if size - end > TRAILER_BYTES:
        # Bytes after the last whole record that warcio did not read as a record: what was
        # lost must be on record. (An uncompressed WARC ends with the final record's CRLFs.)
        yield end, Reject("truncated_archive", f"{size - end} unread bytes after the last complete record (offset {end})")
