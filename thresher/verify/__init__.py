"""Prove the archive: ``thresher verify`` checks it end to end, from what the archive holds.

The auditor's question is "has anything changed since it was written, and was it made the way
it says?". In order: the manifests form one chain up to ``runs/HEAD`` (signed with the
operator's key, with ``--key``; still holding a head kept earlier, with ``--expect-head``);
every stored config is there and hashes to its name; every published file matches the sha256
and row count its manifest lists, and each run's accounting holds; every raw snapshot hashes
to its address and is referenced by a record; every timestamp lies in its schema's range;
every record points at its snapshots, carries its run's provenance and, if a duplicate, a
canonical; every record (a sample, or all with ``--all``) is re-derived from its snapshots and
config, column by column (:mod:`.rederive`; what dedup decides across records is covered by the
hashes and the chain, not re-derived); and the search index, when there is one, matches
the articles. Each problem names the run, file, record or column. What this proves and what it
cannot: docs/verify.md.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from thresher import archive
from thresher.archive.chain import check_chain
from thresher.archive.configs import load_config, read_config
from thresher.config import Config
from thresher.provenance import config_sha256
from thresher.records import SCHEMAS, TS_RANGE, sha256_hex, within_ranges
from thresher.storage import Store
from thresher.text import printable
from thresher.verify import rederive
from thresher.verify.stories import verify_stories


@dataclass
class Report:
    """What ``verify`` found. ``ok`` only when there is no error; warnings do not fail it."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    head: dict | None = None  # the chain's newest manifest: what an auditor keeps (--expect-head)
    indexes: dict[str, str] = field(default_factory=dict)  # index -> verified, re-derived, absent, …

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[tuple[str, str | None]]:
        """The report for a terminal, as (line, style): problems, notes, a summary and the
        head to keep. Lines quote scraped values and file names: each is made printable."""
        out = [(f"FAIL {printable(e)}", "red") for e in self.errors]
        out += [(f"warn {printable(w)}", "yellow") for w in self.warnings]
        out += [(f"{name}: {status}", None) for name, status in self.indexes.items()]
        checked = ", ".join(f"{v} {k}" for k, v in self.checked.items())
        out.append((("archive verified: " if self.ok else f"{len(self.errors)} problem(s); checked: ") + checked,
                    "green" if self.ok else "red"))
        if self.head:
            out.append((f"chain head: {self.head['manifest_sha256']} (run {self.head['run_id']}, {self.head['runs']} runs); "
                        "keep it outside the archive and check it later with verify --expect-head HASH", None))
        return out


def _legacy_config(manifest: dict) -> Config | None:
    """The config of a run published before configs were stored, when it is this thresher's
    default (the only one whose patterns are still known), else None."""
    cfg = Config()
    return cfg if manifest.get("config_sha256") == config_sha256(cfg) else None


def _configs(out, manifests: list[dict], report: Report) -> dict[str, Config | None]:
    """Each run's config (None when it cannot be run here), its config store entry checked."""
    configs: dict[str, Config | None] = {}
    stored: dict[str, dict | None] = {}
    for m in manifests:
        sha = m.get("config_sha256")
        if sha not in stored:
            entry, problem = read_config(out, sha)
            stored[sha] = entry
            if problem and "chain" not in m and _legacy_config(m) is not None:
                report.warnings.append(f"run {m['run_id']} predates the config store; its config is this thresher's default")
                configs[sha] = _legacy_config(m)
            elif problem:
                report.errors.append(f"run {m['run_id']}: {problem}")
                configs[sha] = None
            else:
                configs[sha], why = load_config(entry)
                if why:
                    report.warnings.append(f"config {sha[:12]}… (run {m['run_id']}): {why}: its records are not re-derived")
        if stored[sha] is not None and stored[sha]["config"] != m.get("config"):
            report.errors.append(f"run {m['run_id']}: its manifest's config differs from the stored config {sha[:12]}…")
    return {m["run_id"]: configs.get(m.get("config_sha256")) for m in manifests}


def _files(out, manifests: list[dict], report: Report) -> set[str]:
    """Every listed file against its sha256 and rows; each run's accounting. Returns the
    files that failed (missing or changed): the later checks leave them out."""
    store = Store(out)
    damaged: set[str] = set()
    rows_by_run: dict[str, Counter] = {}
    for m in manifests:
        for f in m["files"]:
            if not store.isfile(f["path"]):
                report.errors.append(f"{f['path']}: listed in run {m['run_id']} but missing")
                damaged.add(f["path"])
                continue
            if store.sha256(f["path"]) != f["sha256"]:
                report.errors.append(f"{f['path']}: sha256 differs from run {m['run_id']}'s manifest (file changed)")
                damaged.add(f["path"])
                continue
            if store.parquet_rows(f["path"]) != f["rows"]:
                report.errors.append(f"{f['path']}: row count differs from the manifest")
            rows_by_run.setdefault(m["run_id"], Counter())[f["path"].split("/")[0]] += f["rows"]
    report.checked["files"] = sum(len(m["files"]) for m in manifests)
    for m in manifests:
        c, i = m["counts"], m["inputs"]
        if i["seen"] != c["articles"] + c.get("duplicates", 0) + c["rejects"] + i["skipped"]:
            report.errors.append(f"run {m['run_id']}: inputs seen {i['seen']} != articles + duplicates + rejects + skipped")
        written = rows_by_run.get(m["run_id"], Counter())
        for name in archive.RECORDS:
            if written[name] != c.get(name, 0) and not any(p.startswith(name + "/") for p in damaged):
                report.errors.append(f"run {m['run_id']}: {written[name]} {name} rows in files, manifest says {c.get(name, 0)}")
    report.checked["runs"] = len(manifests)
    return damaged


def out_of_range(out_dir: str | Path, name: str, paths: list[str]) -> list[str]:
    """Each value of a dataset outside its field's range (see ``records.TS_RANGE``), named by
    doc_id and column: a row thresher's door would never have let through."""
    schema = SCHEMAS[name]
    columns = ["doc_id"] + [f.name for f in schema if pa.types.is_timestamp(f.type)]
    problems = []
    store = Store(out_dir)
    for path in paths:
        raw = store.read_parquet(path, columns=columns, schema=pa.schema([schema.field(c) for c in columns]))
        held, counts = within_ranges(raw, schema)
        for column in counts:
            before, after = raw.column(column).is_null().to_pylist(), held.column(column).is_null().to_pylist()
            ids = [i for i, b, a in zip(raw.column("doc_id").to_pylist(), before, after) if a and not b]
            problems += [f"doc {i} ({path}): column {column} holds a time outside {TS_RANGE}" for i in ids]
    return problems


def snapshots_reader(out, where: dict[str, str]):
    """A function from sha256s to their snapshot rows, reading only the files that hold them."""
    import pyarrow.compute as pc

    def read(shas: set[str]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for path in sorted({where[s] for s in shas if s in where}):
            table = archive.read_file(out, path, "snapshots")
            table = table.filter(pc.is_in(table.column("raw_sha256"), value_set=pa.array(sorted(shas), pa.string())))
            found.update((row["raw_sha256"], row) for row in table.to_pylist())
        return found
    return read


def verify(out_dir: str | Path, all_records: bool = False, sample: int = 100, seed: int = 0,
           public_key: str | None = None, expect_head: str | None = None) -> Report:
    """Check the archive (a local folder or a URL); every problem is named (run, file, record
    or column) in ``errors``. ``public_key`` (hex): every run must be signed with it;
    ``expect_head``: a chain head kept earlier must still be on the chain."""
    out = out_dir
    report = Report()
    manifests = archive.load_manifests(out)
    if not manifests:
        report.errors.append(f"{out}: no published run (runs/*.json)")
        return report
    chain = check_chain(out, manifests, public_key, expect_head)
    report.errors += chain.errors
    report.warnings += chain.warnings
    report.head = chain.head
    manifests = chain.order  # the order the runs were published in, as the chain says
    run_configs = _configs(out, manifests, report)
    damaged = _files(out, manifests, report)
    by_run = {m["run_id"]: m for m in manifests}
    files = {p: f for p, f in archive.published(out).items() if p not in damaged}
    paths = {name: [p for p in archive.dataset_paths(out, name) if p in files] for name in archive.DATASETS}
    # raw snapshots against their content address, one file at a time (their addresses kept)
    where: dict[str, str] = {}
    first_seen: dict[str, str] = {}
    for path in paths["snapshots"]:
        table = archive.read_file(out, path, "snapshots", ["raw_sha256", "content", "source_path"])
        for sha, content, source in zip(*(table.column(c).to_pylist() for c in ("raw_sha256", "content", "source_path"))):
            if sha256_hex(content) != sha:
                report.errors.append(f"snapshot {sha[:16]}… (first seen as {source}): content does not hash to its address")
            where[sha] = path
            first_seen[sha] = source
    report.checked["snapshots"] = len(where)
    for name in archive.RECORDS:
        report.errors += out_of_range(out, name, paths[name])
    # records: ids, snapshots, their run's provenance, links (few columns: texts stay on disk)
    seen_ids: set[str] = set()
    referenced: set[str] = set()
    links: list[tuple[str, str]] = []
    canon: set[str] = set()
    cols = ["doc_id", "source_path", "raw_sha256", "context_sha256", "config_sha256", "processed_at", "flow_run_id", "pipeline_version"]
    store = Store(out)
    for name in archive.RECORDS:
        for path in paths[name]:  # rows a later run replaced still point at their snapshots
            refs = store.read_parquet(path, columns=["raw_sha256", "context_sha256"], schema=SCHEMAS[name])
            referenced.update(refs.column("raw_sha256").to_pylist() + refs.column("context_sha256").to_pylist())
            m = by_run[files[path]["run_id"]]
            expected = {"config_sha256": m.get("config_sha256"), "flow_run_id": m.get("flow_run_id"),
                        "pipeline_version": m.get("thresher_version"), "processed_at": datetime.fromisoformat(m["started_at"])}
            table = archive.read_file(out, path, name, cols + (["duplicate_of"] if name == "duplicates" else []))
            for r in table.to_pylist():
                where_ = f"doc {r['doc_id']} ({r['source_path']})"
                if r["doc_id"] in seen_ids:
                    report.errors.append(f"{where_}: appears twice in the archive")
                seen_ids.add(r["doc_id"])
                for column in ("raw_sha256", "context_sha256"):
                    if r[column] and r[column] not in where:
                        report.errors.append(f"{where_}: no snapshot for its {column} {r[column][:16]}…")
                wrong = [c for c, v in expected.items() if r[c] != v]
                if wrong:
                    report.errors.append(f"{where_}: {', '.join(wrong)} differ from its run {m['run_id']}'s manifest")
                if name == "articles":
                    canon.add(r["doc_id"])
                if name == "duplicates":
                    links.append((r["doc_id"], r["duplicate_of"]))
    for doc_id, target in links:
        if target not in canon:
            report.errors.append(f"doc {doc_id}: duplicate_of {target} is not a canonical article")
    for sha in sorted(set(where) - referenced):
        report.errors.append(f"snapshot {sha[:16]}… (first seen as {first_seen[sha]}) is referenced by no record: a record was removed")
    report.checked["records"] = len(seen_ids)
    report.checked["stories"] = verify_stories(out, report)
    counts: Counter = Counter()
    read_snapshots = snapshots_reader(out, where)
    if all_records:
        for m in manifests:
            if run_configs[m["run_id"]] is None or any(f["path"] in damaged for f in m["files"]):
                counts["runs not re-derived (config or files unusable)"] += 1
                continue
            rederive.check_run(out, m, run_configs[m["run_id"]], read_snapshots, report.errors, counts)
    else:
        everyone = [(name, p) for name in archive.RECORDS for p in paths[name]]
        sizes = [files[p]["rows"] for _, p in everyone]
        chosen = set(random.Random(seed).sample(range(sum(sizes)), min(sample, sum(sizes))))
        picked, index = [], 0
        for (name, path), size in zip(everyone, sizes):
            wanted = [i - index for i in range(index, index + size) if i in chosen]
            index += size
            if not wanted:
                continue
            m = by_run[files[path]["run_id"]]
            rows = archive.read_file(out, path, name).to_pylist()
            picked += [(name, rows[i], m, run_configs[m["run_id"]]) for i in wanted if run_configs[m["run_id"]] is not None]
        rederive.check_sample(out, picked, read_snapshots, report.errors, counts)
    report.indexes["index/ (signatures, paragraphs)"] = "hashes and chain checked; not re-derived (decided across records)"
    report.checked["records_rederived"] = counts.pop("records re-derived", 0)
    for why, n in sorted(counts.items()):
        report.warnings.append(f"{n} {why}")
    _search_index(out, report)
    return report


def _search_index(out, report: Report) -> None:
    """The search index, a cache: compared with the articles when there is one."""
    if Store(out).remote:
        report.indexes["search/"] = "not checked (the index is local to a search)"
        return
    try:
        from thresher.search import check_index
    except ImportError:
        report.indexes["search/"] = "not checked (the search extra is not installed)"
        return
    status, problems = check_index(out)
    report.errors += problems
    report.indexes["search/"] = {"absent": "absent (a cache: the next search builds it from the datasets)",
                                 "verified": "verified against the articles, document by document",
                                 "differs": "DIFFERS from the articles: delete search/ and the next search rebuilds it"}[status]
