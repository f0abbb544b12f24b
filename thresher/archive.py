"""The archive on disk: Parquet datasets, staging, publish, run manifests.

Layout under OUT_DIR::

    articles/<run_id>-<shard>.parquet   canonical records      (ARTICLES_SCHEMA)
    duplicates/<run_id>-<shard>.parquet pages that duplicate a canonical record (DUPLICATES_SCHEMA)
    rejects/<run_id>-<shard>.parquet    inputs that failed     (REJECTS_SCHEMA)
    index/signatures/, index/paragraphs/  dedup memory of every canonical record and site paragraph
    runs/<run_id>.json                  one manifest per published run
    _staging/<run_id>/                  work in progress; never read as part of the archive

A run writes only into its staging folder. Publishing moves the finished files into the
datasets and writes the manifest last, so a reader (and ``verify``) can tell a published run
from an interrupted one: a run without a manifest never happened.

OUT_DIR is a local folder or an fsspec URL (``s3://bucket/clean``): every path here goes
through :class:`thresher.storage.Store`. The contract above needs no atomic rename of data
files, only an atomic manifest write, which an object store's single PUT gives.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import posixpath
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from thresher import __version__
from thresher.pipeline import RunContext, ShardResult
from thresher import dedup
from thresher.records import PARAGRAPHS_SCHEMA, SCHEMAS, SIGNATURES_SCHEMA
from thresher.storage import Store, is_remote

RECORDS = ("articles", "duplicates", "rejects")  # every page is one row of one of these
DATASETS = RECORDS + ("snapshots",)
INDEX = {"signatures": SIGNATURES_SCHEMA, "paragraphs": PARAGRAPHS_SCHEMA}  # under OUT_DIR/index/
DECISIONS_SCHEMA = pa.schema(
    [("doc_id", pa.string()), ("duplicate_of", pa.string()), ("similarity", pa.float64()), ("method", pa.string())]
)
LIBRARIES = ("pyarrow", "prefect", "trafilatura", "charset-normalizer", "dateparser", "py3langid")


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes, streamed; ``path`` is local or a URL."""
    if is_remote(path):
        return Store(path).sha256("")
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def staging_dir(out_dir: str | os.PathLike, run_id: str) -> Path | str:
    """The run's staging folder: a local path, or a URL when OUT_DIR is one."""
    return Store(out_dir).url(_staging(run_id)) if is_remote(out_dir) else Path(out_dir) / _staging(run_id)


def _staging(run_id: str) -> str:
    return f"_staging/{run_id}"


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
    return _read_files(out_dir, dataset_paths(out_dir, name), name, columns)


def iter_dataset(out_dir: str | os.PathLike, name: str, columns: list[str] | None = None) -> Iterator[pa.Table]:
    """All published rows of a dataset, one file (one shard) at a time: memory bounded by a
    shard, not the archive."""
    for path in dataset_paths(out_dir, name):
        yield read_file(out_dir, path, name, columns)


def read_file(out_dir: str | os.PathLike, path: str, name: str, columns: list[str] | None = None) -> pa.Table:
    """One published file of a dataset (``path`` relative to OUT_DIR), read with its schema."""
    return _read_files(out_dir, [path], name, columns)


def _read_files(out_dir: str | os.PathLike, files: list[str], name: str, columns: list[str] | None) -> pa.Table:
    """Files of one dataset (paths relative to OUT_DIR) as one table."""
    schema = SCHEMAS.get(name) or INDEX[name]
    if not files:
        return schema.empty_table() if columns is None else schema.empty_table().select(columns)
    store = Store(out_dir)
    return pa.concat_tables(store.read_parquet(f, columns=columns, schema=schema) for f in files)


def iter_run(out_dir: str | os.PathLike, manifest: dict, name: str, columns: list[str] | None = None) -> Iterator[pa.Table]:
    """The rows one published run wrote into a dataset (its manifest lists the files), one
    file (one shard) at a time: memory bounded by a shard, not a run."""
    for f in manifest["files"]:
        if f["path"].startswith(_folder(name)):
            yield read_file(out_dir, f["path"], name, columns)


def known_doc_ids(out_dir: str | os.PathLike) -> frozenset[str]:
    """Every doc_id already archived, in any dataset: the inputs a new run can skip."""
    ids: set[str] = set()
    for name in RECORDS:
        ids.update(read_dataset(out_dir, name, ["doc_id"]).column("doc_id").to_pylist())
    return frozenset(ids)


Memory = tuple[frozenset[str], dict[tuple[str, int], int], frozenset[str]]


def archive_memory(out_dir: str | os.PathLike) -> Memory:
    """What a new run needs to know of the archive: doc_ids to skip, per-site paragraph
    counts, and the raw snapshots already stored. Five datasets are read with the manifests
    loaded once (on object storage, one GET per published run instead of five)."""
    with _manifests_read_once(out_dir):
        return known_doc_ids(out_dir), known_paragraph_counts(out_dir), known_snapshots(out_dir)


def published_runs(out_dir: str | os.PathLike) -> tuple[str, ...]:
    """The manifests of the published runs, by name: a listing, no reads. Published files
    never change, so the archive's memory is a function of this tuple alone."""
    return tuple(Store(out_dir).files("runs", ".json"))


@functools.lru_cache(maxsize=1)
def _memory_of(out_dir: str, runs: tuple[str, ...]) -> Memory:
    return archive_memory(out_dir) if runs else (frozenset(), {}, frozenset())


def forget_memory() -> None:
    """Drop this process's cached archive memory (see :func:`memory_at`)."""
    _memory_of.cache_clear()


def memory_at(out_dir: str | os.PathLike, runs: tuple[str, ...]) -> Memory:
    """The archive's memory as of the published ``runs`` (see :func:`published_runs`), loaded
    once per process and run.

    Shard tasks get the runs, not the memory: on a large archive the memory is millions of ids
    and paragraph counts, which the orchestrator would otherwise pickle into every task (and
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


def recover(out_dir: str | os.PathLike) -> list[str]:
    """Clear what interrupted runs left: staging folders and files no manifest lists.

    Safe because a run publishes its manifest last: without one, nothing it wrote was ever
    part of the archive. Assumes one writer at a time. Returns what was removed.
    """
    out = Store(out_dir)
    removed = []
    for run in out.entries("_staging"):
        out.remove_tree(run)
        removed.append(run)
    out.remove_if_empty("_staging")
    keep = set(published(out_dir))
    for folder in [*DATASETS, *(f"index/{n}" for n in INDEX)]:
        for rel in out.files(folder, ".parquet"):
            if rel not in keep:
                out.remove(rel)
                removed.append(rel)
    for tmp in out.files("runs", ".tmp"):
        if posixpath.basename(tmp).startswith("."):
            out.remove(tmp)
            removed.append(tmp)
    return removed


def known_paragraph_counts(out_dir: str | os.PathLike) -> dict[tuple[str, int], int]:
    """Pages per (site, paragraph hash) over all published runs: memory for repeated paragraphs."""
    table = read_dataset(out_dir, "paragraphs")
    if table.num_rows == 0:
        return {}
    summed = table.group_by(["site", "paragraph_hash"]).aggregate([("pages", "sum")])
    return dict(zip(zip(summed.column("site").to_pylist(), summed.column("paragraph_hash").to_pylist()),
                    summed.column("pages_sum").to_pylist()))


def stage_shard(out_dir: str | os.PathLike, run_id: str, shard: int, result: ShardResult) -> dict:
    """Write one shard's rows into the run's staging folder; return its summary for the manifest."""
    out, stage = Store(out_dir), _staging(run_id)
    files = []
    for name, table in result.tables().items():
        if table.num_rows == 0:
            continue
        file_name = f"{run_id}-{shard:05d}.parquet"
        out.write_parquet(table, f"{stage}/{name}/{file_name}", compression="zstd")
        files.append({"dataset": name, "name": file_name, "rows": table.num_rows})
    return {
        "shard": shard,
        "files": result.files,
        "inputs": result.inputs,
        "articles": len(result.articles),
        "rejects": len(result.rejects),
        "skipped": result.skipped,
        "removed_per_rule": dict(result.removed_per_rule),
        "rejects_per_reason": dict(result.rejects_per_reason),
        "written": files,
        "error": result.error,
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for lib in LIBRARIES:
        try:
            found[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            found[lib] = None
    return found


def _signatures(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """(n, NUM_PERM) uint32 signatures and the mask of rows that have one.

    Filled chunk by chunk (a chunk is one staged or indexed file): combining the column first
    made two whole-corpus copies in Arrow memory on top of the result."""
    sigs = np.zeros((table.num_rows, dedup.NUM_PERM), dtype=np.uint32)
    signed = np.zeros(table.num_rows, dtype=bool)
    start = 0
    for chunk in table.column("signature").chunks:
        valid = np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        end = start + len(chunk)
        signed[start:end] = valid
        if valid.any():
            values = pc.list_flatten(chunk.filter(pa.array(valid))).to_numpy()
            sigs[start:end][valid] = values.reshape(-1, dedup.NUM_PERM)
        start = end
    return sigs, signed


def deduplicate(out_dir: str | os.PathLike, run_id: str) -> dict:
    """Find this run's duplicates among its own articles and against the whole archive.

    Reads only signatures (the run's staged ones and the archive's index), never texts, and
    writes the decisions into staging for :func:`publish` to apply. Returns counts.
    """
    out, stage = Store(out_dir), _staging(run_id)
    new_files = out.files(f"{stage}/signatures", ".parquet")
    new = pa.concat_tables(out.read_parquet(f, schema=SIGNATURES_SCHEMA) for f in new_files) if new_files else SIGNATURES_SCHEMA.empty_table()
    old = read_dataset(out_dir, "signatures")
    both = pa.concat_tables([old, new])
    sigs, signed = _signatures(both)
    archived = [True] * old.num_rows + [False] * new.num_rows
    decisions = dedup.cluster(
        both.column("doc_id").to_pylist(),
        both.column("text_hash").to_pylist(),
        sigs,
        signed,
        archived,
        both.column("fetched_at").to_pylist(),
        both.column("n_chars").to_pylist(),
        both.column("source_path").to_pylist(),
    )
    table = pa.Table.from_pylist([d.__dict__ for d in decisions], schema=DECISIONS_SCHEMA)
    out.write_parquet(table, f"{stage}/decisions.parquet")
    methods = Counter(d.method for d in decisions)
    return {"compared": both.num_rows, "new": new.num_rows, "duplicates": len(decisions), "methods": dict(methods)}


def _is_duplicate(table: pa.Table, decisions: dict) -> pa.ChunkedArray:
    """True for the rows whose doc_id dedup decided is a duplicate."""
    return pc.is_in(table.column("doc_id"), value_set=pa.array(list(decisions), pa.string()))


def _split_articles(out: Store, path: str, decisions: dict[str, tuple[str, float, str]]) -> tuple[pa.Table, pa.Table]:
    """A staged articles file cut into canonical rows and duplicate rows (with their link)."""
    table = out.read_parquet(path, schema=SCHEMAS["articles"])
    is_dup = _is_duplicate(table, decisions)
    canon = table.filter(pc.invert(is_dup))
    dups = table.filter(is_dup)
    links = [decisions[i] for i in dups.column("doc_id").to_pylist()]
    dups = dups.append_column(SCHEMAS["duplicates"].field("duplicate_of"), pa.array([l[0] for l in links], pa.string()))
    dups = dups.append_column(SCHEMAS["duplicates"].field("similarity"), pa.array([l[1] for l in links], pa.float64()))
    dups = dups.append_column(SCHEMAS["duplicates"].field("method"), pa.array([l[2] for l in links], pa.string()))
    return canon, dups.cast(SCHEMAS["duplicates"])


class AccountingError(RuntimeError):
    """Pages seen do not equal articles + rejects + skipped, or a discovered file was not
    processed: a bug, never published."""


def publish(
    out_dir: str | os.PathLike,
    ctx: RunContext,
    raw_dir: str,
    files_seen: int,
    shards: list[dict],
    finished_at: str,
    recovered: list[str] | None = None,
) -> dict:
    """Move a run's staged files into the datasets and write its manifest (last).

    Refuses to publish when the accounting does not hold, so a run that lost a page fails
    loudly instead of archiving a hole.
    """
    out = Store(out_dir)
    totals = Counter()
    rules: Counter = Counter()
    reasons: Counter = Counter()
    for s in shards:
        totals.update({k: s[k] for k in ("files", "inputs", "articles", "rejects", "skipped")})
        rules.update(s["removed_per_rule"])
        reasons.update(s["rejects_per_reason"])
    if totals["files"] != files_seen or totals["inputs"] != totals["articles"] + totals["rejects"] + totals["skipped"]:
        raise AccountingError(f"{files_seen} input files discovered, shards account for {dict(totals)}")
    stage = _staging(ctx.run_id)
    decided = out.read_parquet(f"{stage}/decisions.parquet") if out.isfile(f"{stage}/decisions.parquet") else DECISIONS_SCHEMA.empty_table()
    decisions = {
        d["doc_id"]: (d["duplicate_of"], d["similarity"], d["method"]) for d in decided.to_pylist()
    }
    # Articles found to be duplicates move to duplicates/; only canonical signatures join the
    # index, so later runs compare against canonical records.
    for s in shards:
        for f in s["written"]:
            src = f"{stage}/{f['dataset']}/{f['name']}"
            if f["dataset"] == "articles":
                canon, dups = _split_articles(out, src, decisions)
                out.write_parquet(canon, src, compression="zstd")
                f["rows"] = canon.num_rows
                if dups.num_rows:
                    out.write_parquet(dups, f"{stage}/duplicates/{f['name']}", compression="zstd")
                    s["written"].append({"dataset": "duplicates", "name": f["name"], "rows": dups.num_rows})
            elif f["dataset"] == "signatures":
                sig = out.read_parquet(src, schema=SIGNATURES_SCHEMA)
                sig = sig.filter(pc.invert(_is_duplicate(sig, decisions)))
                out.write_parquet(sig, src, compression="zstd")
                f["rows"] = sig.num_rows
    files = []
    for s in shards:
        for f in s["written"]:
            if not f["rows"]:
                continue
            src = f"{stage}/{f['dataset']}/{f['name']}"
            rel = _folder(f["dataset"]) + f["name"]
            files.append({"path": rel, "rows": f["rows"], "sha256": out.sha256(src)})
            out.move(src, rel)
    manifest = {
        "run_id": ctx.run_id,
        "started_at": ctx.processed_at.isoformat(),
        "finished_at": finished_at,
        "raw_dir": str(raw_dir),
        "flow_run_id": ctx.flow_run_id,
        "thresher_version": __version__,
        "git_commit": _git_commit(),
        "libraries": _versions(),
        "config": ctx.config.as_dict(),
        "config_sha256": ctx.config.sha256,
        "inputs": {
            "files": files_seen,
            "seen": totals["inputs"],
            "new": totals["inputs"] - totals["skipped"],
            "skipped": totals["skipped"],
        },
        "counts": {
            "articles": totals["articles"] - len(decisions),
            "duplicates": len(decisions),
            "rejects": totals["rejects"],
        },
        "duplicates_by_method": dict(sorted(Counter(d[2] for d in decisions.values()).items())),
        "removed_per_rule": dict(sorted(rules.items())),
        "rejects_per_reason": dict(sorted(reasons.items())),
        "files": files,
        "recovered_from_interrupted_runs": recovered or [],
        "shard_errors": [{"shard": s["shard"], "traceback": s["error"]} for s in shards if s.get("error")],
    }
    # The commit point: a temporary file renamed into place locally, one PUT on object storage.
    out.write_atomic(f"runs/{ctx.run_id}.json", (json.dumps(manifest, indent=2, sort_keys=False) + "\n").encode("utf-8"))
    out.remove_tree(stage)
    out.remove_if_empty("_staging")
    return manifest


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
