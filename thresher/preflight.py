"""Checks a run makes before any work: the folders make sense together, OUT_DIR can be written.

An operator's mistake (OUT_DIR inside RAW_DIR, so a run would archive its own output; OUT_DIR
a file; an OUT_DIR that cannot be written; an empty RAW_DIR) must cost one clear line before
any work, never a traceback after all of it. ``thresher run`` calls :func:`check_locations`
before it starts anything; :func:`thresher.run.begin_run` calls it too (library users, the
flow), then :func:`check_room` once it holds the archive's lock.
"""

from __future__ import annotations

import os
import resource
import shutil
import uuid
from pathlib import Path

from thresher.sources.discover import input_format
from thresher.storage import Store, is_remote

MIN_ROOM = 64 << 20  # bytes: with less room than this on OUT_DIR's disk, a run cannot finish


class UsageError(ValueError):
    """The run cannot start as asked (an operator's error, or no room to write): one line, exit 2."""


class StorageFull(UsageError):
    """OUT_DIR's disk (or the process's file size limit) leaves no room for a run."""


def _key(location: str) -> str:
    """A location as a comparable path: resolved (links, ``..``) locally, protocol and key on a store."""
    if is_remote(location):
        store = Store(location)
        return f"{store.fs.protocol if isinstance(store.fs.protocol, str) else store.fs.protocol[0]}://{store.root}"
    return os.path.realpath(location)


def _inside(child: str, parent: str) -> bool:
    return child == parent or child.startswith(parent.rstrip("/") + "/")


def check_locations(raw_dir: str | os.PathLike, out_dir: str | os.PathLike) -> None:
    """Raise :class:`UsageError` unless RAW_DIR and OUT_DIR can be used together: apart (neither
    inside the other), RAW_DIR a folder, OUT_DIR a folder or absent, and OUT_DIR writable."""
    raw, out = os.fspath(raw_dir), os.fspath(out_dir)
    raw_key, out_key = _key(raw), _key(out)
    if _inside(out_key, raw_key):
        raise UsageError(f"OUT_DIR {out} is inside RAW_DIR {raw}: a run would archive its own output; "
                         f"put the archive beside the raw folder")
    if _inside(raw_key, out_key):
        raise UsageError(f"RAW_DIR {raw} is inside OUT_DIR {out}: the archive's folder is not a raw folder")
    if is_remote(out):
        return
    if not is_remote(raw) and not os.path.isdir(raw):
        raise UsageError(f"RAW_DIR {raw} is not a folder")
    if os.path.lexists(out) and not os.path.isdir(out):
        raise UsageError(f"OUT_DIR {out} exists and is not a folder")
    probe = Path(out) / f".thresher-probe-{uuid.uuid4().hex[:8]}"
    try:
        os.makedirs(out, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"OUT_DIR {out} cannot be written: {exc.strerror or exc}") from None


def check_room(out_dir: str | os.PathLike, need: int | None = None) -> None:
    """Raise :class:`StorageFull` when OUT_DIR's disk has less than ``need`` bytes free, or the
    process may not write files that large (``ulimit -f``): such a run would fail at its
    first large write, after the work. Object stores have no such limit to ask."""
    if is_remote(out_dir):
        return
    need = MIN_ROOM if need is None else need
    free = shutil.disk_usage(out_dir).free
    if free < need:
        raise StorageFull(f"OUT_DIR {out_dir} has {free:,} bytes free; a run needs at least {need:,}")
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY and soft < need:
        raise StorageFull(f"this process may not write files over {soft:,} bytes (ulimit -f); a run needs at least {need:,}")


def has_inputs(raw_dir: str | os.PathLike) -> bool:
    """Whether a local RAW_DIR holds at least one input file (stops at the first); True for a URL
    (a listing there costs what discovery costs: discovery says it instead)."""
    if is_remote(raw_dir):
        return True
    for _, dirnames, filenames in os.walk(raw_dir):
        if any(input_format(name) for name in filenames):
            return True
        dirnames.sort()
    return False


def empty_message(raw_dir: str | os.PathLike) -> str:
    return (f"RAW_DIR {raw_dir} holds no input files (.txt, .html, .htm, each maybe .gz, .warc, .warc.gz): "
            f"nothing to archive")
