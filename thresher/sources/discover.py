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
from stat import S_ISDIR, S_ISLNK, S_ISREG

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
    # (device, inode) of the regular file discovery found (through a link inside RAW_DIR when
    # ``link``): reading opens the path once and refuses anything else found there by then.
    ident: tuple[int, int] | None = None
    link: bool = False  # a symbolic link inside RAW_DIR, followed (only then) when read


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


MAX_SIDECAR_BYTES = 64 << 20  # a sidecar is a few fields of JSON: a bound on memory, not a rule on content


def read_sidecar_bytes(path: Path) -> bytes | None:
    """The bytes of a page's sidecar file, or None when it has none (or it cannot be read).

    Opened once without following a link, and only if it is a regular file of at most
    :data:`MAX_SIDECAR_BYTES`: its bytes are snapshotted into the archive, so a sidecar
    swapped for a link to ``/etc/passwd`` (or a FIFO, which would block) must not be read."""
    side = sidecar_path(path)
    try:
        fd = os.open(side, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:  # ELOOP: a link; EACCES: permissions
        log.warning("ignoring unreadable sidecar %s: %s", side, exc.strerror or exc)
        return None
    try:
        st = os.fstat(fd)
        if not S_ISREG(st.st_mode) or st.st_size > MAX_SIDECAR_BYTES:
            if not S_ISDIR(st.st_mode):
                log.warning("ignoring sidecar %s: not a regular file of at most %d bytes", side, MAX_SIDECAR_BYTES)
            return None
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read(MAX_SIDECAR_BYTES + 1)[:MAX_SIDECAR_BYTES]
    except OSError as exc:
        log.warning("ignoring unreadable sidecar %s: %s", side, exc.strerror or exc)
        return None
    finally:
        os.close(fd)


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
    files. Each input's (device, inode) is recorded (``lstat``, or the target's for a link
    inside ``raw_dir``) so that reading, later, opens that file or rejects the input: a path
    swapped for a link after discovery is never followed. ``raw_dir`` may be a URL (``s3://bucket/raw``): see :func:`_discover_remote`.
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
            st = _stat(path, follow=False)
            link = st is not None and S_ISLNK(st.st_mode)
            if link:
                try:
                    outside = not path.resolve().is_relative_to(root)
                except (OSError, RuntimeError):  # a link loop: reading it will say so
                    outside = False
                if outside:
                    log.warning("not following %s: symbolic link out of the raw folder", path)
                    refused = "symbolic link pointing out of RAW_DIR (not followed)"
                st = None if refused else _stat(path, follow=True)
            ident = (st.st_dev, st.st_ino) if st is not None and S_ISREG(st.st_mode) else None
            side = None if refused else read_sidecar_bytes(path)
            found.append(RawInput(rel, kind, parse_sidecar(side, sidecar_path(path)), refused,
                                  None if st is None else st.st_size, side, ident, link))
    return sorted(found, key=lambda item: item.source_path)


def _stat(path: Path, follow: bool) -> os.stat_result | None:
    try:
        return os.stat(path, follow_symlinks=follow)
    except OSError:  # vanished, a dangling link, a loop: reading it will say why
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
