"""A run's dedup decisions, as tables: the run's signatures against the archive's (duplicates,
versions, stories), and the articles split into canonical rows and duplicate rows.

Pure functions on Arrow tables; :mod:`thresher.archive.commit` reads and writes the files.
"""

from __future__ import annotations

import bisect
import itertools
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from thresher.dedup.clusters import URL_GROUP_MAX, UnionFind, cluster
from thresher.dedup.versions import assign_versions
from thresher.dedup.signatures import NUM_PERM
from thresher.records import DUPLICATES_SCHEMA

DECISIONS_SCHEMA = pa.schema(
    [("doc_id", pa.string()), ("duplicate_of", pa.string()), ("similarity", pa.float64()), ("method", pa.string())]
)
# Every new canonical article's place in its page's history, and every new article's story
# for the template stage (null when the archive already holds the story).
OUTCOMES_SCHEMA = pa.schema(
    [("doc_id", pa.string()), ("version", pa.int32()), ("version_of", pa.string()), ("story", pa.string())]
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


class ColumnView(Sequence):
    """Rows of an Arrow list column as Python values, converted only when asked for: dedup
    looks at the terms and URLs of the few rows it compares, and the whole column as Python
    lists would cost gigabytes on a large archive."""

    def __init__(self, column: pa.ChunkedArray) -> None:
        self.chunks = column.chunks
        self.starts = list(itertools.accumulate((len(c) for c in self.chunks), initial=0))

    def __len__(self) -> int:
        return self.starts[-1]

    def __getitem__(self, i: int):  # type: ignore[override]
        k = bisect.bisect_right(self.starts, i) - 1
        return self.chunks[k][i - self.starts[k]].as_py()


def arrow_url_groups(urls: pa.ChunkedArray) -> list[list[int]]:
    """:func:`~thresher.dedup.clusters.url_groups`, grouped by Arrow: only the keys shared by
    two rows or more ever become Python values."""
    column = urls.combine_chunks() if urls.num_chunks != 1 else urls.chunk(0)
    if len(column) == 0:
        return []
    flat = pa.table({"key": pc.list_flatten(column), "row": pc.list_parent_indices(column)})
    grouped = flat.group_by("key", use_threads=False).aggregate([("row", "list")])
    sizes = pc.list_value_length(grouped.column("row_list")).to_numpy()
    keep = (sizes > 1) & (sizes <= URL_GROUP_MAX)
    return [sorted(rows) for rows in grouped.column("row_list").filter(pa.array(keep)).to_pylist()]


def _stories(doc_ids: list[str], archived: list[bool], decisions: list, versions: list) -> dict[str, str | None]:
    """Each new article's story for the template stage: copies and versions of one page are one
    story, keyed by its earliest member's doc_id; None when an archived record is in it."""
    index = {d: i for i, d in enumerate(doc_ids)}
    uf = UnionFind(len(doc_ids))
    for d in decisions:
        uf.union(index[d.doc_id], index[d.duplicate_of])
    for v in versions:
        if v.version_of is not None:
            uf.union(index[v.doc_id], index[v.version_of])
    old = {uf.find(i) for i, a in enumerate(archived) if a}
    return {doc_ids[i]: (None if uf.find(i) in old else doc_ids[uf.find(i)]) for i, a in enumerate(archived) if not a}


def decide(archived: pa.Table, new: pa.Table) -> tuple[pa.Table, pa.Table, dict]:
    """Which of the run's articles (``new`` signatures) duplicate another, among themselves and
    against the archive's canonical records (``archived``); archived records never move.
    Returns the decisions table (duplicates), the outcomes table (versions and stories, one
    row per new article) and counts for the run log."""
    both = pa.concat_tables([archived, new])
    sigs, signed = signature_matrix(both)
    doc_ids = both.column("doc_id").to_pylist()
    is_archived = [True] * archived.num_rows + [False] * new.num_rows
    fetched = both.column("fetched_at").to_pylist()
    paths = both.column("source_path").to_pylist()
    urls, groups = ColumnView(both.column("urls")), arrow_url_groups(both.column("urls"))
    decisions = cluster(doc_ids, both.column("text_hash").to_pylist(), sigs, signed, is_archived, fetched,
                        both.column("n_chars").to_pylist(), paths, terms=ColumnView(both.column("terms")), urls=urls,
                        groups=groups)
    versions = assign_versions(doc_ids, urls, is_archived, both.column("version").to_pylist(), fetched, paths,
                               {d.doc_id for d in decisions}, groups)
    stories = _stories(doc_ids, is_archived, decisions, versions)
    by_doc = {v.doc_id: v for v in versions}
    outcomes = pa.Table.from_pylist(
        [{"doc_id": d, "version": by_doc[d].version if d in by_doc else None,
          "version_of": by_doc[d].version_of if d in by_doc else None, "story": stories[d]} for d in sorted(stories)],
        schema=OUTCOMES_SCHEMA)
    table = pa.Table.from_pylist([d.__dict__ for d in decisions], schema=DECISIONS_SCHEMA)
    methods = Counter(d.method for d in decisions)
    counts = {"compared": both.num_rows, "new": new.num_rows, "duplicates": len(decisions), "methods": dict(methods),
              "new_versions": sum(1 for v in versions if v.version_of is not None)}
    return table, outcomes, counts


def as_lookup(decisions: pa.Table) -> Decisions:
    """The decisions table as ``doc_id -> (duplicate_of, similarity, method)``."""
    return {d["doc_id"]: (d["duplicate_of"], d["similarity"], d["method"]) for d in decisions.to_pylist()}


def is_duplicate(table: pa.Table, decisions: Decisions) -> pa.ChunkedArray:
    """True for the rows whose doc_id dedup decided is a duplicate."""
    return pc.is_in(table.column("doc_id"), value_set=pa.array(list(decisions), pa.string()))


def set_versions(table: pa.Table, versions: dict[str, tuple[int, str | None]]) -> pa.Table:
    """Fill ``version`` and ``version_of`` of the rows (articles or signatures) that dedup
    placed in their page's history (``versions``: doc_id -> (version, version_of))."""
    ids = table.column("doc_id").to_pylist()
    for name, k, kind in (("version", 0, pa.int32()), ("version_of", 1, pa.string())):
        if name in table.column_names:
            values = pa.array([versions[d][k] if d in versions else None for d in ids], kind)
            table = table.set_column(table.column_names.index(name), table.schema.field(name), values)
    return table


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
