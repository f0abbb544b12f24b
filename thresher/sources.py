"""Find raw inputs under RAW_DIR and read them safely: the first stage of the data flow.

Discovery is deterministic (sorted relative paths) so shards, ids and outputs do not depend
on the order the file system lists a directory. Reading enforces the configured size limit
before a byte is decompressed into memory, and every failure is returned as a
:class:`~thresher.records.Reject` with a reason, never raised: a bad file must not stop a run.
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from thresher.records import Reject, sha256_hex

log = logging.getLogger(__name__)

# Input kinds by file suffix. Sidecars (<name>.json) describe inputs and are not inputs.
INPUT_SUFFIXES: dict[str, str] = {".txt": "txt", ".txt.gz": "txt.gz"}


@dataclass(frozen=True)
class RawInput:
    """One input file, as discovered: where it is, what kind, and its sidecar metadata."""

    source_path: str  # relative to RAW_DIR, with forward slashes
    input_format: str
    sidecar: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RawBytes:
    """The bytes of an input file as stored (still compressed if .gz) and facts about it."""

    data: bytes
    raw_sha256: str  # of the bytes as stored: what an auditor re-hashes
    raw_bytes: int
    mtime: datetime


def input_format(name: str) -> str | None:
    """The input kind of a file name, or None if thresher does not read such files."""
    lower = name.lower()
    for suffix, kind in sorted(INPUT_SUFFIXES.items(), key=lambda kv: -len(kv[0])):
        if lower.endswith(suffix):
            return kind
    return None


def sidecar_path(path: Path) -> Path:
    """``page.txt`` and ``page.txt.gz`` share the sidecar ``page.json``."""
    name = path.name
    kind = input_format(name)
    stem = name[: len(name) - len(kind) - 1] if kind else path.stem
    return path.with_name(stem + ".json")


def read_sidecar(path: Path) -> dict:
    """The sidecar's fields, or an empty dict when there is none or it is not a JSON object.

    A broken sidecar must not cost the page: it is logged and ignored.
    """
    side = sidecar_path(path)
    if not side.is_file():
        return {}
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable sidecar %s: %s", side, exc)
        return {}
    return data if isinstance(data, dict) else {}


def discover(raw_dir: str | os.PathLike) -> list[RawInput]:
    """Every readable input under ``raw_dir``, recursively, sorted by relative path.

    Symbolic links are not followed out of ``raw_dir``: a link pointing outside it is skipped
    and logged, so a crafted raw folder cannot make thresher archive arbitrary files.
    """
    root = Path(raw_dir).resolve()
    found: list[RawInput] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            kind = input_format(name)
            if kind is None:
                continue
            path = Path(dirpath) / name
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                log.warning("skipping %s: symbolic link out of the raw folder", path)
                continue
            rel = path.relative_to(root).as_posix()
            found.append(RawInput(rel, kind, read_sidecar(path)))
    return sorted(found, key=lambda item: item.source_path)


def read_input(raw_dir: str | os.PathLike, item: RawInput, max_bytes: int) -> RawBytes | Reject:
    """Read one input's stored bytes, within ``max_bytes`` on disk; decompress with
    :func:`content_bytes`. Split in two so that a corrupt archive still gets its sha256."""
    path = Path(raw_dir) / item.source_path
    try:
        stat = path.stat()
        if stat.st_size > max_bytes:
            return Reject("too_large", f"{stat.st_size} bytes on disk, limit {max_bytes}")
        raw = path.read_bytes()
    except OSError as exc:
        return Reject("unreadable", f"{type(exc).__name__}: {exc.strerror or exc}")
    mtime = datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc)
    return RawBytes(raw, sha256_hex(raw), len(raw), mtime)


def content_bytes(item: RawInput, raw: RawBytes, max_bytes: int) -> bytes | Reject:
    """The page's bytes: ``raw.data`` itself, or gunzipped for ``.gz`` inputs, never more
    than ``max_bytes`` (a gzip bomb is rejected as too large, not expanded)."""
    if not item.input_format.endswith(".gz"):
        return raw.data
    try:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        data = d.decompress(raw.data, max_bytes + 1)
    except zlib.error as exc:
        return Reject("truncated_archive", f"corrupt gzip data: {exc}")
    if len(data) > max_bytes:
        return Reject("too_large", f"more than {max_bytes} bytes once decompressed")
    if not d.eof:
        return Reject("truncated_archive", "gzip stream ends before its end marker")
    return data
