"""Find raw inputs under RAW_DIR: the first stage of the data flow.

Discovery is deterministic (sorted relative paths) so shards, ids and outputs do not depend on
the order the file system lists a directory. RAW_DIR is a local folder or an fsspec URL
(``s3://bucket/raw``): on object storage, one listing finds the inputs and sidecars are fetched
concurrently in batches.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from thresher.storage import Store, is_remote

log = logging.getLogger(__name__)

# Input kinds by file suffix. Sidecars (<name>.json) describe inputs and are not inputs.
INPUT_SUFFIXES: dict[str, str] = {
    ".txt": "txt",
    ".txt.gz": "txt.gz",
    ".html": "html",
    ".htm": "html",
    ".html.gz": "html.gz",
    ".htm.gz": "html.gz",
    ".warc": "warc",
    ".warc.gz": "warc.gz",
}


@dataclass(frozen=True)
class RawInput:
    """One input file, as discovered: where it is, what kind, and its sidecar metadata."""

    source_path: str  # relative to RAW_DIR, with forward slashes
    input_format: str
    sidecar: dict = field(default_factory=dict)
    refused: str | None = None  # why discovery will not read it (a link out of RAW_DIR)
    size: int | None = None  # bytes as stored, when the listing says (how shards are weighed)
    sidecar_bytes: bytes | None = None  # the sidecar file as read: snapshotted with the page


def input_format(name: str) -> str | None:
    """The input kind of a file name, or None if thresher does not read such files."""
    lower = name.lower()
    for suffix, kind in sorted(INPUT_SUFFIXES.items(), key=lambda kv: -len(kv[0])):
        if lower.endswith(suffix):
            return kind
    return None


def sidecar_path(path: Path) -> Path:
    """``page.txt``, ``page.txt.gz`` and ``page.html`` all use the sidecar ``page.json``."""
    name = path.name
    lower = name.lower()
    for suffix in sorted(INPUT_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return path.with_name(name[: -len(suffix)] + ".json")
    return path.with_name(path.stem + ".json")


def read_sidecar(path: Path) -> dict:
    """The sidecar's fields, or an empty dict when there is none or it is not a JSON object.

    A broken sidecar must not cost the page: it is logged and ignored.
    """
    return parse_sidecar(read_sidecar_bytes(path), sidecar_path(path))


def read_sidecar_bytes(path: Path) -> bytes | None:
    """The bytes of a page's sidecar file, or None when it has none (or it cannot be read)."""
    side = sidecar_path(path)
    if not side.is_file():
        return None
    try:
        return side.read_bytes()
    except OSError as exc:
        log.warning("ignoring unreadable sidecar %s: %s", side, exc)
        return None


def parse_sidecar(data: bytes | None, where: object = "sidecar") -> dict:
    """A sidecar's fields from its bytes: the one reading of them, at discovery and when
    ``verify`` re-derives a record from the snapshot of those bytes."""
    if data is None:
        return {}
    try:
        parsed = json.loads(data)
    except ValueError as exc:  # UnicodeDecodeError included
        log.warning("ignoring unreadable sidecar %s: %s", where, exc)
        return {}
    return parsed if isinstance(parsed, dict) else {}


def discover(raw_dir: str | os.PathLike) -> list[RawInput]:
    """Every readable input under ``raw_dir``, recursively, sorted by relative path.

    Symbolic links are not followed out of ``raw_dir``: such a link is listed, so that it gets
    a reject row, but never read; a crafted raw folder cannot make thresher archive arbitrary
    files. ``raw_dir`` may be a URL (``s3://bucket/raw``): see :func:`_discover_remote`.
    """
    if is_remote(raw_dir):
        return _discover_remote(Store(raw_dir))
    root = Path(raw_dir).resolve()
    found: list[RawInput] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            kind = input_format(name)
            if kind is None:
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            refused = None
            if path.is_symlink():
                try:
                    outside = not path.resolve().is_relative_to(root)
                except (OSError, RuntimeError):  # a link loop: reading it will say so
                    outside = False
                if outside:
                    log.warning("not following %s: symbolic link out of the raw folder", path)
                    refused = "symbolic link pointing out of RAW_DIR (not followed)"
            side = None if refused else read_sidecar_bytes(path)
            found.append(RawInput(rel, kind, parse_sidecar(side, sidecar_path(path)), refused,
                                  None if refused else _size(path), side))
    return sorted(found, key=lambda item: item.source_path)


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:  # a dangling link, a loop: reading it will say why
        return None


SIDECAR_BATCH = 256  # sidecars fetched concurrently per request batch on object storage


def _discover_remote(store: Store) -> list[RawInput]:
    """Inputs under an object-store prefix: one recursive listing (names only), then the
    sidecars that exist, fetched concurrently a batch at a time. There are no symbolic links."""
    keys: dict[str, int | None] = {}
    for name, info in store.fs.find(store.root, detail=True).items():
        if name.startswith(store.root + "/"):
            keys[name[len(store.root) + 1 :]] = info.get("size")
    found = sorted((rel, kind) for rel in keys if (kind := input_format(PurePosixPath(rel).name)))
    wanted = {rel: str(sidecar_path(PurePosixPath(rel))) for rel, _ in found}
    present = sorted({side for side in wanted.values() if side in keys})
    sidecars: dict[str, bytes] = {}
    for i in range(0, len(present), SIDECAR_BATCH):
        batch = [store.path(side) for side in present[i : i + SIDECAR_BATCH]]
        for path, data in store.fs.cat(batch, on_error="return").items():
            rel = path[len(store.root) + 1 :]
            if isinstance(data, Exception):
                log.warning("ignoring unreadable sidecar %s: %s", store.url(rel), data)
                continue
            sidecars[rel] = data
    return [RawInput(rel, kind, parse_sidecar(sidecars.get(wanted[rel]), store.url(wanted[rel])), size=keys[rel],
                     sidecar_bytes=sidecars.get(wanted[rel])) for rel, kind in found]
