"""The archive's memory: what a new run must know of what is already archived.

Doc ids to skip and the raw snapshots already stored, read from the published datasets, loaded
once per worker process and run; and, for the run-wide dedup step only, the stories per site in
which a paragraph was seen (template paragraphs).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from thresher.archive.catalogue import RECORDS, _manifests_read_once, dataset_paths, read_dataset, read_file, replaced
from thresher.records import RETRYABLE
from thresher.storage import Store

def known_doc_ids(out_dir: str | os.PathLike) -> frozenset[str]:
    """Every doc_id already archived, in any dataset: the inputs a new run can skip. Rejects
    that say nothing about their input (:data:`~thresher.records.RETRYABLE`) are not known:
    the next run tries those inputs again."""
    ids: set[str] = set()
    for name in RECORDS:
        if name == "rejects":
            table = read_dataset(out_dir, name, ["doc_id", "reason"])
            retry = pc.is_in(table.column("reason"), value_set=pa.array(sorted(RETRYABLE), pa.string()))
            ids.update(table.filter(pc.invert(retry)).column("doc_id").to_pylist())
        else:
            ids.update(read_dataset(out_dir, name, ["doc_id"]).column("doc_id").to_pylist())
    return frozenset(ids)


def retryable_rejects(out_dir: str | os.PathLike) -> dict[str, tuple[tuple[str, str], ...]]:
    """The rejects a new run retries, by input: ``source_path -> ((file, doc_id), ...)``. The
    run that reads such an input again replaces them all with the rows it makes of it (see
    :func:`thresher.archive.replaced`). Only ``reason`` and ids are read, never texts."""
    found: dict[str, list[tuple[str, str]]] = {}
    with _manifests_read_once(out_dir):
        gone = replaced(out_dir)
        for path in dataset_paths(out_dir, "rejects"):
            table = read_file(out_dir, path, "rejects", ["doc_id", "source_path", "reason"])
            retry = table.filter(pc.is_in(table.column("reason"), value_set=pa.array(sorted(RETRYABLE), pa.string())))
            for doc_id, source in zip(retry.column("doc_id").to_pylist(), retry.column("source_path").to_pylist()):
                if doc_id not in gone.get(path, ()):
                    found.setdefault(source, []).append((path, doc_id))
    return {source: tuple(rows) for source, rows in found.items()}


Memory = tuple[frozenset[str], frozenset[str]]


def archive_memory(out_dir: str | os.PathLike) -> Memory:
    """What a shard needs to know of the archive: doc_ids to skip and the raw snapshots already
    stored. Four datasets are read with the manifests loaded once (on object storage, one GET
    per published run instead of four)."""
    with _manifests_read_once(out_dir):
        return known_doc_ids(out_dir), known_snapshots(out_dir)


def published_runs(out_dir: str | os.PathLike) -> tuple[str, ...]:
    """The manifests of the published runs, by name: a listing, no reads. Published files
    never change, so the archive's memory is a function of this tuple alone."""
    return tuple(Store(out_dir).files("runs", ".json"))


@functools.lru_cache(maxsize=1)
def _memory_of(out_dir: str, runs: tuple[str, ...]) -> Memory:
    return archive_memory(out_dir) if runs else (frozenset(), frozenset())


def forget_memory() -> None:
    """Drop this process's cached archive memory (see :func:`memory_at`)."""
    _memory_of.cache_clear()


def memory_at(out_dir: str | os.PathLike, runs: tuple[str, ...]) -> Memory:
    """The archive's memory as of the published ``runs`` (see :func:`published_runs`), loaded
    once per process and run.

    Shard tasks get the runs, not the memory: on a large archive the memory is millions of ids
    and snapshot hashes, which the orchestrator would otherwise pickle into every task (and
    Prefect walk through, item by item, looking for futures). Each worker process reads it
    from OUT_DIR on its first shard instead, and keeps it for the next. A run whose archive
    has changed since it started (a second writer, which thresher does not support) fails
    here instead of skipping by the wrong memory.
    """
    now = published_runs(out_dir)
    if now != tuple(runs):
        raise RuntimeError(f"{out_dir}: runs were published while this run was working "
                           f"({len(runs)} at its start, {len(now)} now); one writer at a time")
    return _memory_of(str(out_dir), tuple(runs))


def known_snapshots(out_dir: str | os.PathLike) -> frozenset[str]:
    """sha256 of every raw snapshot already stored: bytes seen before are not stored again."""
    return frozenset(read_dataset(out_dir, "snapshots", ["raw_sha256"]).column("raw_sha256").to_pylist())


def known_paragraph_counts(out_dir: str | os.PathLike, hashes: Iterable[int] | None = None) -> dict[tuple[str, int], int]:
    """Distinct stories per (site, paragraph hash) over all published runs: the memory of the
    template stage. With ``hashes``, only those paragraphs are read (a run needs the counts of
    the paragraphs it holds, not of the whole archive), one index file at a time."""
    wanted = None if hashes is None else pa.array(sorted(set(hashes)), pa.int64())
    parts = []
    for path in dataset_paths(out_dir, "paragraphs"):
        table = read_file(out_dir, path, "paragraphs")
        if wanted is not None:
            table = table.filter(pc.is_in(table.column("paragraph_hash"), value_set=wanted))
        if table.num_rows:
            parts.append(table)
    if not parts:
        return {}
    summed = pa.concat_tables(parts).group_by(["site", "paragraph_hash"]).aggregate([("stories", "sum")])
    return dict(zip(zip(summed.column("site").to_pylist(), summed.column("paragraph_hash").to_pylist()),
                    summed.column("stories_sum").to_pylist()))
