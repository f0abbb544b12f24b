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
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser

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

    __slots__ = ("offset", "record_id", "url", "date", "date_header", "content_type", "charset", "payload", "sha256")

    def __init__(self, offset: int, record_id: str | None, url: str | None, date_header: str | None,
                 content_type: str, payload: bytes) -> None:
        self.offset = offset
        self.record_id = record_id
        self.url = url
        self.date_header = date_header  # as written: what the page's context snapshot keeps
        self.date = parse_timestamp(date_header)
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
    of 70 KB here, against tens of milliseconds to extract the page), and HTTP headers are not
    parsed (warcio raises inside its iterator on some, see :func:`_http`). Never raises for
    bad input: the reader, which meets the same bytes, reports the fault once, as it would
    unsplit.
    """
    found: list[tuple[int, int, bool]] = []
    try:
        fh, _ = _open(path, fs)
    except OSError:
        return found
    try:
        with fh:
            records = ArchiveIterator(fh, no_record_parse=True)
            for record in records:
                _check(record)
                length = record.rec_headers.get_header("Content-Length") or ""
                page = record.rec_type in PAGE_RECORD_TYPES
                found.append((records.get_record_offset(), int(length) if length.isdigit() else 0, page))
    except Exception:  # anything warcio raises on bad bytes: the reader meets it again and says so
        pass
    return found


class _NotWarc(ValueError):
    """warcio read something that is not a WARC record (it reads legacy ARC, and junk as ARC)."""


def iter_records(path: Path | str, max_bytes: int, max_records: int = 1_000_000, fs=None, start: int = 0,
                 stop: int | None = None, pages_before: int = 0, fh=None) -> Iterator[WarcRecord | tuple[int, Reject]]:
    """Page-like records of a WARC file in file order; a record too large or that does not
    parse, or a file that stops parsing, yields ``(offset, Reject)`` so the failure is recorded
    where it happened.

    A failure belongs to its record: a record whose headers warcio cannot read (a ``response``
    without ``WARC-Target-URI`` made warcio raise, and used to cost the whole file) is one
    ``malformed_warc`` reject, and reading goes on at the next record, found by the record's
    gzip member or its Content-Length (:func:`_next_record`).

    A range of the file is read with ``start`` (the offset of its first record, from
    :func:`index_records`) and ``stop`` (where the next range starts; None: to the end, where
    a cut or trailing junk is reported). ``pages_before`` is the page records of the file
    before ``start``: ``max_records`` counts the whole file, whichever range reaches it.
    ``fs`` is the fsspec file system ``path`` is on (object storage), None for a local file;
    ``fh``, when given, is the file already open (it is closed)."""
    try:
        if fh is not None:
            size = fh.size if fs is not None else os.fstat(fh.fileno()).st_size
        else:
            fh, size = _open(path, fs)
    except OSError as exc:
        yield start, Reject("unreadable", f"{type(exc).__name__}: {exc.strerror or exc}")
        return
    with fh:
        yield from _records(fh, size, str(path), max_bytes, max_records, fs is not None, start, stop, pages_before)


def _records(fh, size: int, path: str, max_bytes: int, max_records: int, remote: bool, start: int,
             stop: int | None, pages: int) -> Iterator[WarcRecord | tuple[int, Reject]]:
    end = start  # where the last record read ends, so where the next one starts
    fh.seek(start)
    gz = fh.read(2) == b"\x1f\x8b"  # a .warc.gz: records are gzip members, which end where they end
    while True:
        fh.seek(start)
        records = ArchiveIterator(fh, no_record_parse=True)  # offsets absolute: it starts at fh.tell()
        try:
            for record in records:
                if record.format != "warc":  # warcio also reads legacy ARC, and junk as ARC
                    raise _NotWarc(f"not a WARC record (looks like {record.format})")
                if record.rec_type in PAGE_RECORD_TYPES:
                    pages += 1
                    if pages > max_records:
                        yield records.get_record_offset(), Reject("too_large", f"more than {max_records} page records in one WARC file")
                        return
                try:
                    found = _record(record, records, max_bytes)
                except (zlib.error, EOFError):
                    raise  # the file's own compression or length: nothing after this can be read
                except Exception as exc:  # this record only: the rest of the file is still read
                    offset = records.get_record_offset()
                    found = offset, Reject("malformed_warc", f"the record at offset {offset} cannot be read "
                                                             f"({type(exc).__name__}: {str(exc)[:160]}); the others are")
                    log.warning("WARC %s: record at offset %d skipped: %s", path, offset, exc)
                end = records.get_record_offset() + records.get_record_length()
                if isinstance(found, WarcRecord) and not gz and not _ends_cleanly(fh, end, size):
                    found = found.offset, Reject("malformed_warc", f"the record at offset {found.offset} does not end where "
                                                 f"its Content-Length says (no record boundary at offset {end}): its payload "
                                                 "is cut or holds what follows it, and is not archived")
                if found is not None:
                    yield found
                    if isinstance(found, tuple) and found[1].reason == "truncated_archive":
                        return
                if stop is not None and records.offset >= stop:
                    return  # records.offset: where the next record starts, the next range's
            break
        except (zlib.error, EOFError) as exc:
            log.warning("WARC %s is truncated after offset %d: %s", path, end, exc)
            yield end, Reject("truncated_archive", f"{type(exc).__name__} after offset {end}: {str(exc)[:200]}")
            return
        except OSError as exc:  # reading failed, not parsing: the store's fault, or the disk's
            log.warning("WARC %s: reading failed after offset %d: %s", path, end, exc)
            yield end, Reject("storage_error" if remote else "unreadable", f"{type(exc).__name__} after offset {end}: {str(exc)[:200]}")
            return
        except Exception as exc:  # the record at ``end`` does not parse: find the next one
            nxt = None if isinstance(exc, _NotWarc) else _next_record(fh, end, size)
            log.warning("WARC %s: no record parses at offset %d (%s)%s", path, end, exc,
                        f"; going on at offset {nxt}" if nxt else "")
            what = f"{type(exc).__name__} at offset {end}: {str(exc)[:160]}"
            yield end, Reject("malformed_warc", what + (f"; the records from offset {nxt} are read" if nxt else ""))
            if nxt is None or (stop is not None and nxt >= stop):
                return
            start = end = nxt
    if stop is None and size - end > TRAILER_BYTES:
        # Bytes after the last whole record that warcio did not read as a record: what was
        # lost must be on record. (An uncompressed WARC ends with the final record's CRLFs.)
        yield end, Reject("truncated_archive", f"{size - end} unread bytes after the last complete record (offset {end})")


def _ends_cleanly(fh, end: int, size: int) -> bool:
    """Whether a record of a plain WARC that ends at ``end`` (by its Content-Length) is
    followed by the CRLF CRLF that closes a record (or the end of the file).
    warcio only prints a warning when a Content-Length is wrong, and hands out the cut (or
    overlong) payload; archiving that as a page would be archiving half a page, or two."""
    pos = fh.tell()
    try:
        fh.seek(end)
        tail = fh.read(4)
    finally:
        fh.seek(pos)
    return end >= size or tail[:4] == b"\r\n\r\n"  # what follows is the next record's to parse (or not)


_HTTP = StatusAndHeadersParser(["HTTP/1.0", "HTTP/1.1"], verify=False)


def _record(record, records: ArchiveIterator, max_bytes: int) -> WarcRecord | tuple[int, Reject] | None:
    """One record: a page-like record as a :class:`WarcRecord` (or its reject), None for the
    others (requests, metadata, warcinfo describe the crawl). Raises when it does not parse."""
    _check(record)
    if record.rec_type not in PAGE_RECORD_TYPES:
        return None
    headers = record.rec_headers
    record.http_headers = _http(record)
    if record.http_headers is not None:
        content_type = record.http_headers.get_header("Content-Type") or ""
    else:
        content_type = headers.get_header("Content-Type") or ""
    # Read the payload before asking for the offset: warcio's get_record_offset() reads to
    # the end of the record, after which the content stream is empty.
    payload = record.content_stream().read(max_bytes + 1)
    offset = records.get_record_offset()
    if len(payload) > max_bytes:
        return offset, Reject("too_large", f"WARC record payload over {max_bytes} bytes")
    missing = getattr(record.raw_stream, "limit", 0)
    if missing:
        # A cut file: warcio hands out the partial record without complaint; its block is
        # shorter than its Content-Length. Archiving half a page is worse than rejecting it,
        # and nothing can follow.
        return offset, Reject("truncated_archive", f"record ends {missing} bytes short of its Content-Length")
    return WarcRecord(offset, headers.get_header("WARC-Record-ID"), headers.get_header("WARC-Target-URI"),
                      headers.get_header("WARC-Date"), content_type, payload)


def _http(record) -> StatusAndHeaders | None:
    """A response record's HTTP status and headers, parsed as warcio would (which it does not
    here: with them parsed inside its iterator, a bad record broke the iteration of the file)."""
    if record.rec_type != "response" or record.length == 0:
        return None
    uri = record.rec_headers.get_header("WARC-Target-URI")
    if not uri:
        raise ValueError("a response record without WARC-Target-URI")
    if not uri.startswith(("http:", "https:")):
        return None
    return _HTTP.parse(record.raw_stream)


RESYNC_SCAN = 64 << 20  # bytes searched for the next record of an uncompressed WARC


def _next_record(fh, start: int, size: int) -> int | None:
    """Where the record after the one at ``start`` begins, or None when it cannot be found.

    In a ``.warc.gz`` each record is its own gzip member: the member at ``start`` is inflated
    (output dropped) to find its end. In a plain WARC the record's Content-Length says where it
    ends; without one, the next line starting ``WARC/1.`` is taken."""
    fh.seek(start)
    head = fh.read(2)
    if head == b"\x1f\x8b":
        fh.seek(start)
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        used = 0
        while not inflater.eof:
            chunk = fh.read(1 << 16)
            if not chunk:
                return None
            try:
                inflater.decompress(chunk, 1 << 16)
                while inflater.unconsumed_tail and not inflater.eof:
                    inflater.decompress(inflater.unconsumed_tail, 1 << 16)
            except zlib.error:
                return None
            used += len(chunk)
        nxt = start + used - len(inflater.unused_data)
        return nxt if start < nxt <= size else None
    fh.seek(start)
    header = fh.read(1 << 16)
    block = header.split(b"\r\n\r\n", 1)
    if len(block) == 2:
        for line in block[0].split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length" and value.strip().isdigit():
                nxt = start + len(block[0]) + 4 + int(value.strip())
                return nxt if start < nxt <= size else None
    fh.seek(start + 1)
    data, base = fh.read(RESYNC_SCAN), start + 1
    at = data.find(b"\nWARC/1.")
    return base + at + 1 if at >= 0 else None
