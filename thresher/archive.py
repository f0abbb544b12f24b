"""The archive on disk: Parquet datasets, staging, publish, run manifests.

Layout under OUT_DIR::

    articles/<run_id>-<shard>.parquet   canonical records      (ARTICLES_SCHEMA)
    rejects/<run_id>-<shard>.parquet    inputs that failed     (REJECTS_SCHEMA)
    runs/<run_id>.json                  one manifest per published run
    _staging/<run_id>/                  work in progress; never read as part of the archive

A run writes only into its staging folder. Publishing moves the finished files into the
datasets and writes the manifest last, so a reader (and ``verify``) can tell a published run
from an interrupted one: a run without a manifest never happened.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections import Counter
from importlib import metadata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from thresher import __version__
from thresher.pipeline import RunContext, ShardResult
from thresher.records import SCHEMAS

DATASETS = ("articles", "rejects")
LIBRARIES = ("pyarrow", "prefect", "trafilatura", "charset-normalizer", "dateparser", "py3langid")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def staging_dir(out_dir: str | os.PathLike, run_id: str) -> Path:
    return Path(out_dir) / "_staging" / run_id


def dataset_files(out_dir: str | os.PathLike, name: str) -> list[Path]:
    """Published Parquet files of one dataset, in name order (run id, then shard)."""
    return sorted((Path(out_dir) / name).glob("*.parquet"))


def read_dataset(out_dir: str | os.PathLike, name: str, columns: list[str] | None = None) -> pa.Table:
    """All published rows of a dataset as one table (empty, with the schema, if none)."""
    schema = SCHEMAS[name]
    files = dataset_files(out_dir, name)
    if not files:
        return schema.empty_table() if columns is None else schema.empty_table().select(columns)
    return pa.concat_tables(pq.read_table(f, columns=columns, schema=schema) for f in files)


def known_doc_ids(out_dir: str | os.PathLike) -> frozenset[str]:
    """Every doc_id already archived, in any dataset: the inputs a new run can skip."""
    ids: set[str] = set()
    for name in DATASETS:
        ids.update(read_dataset(out_dir, name, ["doc_id"]).column("doc_id").to_pylist())
    return frozenset(ids)


def stage_shard(out_dir: str | os.PathLike, run_id: str, shard: int, result: ShardResult) -> dict:
    """Write one shard's rows into the run's staging folder; return its summary for the manifest."""
    stage = staging_dir(out_dir, run_id)
    files = []
    for name, table in zip(DATASETS, result.tables()):
        if table.num_rows == 0:
            continue
        (stage / name).mkdir(parents=True, exist_ok=True)
        path = stage / name / f"{run_id}-{shard:05d}.parquet"
        pq.write_table(table, path, compression="zstd")
        files.append({"dataset": name, "name": path.name, "rows": table.num_rows})
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
) -> dict:
    """Move a run's staged files into the datasets and write its manifest (last).

    Refuses to publish when the accounting does not hold, so a run that lost a page fails
    loudly instead of archiving a hole.
    """
    out = Path(out_dir)
    totals = Counter()
    rules: Counter = Counter()
    reasons: Counter = Counter()
    for s in shards:
        totals.update({k: s[k] for k in ("files", "inputs", "articles", "rejects", "skipped")})
        rules.update(s["removed_per_rule"])
        reasons.update(s["rejects_per_reason"])
    if totals["files"] != files_seen or totals["inputs"] != totals["articles"] + totals["rejects"] + totals["skipped"]:
        raise AccountingError(f"{files_seen} input files discovered, shards account for {dict(totals)}")
    stage = staging_dir(out, ctx.run_id)
    files = []
    for s in shards:
        for f in s["written"]:
            src = stage / f["dataset"] / f["name"]
            dest = out / f["dataset"] / f["name"]
            dest.parent.mkdir(parents=True, exist_ok=True)
            files.append({"path": f"{f['dataset']}/{f['name']}", "rows": f["rows"], "sha256": file_sha256(src)})
            os.replace(src, dest)
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
        "counts": {"articles": totals["articles"], "rejects": totals["rejects"]},
        "removed_per_rule": dict(sorted(rules.items())),
        "rejects_per_reason": dict(sorted(reasons.items())),
        "files": files,
    }
    runs = out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    tmp = runs / f".{ctx.run_id}.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, runs / f"{ctx.run_id}.json")
    shutil.rmtree(stage, ignore_errors=True)
    if stage.parent.is_dir() and not any(stage.parent.iterdir()):
        stage.parent.rmdir()
    return manifest


def load_manifests(out_dir: str | os.PathLike) -> list[dict]:
    """Published run manifests, oldest first."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((Path(out_dir) / "runs").glob("*.json"))]
