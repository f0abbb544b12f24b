"""The catalogue: what the archive holds, read through its run manifests.

Layout under OUT_DIR::

    articles/<run_id>-<shard>.parquet   canonical records      (ARTICLES_SCHEMA)
    duplicates/<run_id>-<shard>.parquet pages that duplicate a canonical record (DUPLICATES_SCHEMA)
    rejects/<run_id>-<shard>.parquet    inputs that failed     (REJECTS_SCHEMA)
    snapshots/<run_id>-<shard>.parquet  raw bytes of every input, by content address
    stories/<run_id>.parquet            the stories a run started or extended, as they now stand
    index/signatures/, index/paragraphs/  dedup memory of every canonical record and site paragraph
    index/story_vectors/                story memory: each canonical record's vector and paragraphs
    runs/<run_id>.json                  one manifest per published run
    _staging/<run_id>/                  work in progress; never read as part of the archive

A file that no manifest lists belongs to a run that never finished publishing: readers read
only the files a manifest lists, which is what makes a run atomic. OUT_DIR is a local folder
or an fsspec URL: every path goes through :class:`thresher.storage.Store`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from thresher.records import PARAGRAPHS_SCHEMA, SCHEMAS, SIGNATURES_SCHEMA, STORY_VECTORS_SCHEMA, within_ranges
from thresher.storage import Store

RECORDS = ("articles", "duplicates", "rejects")  # every page is one row of one of these


DATASETS = RECORDS + ("snapshots", "stories")


# under OUT_DIR/index/: dedup's memory, and the story index (vectors and paragraph hashes)
INDEX = {"signatures": SIGNATURES_SCHEMA, "paragraphs": PARAGRAPHS_SCHEMA, "story_vectors": STORY_VECTORS_SCHEMA}


def published(out_dir: str | os.PathLike) -> dict[str, dict]:
    """Every file of every published run (path relative to OUT_DIR -> its manifest entry).

    A file that no manifest lists belongs to a run that never finished publishing: it is not
    part of the archive, whatever folder it sits in. This is what makes a run atomic.
    """
    files: dict[str, dict] = {}
    for manifest in load_manifests(out_dir):
        for f in manifest["files"]:
            files[f["path"]] = {**f, "run_id": manifest["run_id"]}
    return files


def dataset_paths(out_dir: str | os.PathLike, name: str) -> list[str]:
    """Published files of one dataset, relative to OUT_DIR, in name order (run id, then shard)."""
    return [p for p in sorted(published(out_dir)) if p.startswith(_folder(name))]


def _folder(name: str) -> str:
    """Where a dataset's files sit under OUT_DIR (the dedup index under ``index/``)."""
    return ("index/" if name in INDEX else "") + name + "/"


def read_dataset(out_dir: str | os.PathLike, name: str, columns: list[str] | None = None) -> pa.Table:
    """All published rows of a dataset as one table (empty, with the schema, if none)."""
    with _manifests_read_once(out_dir):
        return _read_files(out_dir, dataset_paths(out_dir, name), name, columns)


def iter_dataset(out_dir: str | os.PathLike, name: str, columns: list[str] | None = None) -> Iterator[pa.Table]:
    """All published rows of a dataset, one file (one shard) at a time: memory bounded by a
    shard, not the archive."""
    with _manifests_read_once(out_dir):
        paths, gone = dataset_paths(out_dir, name), _replaced_in(out_dir, name)
    for path in paths:
        yield _read_files(out_dir, [path], name, columns, gone)


def read_file(out_dir: str | os.PathLike, path: str, name: str, columns: list[str] | None = None) -> pa.Table:
    """One published file of a dataset (``path`` relative to OUT_DIR), read with its schema."""
    return _read_files(out_dir, [path], name, columns)


def replaced(out_dir: str | os.PathLike) -> dict[str, frozenset[str]]:
    """Reject rows that a later run replaced, by file: ``path -> doc_ids``.

    A reject that says nothing about its input (``internal_error``, ``timeout``,
    ``storage_error``: :data:`thresher.records.RETRYABLE`) is retried by the next run, whose
    manifest lists the rows its new rows replace. Files are never rewritten (their sha256 is in
    their manifest); readers leave the replaced rows out, so an input is in one row.
    """
    found: dict[str, set[str]] = {}
    for manifest in load_manifests(out_dir):
        for entry in manifest.get("replaces", []):
            found.setdefault(entry["path"], set()).update(entry["doc_ids"])
    return {path: frozenset(ids) for path, ids in found.items()}


def _replaced_in(out_dir: str | os.PathLike, name: str) -> dict[str, frozenset[str]]:
    return replaced(out_dir) if name == "rejects" else {}


def _read_files(out_dir: str | os.PathLike, files: list[str], name: str, columns: list[str] | None,
                gone: dict[str, frozenset[str]] | None = None) -> pa.Table:
    """Files of one dataset (paths relative to OUT_DIR) as one table, without the rows later
    runs replaced (``gone``, read from the manifests when not given), values held to the
    schema's ranges (:func:`thresher.records.within_ranges`)."""
    schema = SCHEMAS.get(name) or INDEX[name]
    if not files:
        return schema.empty_table() if columns is None else schema.empty_table().select(columns)
    store = Store(out_dir)
    gone = _replaced_in(out_dir, name) if gone is None else gone
    tables = []
    for f in files:
        if f not in gone:
            tables.append(within_ranges(store.read_parquet(f, columns=columns, schema=schema), schema)[0])
            continue
        wanted = columns if columns is None or "doc_id" in columns else [*columns, "doc_id"]
        table = store.read_parquet(f, columns=wanted, schema=schema)
        table = table.filter(pc.invert(pc.is_in(table.column("doc_id"), value_set=pa.array(sorted(gone[f]), pa.string()))))
        tables.append(within_ranges(table if wanted is columns else table.select(columns), schema)[0])
    return pa.concat_tables(tables, promote_options="default")


@dataclass(frozen=True)
class Damage:
    """A published file a reader could not use, and why: what ``audit`` and ``export`` report
    before going on with the rest of the archive."""

    path: str
    why: str

    def __str__(self) -> str:
        return f"{self.path}: {self.why}"


def iter_intact(out_dir: str | os.PathLike, name: str, columns: list[str] | None = None,
                damaged: list[Damage] | None = None) -> Iterator[tuple[str, pa.Table]]:
    """The published files of a dataset that are intact, as ``(path, table)``, one at a time.

    Each file is read once, whole, and its bytes checked against the sha256 its manifest
    lists before they are parsed: a changed file is not read at all (a flipped byte can make
    a Parquet reader crash, or worse, read a wrong value quietly). A missing, changed or
    unparseable file goes into ``damaged`` and the others are still read."""
    store = Store(out_dir)
    files, gone = published(out_dir), _replaced_in(out_dir, name)
    for path in dataset_paths(out_dir, name):
        table = _read_intact(store, path, files[path], name, columns, damaged, gone)
        if table is not None:
            yield path, table


def _read_intact(store: Store, path: str, entry: dict, name: str, columns: list[str] | None,
                 damaged: list[Damage] | None, gone: dict[str, frozenset[str]]) -> pa.Table | None:
    """One published file, read once and checked against its manifest ``entry``, without the
    rows later runs replaced (``gone``); None (and a :class:`Damage`) when it is missing,
    changed or unreadable."""
    import pyarrow.parquet as pq

    from thresher.records import sha256_hex

    schema = SCHEMAS.get(name) or INDEX[name]
    try:
        data = store.read_bytes(path)
    except OSError as exc:
        _damage(damaged, path, f"listed by run {entry['run_id']} but unreadable ({type(exc).__name__})")
        return None
    if sha256_hex(data) != entry["sha256"]:
        _damage(damaged, path, f"changed since run {entry['run_id']} published it (sha256 differs); not read")
        return None
    wanted = columns if columns is None or "doc_id" in columns or path not in gone else [*columns, "doc_id"]
    try:
        table = pq.read_table(pa.BufferReader(data), columns=wanted, schema=schema)
        if path in gone:
            table = table.filter(pc.invert(pc.is_in(table.column("doc_id"), value_set=pa.array(sorted(gone[path]), pa.string()))))
            table = table if wanted is columns else table.select(columns)
    except (pa.ArrowException, OSError, ValueError) as exc:
        _damage(damaged, path, f"not readable as {name} ({type(exc).__name__}: {str(exc)[:120]})")
        return None
    return within_ranges(table, schema)[0]


def _damage(damaged: list[Damage] | None, path: str, why: str) -> None:
    if damaged is not None:
        damaged.append(Damage(path, why))


def iter_run(out_dir: str | os.PathLike, manifest: dict, name: str, columns: list[str] | None = None,
             damaged: list[Damage] | None = None) -> Iterator[pa.Table]:
    """The rows one published run wrote into a dataset (its manifest lists the files), one
    file (one shard) at a time: memory bounded by a shard, not a run. With ``damaged`` (a
    list), each file is checked against its sha256 first and a damaged one is skipped and
    listed there (see :func:`iter_intact`)."""
    store = Store(out_dir)
    gone = _replaced_in(out_dir, name) if damaged is not None else {}
    for f in manifest["files"]:
        if f["path"].startswith(_folder(name)):
            if damaged is None:
                yield read_file(out_dir, f["path"], name, columns)
                continue
            table = _read_intact(store, f["path"], {**f, "run_id": manifest["run_id"]}, name, columns, damaged, gone)
            if table is not None:
                yield table


_MANIFESTS: dict[str, list[dict]] = {}  # OUT_DIR -> its manifests, inside _manifests_read_once


@contextmanager
def _manifests_read_once(out_dir: str | os.PathLike) -> Iterator[None]:
    """Within the block, :func:`load_manifests` of ``out_dir`` reads the manifests once. Only
    for reads that belong together (nothing publishes in between); everywhere else, every call
    reads them afresh, so ``verify`` always sees the manifests as they are on disk."""
    key = str(out_dir)
    if key in _MANIFESTS:  # nested
        yield
        return
    _MANIFESTS[key] = load_manifests(out_dir)
    try:
        yield
    finally:
        del _MANIFESTS[key]


def load_manifests(out_dir: str | os.PathLike) -> list[dict]:
    """Published run manifests in the order they were published (by finish time: run ids start
    with the second a run started, so two runs in one second would not sort by id)."""
    if str(out_dir) in _MANIFESTS:
        return _MANIFESTS[str(out_dir)]
    out = Store(out_dir)
    manifests = [json.loads(data.decode("utf-8")) for data in out.read_all(out.files("runs", ".json"))]
    return sorted(manifests, key=lambda m: (m.get("finished_at") or "", m["run_id"]))
