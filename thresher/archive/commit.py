"""Committing a run: staging, recovery of interrupted runs, dedup decisions, publish.

A run writes only into its staging folder. Publishing moves the finished files into the
datasets and writes the manifest last, so a reader (and ``verify``) can tell a published run
from an interrupted one: a run without a manifest never happened. On object storage the
contract needs no atomic rename of data files, only an atomic manifest write, which a single
PUT gives.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from thresher.archive.catalogue import DATASETS, INDEX, _folder, published, read_dataset
from thresher.dedup import decide as dedup_decide
from thresher.provenance import RunContext, code_record
from thresher.records import SCHEMAS, SIGNATURES_SCHEMA
from thresher.storage import Store

def _staging(run_id: str) -> str:
    return f"_staging/{run_id}"


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


def stage_shard(out_dir: str | os.PathLike, run_id: str, summary: dict, tables: dict[str, pa.Table]) -> dict:
    """Write one shard's tables into the run's staging folder; return its ``summary`` (the
    counts the manifest adds up, with ``shard`` its index) with the files it wrote."""
    out, stage = Store(out_dir), _staging(run_id)
    files = []
    for name, table in tables.items():
        if table.num_rows == 0:
            continue
        file_name = f"{run_id}-{summary['shard']:05d}.parquet"
        out.write_parquet(table, f"{stage}/{name}/{file_name}", compression="zstd")
        files.append({"dataset": name, "name": file_name, "rows": table.num_rows})
    return {**summary, "written": files}


def deduplicate(out_dir: str | os.PathLike, run_id: str) -> dict:
    """Find this run's duplicates among its own articles and against the whole archive.

    Reads only signatures (the run's staged ones and the archive's index), never texts, and
    writes the decisions into staging for :func:`publish` to apply. Returns counts.
    """
    out, stage = Store(out_dir), _staging(run_id)
    new_files = out.files(f"{stage}/signatures", ".parquet")
    new = (pa.concat_tables(out.read_parquet(f, schema=SIGNATURES_SCHEMA) for f in new_files) if new_files
           else SIGNATURES_SCHEMA.empty_table())
    table, counts = dedup_decide.decide(read_dataset(out_dir, "signatures"), new)
    out.write_parquet(table, f"{stage}/decisions.parquet")
    return counts


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
    decided = out.read_parquet(f"{stage}/decisions.parquet") if out.isfile(f"{stage}/decisions.parquet") else dedup_decide.DECISIONS_SCHEMA.empty_table()
    decisions = dedup_decide.as_lookup(decided)
    # Articles found to be duplicates move to duplicates/; only canonical signatures join the
    # index, so later runs compare against canonical records.
    for s in shards:
        for f in s["written"]:
            src = f"{stage}/{f['dataset']}/{f['name']}"
            if f["dataset"] == "articles":
                canon, dups = dedup_decide.split_articles(out.read_parquet(src, schema=SCHEMAS["articles"]), decisions)
                out.write_parquet(canon, src, compression="zstd")
                f["rows"] = canon.num_rows
                if dups.num_rows:
                    out.write_parquet(dups, f"{stage}/duplicates/{f['name']}", compression="zstd")
                    s["written"].append({"dataset": "duplicates", "name": f["name"], "rows": dups.num_rows})
            elif f["dataset"] == "signatures":
                sig = out.read_parquet(src, schema=SIGNATURES_SCHEMA)
                sig = sig.filter(pc.invert(dedup_decide.is_duplicate(sig, decisions)))
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
        **code_record(ctx),
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
