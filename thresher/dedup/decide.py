"""A run's dedup decisions, as tables: the run's signatures against the archive's, and the
articles split into canonical rows and duplicate rows.

Pure functions on Arrow tables; :mod:`thresher.archive.commit` reads and writes the files.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from thresher.dedup.clusters import cluster
from thresher.dedup.signatures import NUM_PERM
from thresher.records import DUPLICATES_SCHEMA

DECISIONS_SCHEMA = pa.schema(
    [("doc_id", pa.string()), ("duplicate_of", pa.string()), ("similarity", pa.float64()), ("method", pa.string())]
)
Decisions = dict[str, tuple[str, float, str]]  # doc_id -> (duplicate_of, similarity, method)


def signature_matrix(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """(n, NUM_PERM) uint32 signatures and the mask of rows that have one.

    Filled chunk by chunk (a chunk is one staged or indexed file): combining the column first
    made two whole-corpus copies in Arrow memory on top of the result."""
    sigs = np.zeros((table.num_rows, NUM_PERM), dtype=np.uint32)
    signed = np.zeros(table.num_rows, dtype=bool)
    start = 0
    for chunk in table.column("signature").chunks:
        valid = np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        end = start + len(chunk)
        signed[start:end] = valid
        if valid.any():
            values = pc.list_flatten(chunk.filter(pa.array(valid))).to_numpy()
            sigs[start:end][valid] = values.reshape(-1, NUM_PERM)
        start = end
    return sigs, signed


def decide(archived: pa.Table, new: pa.Table) -> tuple[pa.Table, dict]:
    """Which of the run's articles (``new`` signatures) duplicate another, among themselves and
    against the archive's canonical records (``archived``); archived records never move.
    Returns the decisions table and counts for the run log."""
    both = pa.concat_tables([archived, new])
    sigs, signed = signature_matrix(both)
    decisions = cluster(
        both.column("doc_id").to_pylist(),
        both.column("text_hash").to_pylist(),
        sigs,
        signed,
        [True] * archived.num_rows + [False] * new.num_rows,
        both.column("fetched_at").to_pylist(),
        both.column("n_chars").to_pylist(),
        both.column("source_path").to_pylist(),
    )
    table = pa.Table.from_pylist([d.__dict__ for d in decisions], schema=DECISIONS_SCHEMA)
    methods = Counter(d.method for d in decisions)
    return table, {"compared": both.num_rows, "new": new.num_rows, "duplicates": len(decisions), "methods": dict(methods)}


def as_lookup(decisions: pa.Table) -> Decisions:
    """The decisions table as ``doc_id -> (duplicate_of, similarity, method)``."""
    return {d["doc_id"]: (d["duplicate_of"], d["similarity"], d["method"]) for d in decisions.to_pylist()}


def is_duplicate(table: pa.Table, decisions: Decisions) -> pa.ChunkedArray:
    """True for the rows whose doc_id dedup decided is a duplicate."""
    return pc.is_in(table.column("doc_id"), value_set=pa.array(list(decisions), pa.string()))


def split_articles(table: pa.Table, decisions: Decisions) -> tuple[pa.Table, pa.Table]:
    """Articles cut into canonical rows and duplicate rows (with their link to the canonical)."""
    dup = is_duplicate(table, decisions)
    canon = table.filter(pc.invert(dup))
    dups = table.filter(dup)
    links = [decisions[i] for i in dups.column("doc_id").to_pylist()]
    dups = dups.append_column(DUPLICATES_SCHEMA.field("duplicate_of"), pa.array([l[0] for l in links], pa.string()))
    dups = dups.append_column(DUPLICATES_SCHEMA.field("similarity"), pa.array([l[1] for l in links], pa.float64()))
    dups = dups.append_column(DUPLICATES_SCHEMA.field("method"), pa.array([l[2] for l in links], pa.string()))
    return canon, dups.cast(DUPLICATES_SCHEMA)
