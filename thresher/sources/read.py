"""Read one input safely: its stored bytes, decompressed, as pages (one per file, one per HTML
record of a WARC).

Reading enforces the configured size limit before a byte is decompressed into memory, and every
failure is returned as a :class:`~thresher.records.Reject` inside a :class:`Failed` unit, never
raised: a bad file must not stop a run. Each input is read on its own (a WARC streamed), so
memory holds one page at a time, never the corpus.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from stat import S_ISBLK, S_ISCHR, S_ISDIR, S_ISFIFO, S_ISLNK, S_ISREG, S_ISSOCK

from thresher.dates import parse_timestamp
from thresher.records import Reject, sha256_hex
from thresher.sources.discover import RawInput
from thresher.storage import Store, is_remote

@dataclass(frozen=True)
class RawBytes:
    """The bytes of an input file as stored (still compressed if .gz) and facts about it."""

    data: bytes
    raw_sha256: str  # of the bytes as stored: what an auditor re-hashes
    raw_bytes: int
    mtime: datetime | None  # None when the store does not say (fetched_at then stays unknown)


def _read_remote(store: Store, item: RawInput, max_bytes: int) -> RawBytes | Reject:
    """An object's bytes within ``max_bytes``: its size is asked first, so an oversized
    object is rejected unread. A missing or forbidden object is an ``unreadable`` reject; a
    store that fails otherwise (an error 500, a cut connection) makes a ``storage_error``
    reject, which the next run retries and replaces."""
    path = store.path(item.source_path)
    try:
        info = store.fs.info(path)
        if info.get("type") != "file":
            return Reject("unreadable", "not a regular file")
        if info["size"] > max_bytes:
            return Reject("too_large", f"{info['size']} bytes stored, limit {max_bytes}")
        raw = store.fs.cat_file(path)
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        return Reject("unreadable", f"{type(exc).__name__}: {exc}")
    except OSError as exc:  # the store failed (a 500, a connection cut): retried by the next run
        return Reject("storage_error", f"{type(exc).__name__}: {str(exc)[:200]}")
    modified = info.get("LastModified") or info.get("mtime") or info.get("last_modified")
    if isinstance(modified, (int, float)):
        modified = datetime.fromtimestamp(modified, tz=timezone.utc)
    mtime = modified.astimezone(timezone.utc) if isinstance(modified, datetime) else None
    return RawBytes(raw, sha256_hex(raw), len(raw), mtime)


def read_input(raw_dir: str | os.PathLike, item: RawInput, max_bytes: int) -> RawBytes | Reject:
    """Read one input's stored bytes, within ``max_bytes`` on disk; decompress with
    :func:`content_bytes`. Split in two so that a corrupt archive still gets its sha256.

    A local file is opened once (:func:`open_input`) and read once from that descriptor: its
    sha256, its snapshot and the page cleaned are all of these same bytes."""
    if is_remote(raw_dir):
        return _read_remote(Store(raw_dir), item, max_bytes)
    opened = open_input(Path(raw_dir) / item.source_path, item)
    if isinstance(opened, Reject):
        return opened
    fd, stat = opened
    with os.fdopen(fd, "rb") as fh:
        if stat.st_size > max_bytes:
            return Reject("too_large", f"{stat.st_size} bytes on disk, limit {max_bytes}")
        try:
            raw = fh.read(max_bytes + 1)
        except OSError as exc:
            return Reject("unreadable", f"{type(exc).__name__}: {exc.strerror or exc}")
    if len(raw) > max_bytes:  # it grew after it was opened
        return Reject("too_large", f"more than {max_bytes} bytes on disk")
    mtime = datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc)
    return RawBytes(raw, sha256_hex(raw), len(raw), mtime)


_KINDS = ((S_ISDIR, "a folder"), (S_ISFIFO, "a FIFO"), (S_ISSOCK, "a socket"), (S_ISCHR, "a character device"),
          (S_ISBLK, "a block device"), (S_ISLNK, "a symbolic link"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_input(path: Path, item: RawInput) -> tuple[int, os.stat_result] | Reject:
    """Open a local input once, for reading: ``(descriptor, its fstat)``, or why not.

    The last component is never followed when discovery found a regular file there
    (``O_NOFOLLOW``), and the opened file must be a regular file and the very one discovery
    found (``item.ident``: same device and inode), so a path swapped for a link (to
    ``/etc/passwd``), a FIFO or another file between discovery and reading is a
    ``changed_since_discovery`` reject, never read. ``O_NONBLOCK`` keeps a FIFO from
    blocking the open. A file rewritten in place is the same file: it is read once, and
    what was read is what is hashed, snapshotted and cleaned."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if item.link else os.O_NOFOLLOW)
    was = "" if item.ident is None else f"discovery found a regular file (device {item.ident[0]}, inode {item.ident[1]})"
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not item.link:
            if was:
                return Reject("changed_since_discovery", f"a symbolic link now, not followed; {was}")
            return Reject("unreadable", "a symbolic link (not followed)")
        return Reject("unreadable", f"{type(exc).__name__}: {exc.strerror or exc}")
    try:
        stat = os.fstat(fd)
        problem = _not_discovered(stat, item, was)
        if problem is None:
            os.set_blocking(fd, True)
            return fd, stat
    except BaseException:
        os.close(fd)
        raise
    os.close(fd)
    return problem


def _not_discovered(stat: os.stat_result, item: RawInput, was: str) -> Reject | None:
    """Why the opened file is not the input discovery found, or None when it is."""
    if not S_ISREG(stat.st_mode):  # a FIFO or device named page.txt would block or never end
        what = _kind(stat.st_mode)
        if was:
            return Reject("changed_since_discovery", f"{what} now; {was}")
        return Reject("unreadable", f"not a regular file ({what})")
    if item.ident is not None and (stat.st_dev, stat.st_ino) != item.ident:
        return Reject("changed_since_discovery", f"another file now (device {stat.st_dev}, inode {stat.st_ino}): "
                                                 f"the path was replaced after discovery; {was}")
    return None


def content_bytes(item: RawInput, raw: RawBytes, max_bytes: int) -> bytes | Reject:
    """The page's bytes: ``raw.data`` itself, or gunzipped for ``.gz`` inputs, never more
    than ``max_bytes`` (a gzip bomb is rejected as too large, not expanded).

    A gzip file may hold several members one after the other (``gzip -c part >> page.gz``):
    their contents are concatenated, as ``gzip -d`` does. Bytes after the last member that
    are not a gzip member are a ``truncated_archive`` reject, never dropped in silence."""
    if not item.input_format.endswith(".gz"):
        return raw.data
    parts: list[bytes] = []
    size, rest = 0, raw.data
    while True:
        try:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            data = d.decompress(rest, max_bytes + 1 - size)
        except zlib.error as exc:
            if parts:
                return Reject("truncated_archive", f"{len(rest)} bytes after the gzip data that are not gzip data ({exc})")
            return Reject("truncated_archive", f"corrupt gzip data: {exc}")
        parts.append(data)
        size += len(data)
        if size > max_bytes:
            return Reject("too_large", f"more than {max_bytes} bytes once decompressed")
        if not d.eof:
            return Reject("truncated_archive", "gzip stream ends before its end marker")
        rest = d.unused_data
        if not rest:
            return b"".join(parts) if len(parts) > 1 else parts[0]


@dataclass(frozen=True)
class Page:
    """One page to extract: its bytes and where exactly they came from.

    A plain file is one page; a WARC file yields one per HTML record, each with its byte
    offset and record id.
    """

    item: RawInput
    data: bytes  # the page itself: decompressed, or the WARC record's payload
    raw_sha256: str  # of the stored bytes (file) or of the record payload (WARC)
    raw_bytes: int
    kind: str  # "text" or "html": which extractor
    fetched_at: datetime | None = None
    fetched_at_source: str | None = None  # sidecar, warc or file_mtime
    url: str | None = None
    http_charset: str | None = None
    offset: int | None = None
    record_id: str | None = None
    stored: bytes | None = None  # the bytes raw_sha256 is of: what the raw snapshot keeps
    content_type: str | None = None  # a WARC record's HTTP Content-Type (for re-deriving)
    context: bytes | None = None  # what was read beside the bytes (see page_context): snapshotted too


@dataclass(frozen=True)
class Failed:
    """A unit that could not be read, with what is known of it (for its reject row)."""

    item: RawInput
    reject: Reject
    stage: str
    raw_sha256: str | None = None
    raw_bytes: int | None = None
    offset: int | None = None
    record_id: str | None = None
    stored: bytes | None = None
    content_type: str | None = None
    context: bytes | None = None


def page_context(item: RawInput, mtime: datetime | None = None, warc: dict | None = None) -> bytes:
    """Everything a page's row is made of besides its bytes, as bytes to snapshot: the sidecar
    file exactly as read (base64), the file's modification time, or the WARC record's headers.
    With the page's snapshot, this is enough to re-derive every column of its row
    (``verify --all``, :func:`unit_from_snapshots`). The path makes it one per page, so a
    record deleted from the archive leaves its context behind, unreferenced."""
    data = {
        "source_path": item.source_path,
        "input_format": item.input_format,
        "sidecar": None if item.sidecar_bytes is None else base64.b64encode(item.sidecar_bytes).decode("ascii"),
        "file_mtime": None if mtime is None else mtime.isoformat(),
        "warc": warc,
    }
    if item.sidecar_bytes is None and item.sidecar:  # made by hand (tests, `thresher clean`)
        data["sidecar"] = base64.b64encode(json.dumps(item.sidecar).encode("utf-8")).decode("ascii")
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("ascii")  # ASCII: file names may not be UTF-8


def file_unit(item: RawInput, raw: RawBytes, max_bytes: int) -> Page | Failed:
    """A file input's one unit from its stored bytes: the page (decompressed), or why not."""
    context = page_context(item, raw.mtime)
    data = content_bytes(item, raw, max_bytes)
    if isinstance(data, Reject):
        return Failed(item, data, "read", raw.raw_sha256, raw.raw_bytes, stored=raw.data, context=context)
    side = item.sidecar
    fetched = parse_timestamp(side.get("fetched_at"))
    return Page(
        item,
        data,
        raw.raw_sha256,
        raw.raw_bytes,
        "html" if item.input_format.startswith("html") else "text",
        fetched or raw.mtime,
        "sidecar" if fetched else "file_mtime" if raw.mtime else None,
        side.get("url") if isinstance(side.get("url"), str) else None,
        stored=raw.data,
        context=context,
    )


def warc_unit(item: RawInput, rec) -> Page | Failed:
    """A WARC record's unit: the page if its payload is HTML, else a ``not_html`` reject."""
    context = page_context(item, warc={"offset": rec.offset, "record_id": rec.record_id, "target_uri": rec.url,
                                       "date": rec.date_header, "content_type": rec.content_type})
    if not rec.is_html:
        kind = rec.content_type.split(";")[0].strip() or "unknown"
        return Failed(item, Reject("not_html", f"WARC record of type {kind}"), "read", rec.sha256,
                      len(rec.payload), rec.offset, rec.record_id, rec.payload, rec.content_type, context)
    return Page(item, rec.payload, rec.sha256, len(rec.payload), "html", rec.date,
                "warc" if rec.date else None, rec.url, rec.charset, rec.offset, rec.record_id,
                rec.payload, rec.content_type, context)


def unit_from_snapshots(content: bytes, context: bytes, max_bytes: int) -> Page | Failed:
    """A unit rebuilt from its two snapshots, the page's bytes and its context, through the
    same functions that read it the first time: what ``verify`` re-derives a row from."""
    from thresher.sources.discover import parse_sidecar
    from thresher.sources.warc import WarcRecord

    ctx = json.loads(context)
    side = None if ctx.get("sidecar") is None else base64.b64decode(ctx["sidecar"])
    item = RawInput(ctx["source_path"], ctx["input_format"], parse_sidecar(side), sidecar_bytes=side)
    warc = ctx.get("warc")
    if warc is not None:
        return warc_unit(item, WarcRecord(warc["offset"], warc["record_id"], warc["target_uri"], warc["date"],
                                          warc["content_type"], content))
    mtime = datetime.fromisoformat(ctx["file_mtime"]) if ctx.get("file_mtime") else None
    return file_unit(item, RawBytes(content, sha256_hex(content), len(content), mtime), max_bytes)


def read_pages(raw_dir: str | os.PathLike, item: RawInput, max_bytes: int, max_records: int = 1_000_000,
               start: int = 0, stop: int | None = None, pages_before: int = 0) -> Iterator[Page | Failed]:
    """The pages of one input: one for a text or HTML file, one per HTML record of a WARC.

    ``start``, ``stop`` and ``pages_before`` read one range of a WARC file's records (a shard's
    part of a large file: see :mod:`thresher.sources.shards`); the defaults read it whole."""
    if item.refused:
        yield Failed(item, Reject("unreadable", item.refused), "read")
        return
    if item.input_format.startswith("warc"):
        span = (start, stop, pages_before)
        if is_remote(raw_dir):
            store = Store(raw_dir)
            yield from _warc_pages(store.path(item.source_path), item, max_bytes, max_records, span, store.fs)
        else:
            yield from _warc_pages(Path(raw_dir) / item.source_path, item, max_bytes, max_records, span)
        return
    raw = read_input(raw_dir, item, max_bytes)
    if isinstance(raw, Reject):
        yield Failed(item, raw, "read", context=page_context(item))
        return
    yield file_unit(item, raw, max_bytes)


def index_warc(raw_dir: str | os.PathLike, item: RawInput) -> list[tuple[int, int, bool]]:
    """The record index of a WARC input (:func:`thresher.sources.warc.index_records`), to cut
    it into ranges; top-level, so that a process pool can index several files at once."""
    from thresher.sources.warc import index_records

    if is_remote(raw_dir):
        store = Store(raw_dir)
        return index_records(store.path(item.source_path), store.fs)
    return index_records(Path(raw_dir) / item.source_path)


def _warc_pages(path: Path | str, item: RawInput, max_bytes: int, max_records: int, span: tuple[int, int | None, int],
                fs=None) -> Iterator[Page | Failed]:
    fh = None
    if fs is None:  # on object storage, a missing object is reported on open
        opened = open_input(path, item)
        if isinstance(opened, Reject):
            yield Failed(item, opened, "read", offset=span[0] or None)
            return
        fh = os.fdopen(opened[0], "rb")
    units = 0
    for rec in _warc_units(path, item, max_bytes, max_records, span, fs, fh):
        units += 1
        yield rec
    if units == 0 and span[:2] == (0, None):
        # A WARC without one page record must still leave a row: nothing vanishes. (A file is
        # only split between its page records, so a range always holds one.)
        yield Failed(item, Reject("no_content", "the WARC file holds no response or resource record"), "read")


def _warc_units(path: Path | str, item: RawInput, max_bytes: int, max_records: int, span: tuple[int, int | None, int],
                fs=None, fh=None) -> Iterator[Page | Failed]:
    from thresher.sources.warc import iter_records  # warcio only where WARC files are read

    for rec in iter_records(path, max_bytes, max_records, fs, *span, fh=fh):
        if isinstance(rec, tuple):
            offset, reject = rec
            yield Failed(item, reject, "read", offset=offset)
        else:
            yield warc_unit(item, rec)
