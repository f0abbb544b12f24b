"""Prove the archive: ``verify`` checks it end to end, ``audit`` tells one record's lineage.

The auditor's questions are "has anything changed since it was written?" and "where did this
sentence come from?". ``verify`` answers the first from what the archive itself holds: every
published file against the sha256 in its run's manifest, every raw snapshot against its
content address, every record against its snapshot, each run's accounting, and (for a sample,
or all records) the text re-derived from the raw snapshot with the same config. ``audit``
answers the second in plain words, from the same data, even after the scraper's raw folder
is gone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from thresher import archive
from thresher.config import Config
from thresher.dedup.templates import REPEAT_NAME
from thresher.archive.chain import check_chain
from thresher.archive.configs import load_config, read_config
from thresher.provenance import config_sha256
from thresher.records import SCHEMAS, TS_RANGE, Reject, sha256_hex, within_ranges
from thresher.sources import Page, RawBytes, RawInput, content_bytes
from thresher.sources.decode import declared_charset
from thresher.storage import Store
from thresher.text import printable


@dataclass
class Report:
    """What ``verify`` found. ``ok`` only when there is no error; warnings do not fail it."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    head: dict | None = None  # the chain's newest manifest: what an auditor keeps (--expect-head)

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[tuple[str, str | None]]:
        """The report for a terminal, as (line, style): problems, notes, a summary and the
        head to keep. Lines quote scraped values and file names: each is made printable."""
        out = [(f"FAIL {printable(e)}", "red") for e in self.errors]
        out += [(f"warn {printable(w)}", "yellow") for w in self.warnings]
        checked = ", ".join(f"{v} {k}" for k, v in self.checked.items())
        out.append((("archive verified: " if self.ok else f"{len(self.errors)} problem(s); checked: ") + checked,
                    "green" if self.ok else "red"))
        if self.head:
            out.append((f"chain head: {self.head['manifest_sha256']} (run {self.head['run_id']}, {self.head['runs']} runs); "
                        "keep it outside the archive and check it later with verify --expect-head HASH", None))
        return out


def _page_from_snapshot(record: dict, snap: dict, cfg: Config) -> Page | None:
    """The page as the pipeline saw it, rebuilt from the raw snapshot alone, with the readers'
    own decompression and charset parsing; None when the snapshot no longer reads."""
    fmt = record["input_format"]
    content = snap["content"]
    item = RawInput(record["source_path"], fmt)
    # a WARC record's snapshot is its payload, already out of the (gzipped) WARC file
    data = content if fmt.startswith("warc") else content_bytes(item, RawBytes(content, record["raw_sha256"], len(content), None), cfg.max_bytes)
    if isinstance(data, Reject):
        return None
    kind = "html" if fmt.startswith(("html", "warc")) else "text"
    return Page(item, data, record["raw_sha256"], len(content), kind, url=record.get("source_url"),
                http_charset=declared_charset(snap.get("content_type")), offset=record.get("source_offset"))


def rederive_text(record: dict, snap: dict, cfg: Config) -> str | None:
    """The record's text, computed again from its raw bytes; None if it no longer extracts."""
    from thresher.extract import extract_page  # the extractors load only when texts are re-derived

    page = _page_from_snapshot(record, snap, cfg)
    outcome = Reject("truncated_archive", "snapshot does not decompress") if page is None else extract_page(page, cfg)
    if isinstance(outcome, Reject):
        return None
    text = outcome[0].text
    repeated = {r["text"] for r in record["removed"] if r["rule"].split("@")[0] == REPEAT_NAME}
    if repeated:  # the dedup stage's removals, replayed
        paragraphs = text.split("\n\n")
        text = "\n\n".join(p for p in paragraphs if p not in repeated) or text
    return text


def _snapshots_for(out_dir: str | Path, shas: set[str], where: dict[str, str] | None = None) -> dict[str, dict]:
    """The snapshot rows of ``shas``, reading only the files that hold them (``where`` maps a
    sha256 to its file; without it every snapshots file is scanned, one at a time)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    shas = {s for s in shas if s}
    paths = sorted({where[s] for s in shas if s in where}) if where is not None else archive.dataset_paths(out_dir, "snapshots")
    found: dict[str, dict] = {}
    for path in paths:
        if len(found) == len(shas):
            break
        table = archive.read_file(out_dir, path, "snapshots")
        table = table.filter(pc.is_in(table.column("raw_sha256"), value_set=pa.array(sorted(shas), pa.string())))
        found.update((row["raw_sha256"], row) for row in table.to_pylist())
    return found


def out_of_range(out_dir: str | Path, name: str) -> list[str]:
    """Each value of a dataset outside its field's range (see ``records.TS_RANGE``), named by
    doc_id and column: a row thresher's door would never have let through."""
    import pyarrow as pa

    schema = SCHEMAS[name]
    columns = ["doc_id"] + [f.name for f in schema if pa.types.is_timestamp(f.type)]
    problems = []
    store = Store(out_dir)
    for path in archive.dataset_paths(out_dir, name):
        raw = store.read_parquet(path, columns=columns, schema=pa.schema([schema.field(c) for c in columns]))
        held, counts = within_ranges(raw, schema)
        for column in counts:
            before, after = raw.column(column).is_null(), held.column(column).is_null()
            ids = [i for i, b, a in zip(raw.column("doc_id").to_pylist(), before.to_pylist(), after.to_pylist()) if a and not b]
            problems += [f"doc {i} ({path}): column {column} holds a time outside {TS_RANGE}" for i in ids]
    return problems


def _legacy_config(manifest: dict) -> Config | None:
    """The config of a run published before configs were stored, when it is this thresher's
    default (the only one whose patterns are still known), else None."""
    cfg = Config()
    return cfg if manifest.get("config_sha256") == config_sha256(cfg) else None


def verify(out_dir: str | Path, all_records: bool = False, sample: int = 100, seed: int = 0,
           public_key: str | None = None, expect_head: str | None = None) -> Report:
    """Check the archive (a local folder or a URL); every problem is named (file, run or
    doc_id) in ``errors``. ``public_key`` (hex): every run must be signed with it;
    ``expect_head``: a chain head kept earlier must still be on the chain."""
    out = out_dir
    store = Store(out)
    report = Report()
    manifests = archive.load_manifests(out)
    if not manifests:
        report.errors.append(f"{out}: no published run (runs/*.json)")
        return report
    # 0. the manifests as one chain, and the configs they name
    checked_chain = check_chain(out, manifests, public_key, expect_head)
    report.errors += checked_chain.errors
    report.warnings += checked_chain.warnings
    report.head = checked_chain.head
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
    # 1. files against their manifests
    before_files = len(report.errors)
    rows_by_run: dict[str, dict[str, int]] = {}
    for m in manifests:
        for f in m["files"]:
            if not store.isfile(f["path"]):
                report.errors.append(f"{f['path']}: listed in run {m['run_id']} but missing")
                continue
            if store.sha256(f["path"]) != f["sha256"]:
                report.errors.append(f"{f['path']}: sha256 differs from run {m['run_id']}'s manifest (file changed)")
                continue
            if store.parquet_rows(f["path"]) != f["rows"]:
                report.errors.append(f"{f['path']}: row count differs from the manifest")
            dataset = f["path"].split("/")[0]
            rows_by_run.setdefault(m["run_id"], {}).setdefault(dataset, 0)
            rows_by_run[m["run_id"]][dataset] += f["rows"]
    report.checked["files"] = sum(len(m["files"]) for m in manifests)
    # 2. each run's accounting
    for m in manifests:
        c, i = m["counts"], m["inputs"]
        if i["seen"] != c["articles"] + c.get("duplicates", 0) + c["rejects"] + i["skipped"]:
            report.errors.append(f"run {m['run_id']}: inputs seen {i['seen']} != articles + duplicates + rejects + skipped")
        written = rows_by_run.get(m["run_id"], {})
        for name in archive.RECORDS:
            if written.get(name, 0) != c.get(name, 0):
                report.errors.append(f"run {m['run_id']}: {written.get(name, 0)} {name} rows in files, manifest says {c.get(name, 0)}")
    report.checked["runs"] = len(manifests)
    if len(report.errors) > before_files:
        return report  # tables that fail their hashes cannot be trusted for the record checks
    # 3. raw snapshots against their content address, one file at a time: the archive's raw
    # bytes can be far larger than memory, so only their addresses are kept (and where they are)
    where: dict[str, str] = {}  # raw_sha256 -> the snapshots file that holds it
    for path in archive.dataset_paths(out, "snapshots"):
        table = archive.read_file(out, path, "snapshots", ["raw_sha256", "content", "source_path"])
        for sha, content, source in zip(*(table.column(c).to_pylist() for c in ("raw_sha256", "content", "source_path"))):
            if sha256_hex(content) != sha:
                report.errors.append(f"snapshot {sha[:16]}… (first seen as {source}): content does not hash to its address")
            where[sha] = path
    report.checked["snapshots"] = len(where)
    # 4. values outside their schema's range (readers null them; here they are named)
    for name in archive.RECORDS:
        report.errors += out_of_range(out, name)
    # 5. records against snapshots, ids and links (ids only: texts stay on disk)
    seen_ids: set[str] = set()
    links: list[tuple[str, str]] = []
    canon: set[str] = set()
    texts = 0  # articles and duplicates: the records a text can be re-derived for
    for name in archive.RECORDS:
        cols = ["doc_id", "source_path", "raw_sha256"] + (["duplicate_of"] if name == "duplicates" else [])
        for table in archive.iter_dataset(out, name, cols):
            for r in table.to_pylist():
                if r["doc_id"] in seen_ids:
                    report.errors.append(f"doc {r['doc_id']} ({r['source_path']}): appears twice in the archive")
                seen_ids.add(r["doc_id"])
                if r["raw_sha256"] and r["raw_sha256"] not in where:
                    report.errors.append(f"doc {r['doc_id']} ({r['source_path']}): no raw snapshot for {r['raw_sha256'][:16]}…")
                if name == "articles":
                    canon.add(r["doc_id"])
                if name == "duplicates":
                    links.append((r["doc_id"], r["duplicate_of"]))
                texts += name != "rejects"
    for doc_id, target in links:
        if target not in canon:
            report.errors.append(f"doc {doc_id}: duplicate_of {target} is not a canonical article")
    report.checked["records"] = len(seen_ids)
    # 5. texts re-derived from the raw bytes: a record file at a time, with just the snapshots
    # its records need
    chosen = None if all_records else set(random.Random(seed).sample(range(texts), min(sample, texts)))
    rederived, index = 0, 0
    for name in ("articles", "duplicates"):
        for table in archive.iter_dataset(out, name):
            picked = [r for i, r in enumerate(table.to_pylist(), index) if chosen is None or i in chosen]
            index += table.num_rows
            snaps = _snapshots_for(out, {r["raw_sha256"] for r in picked}, where)
            for r in picked:
                if r["config_sha256"] not in configs:
                    report.errors.append(f"doc {r['doc_id']} ({r['source_path']}): column config_sha256 names config "
                                         f"{str(r['config_sha256'])[:12]}…, which no run's manifest names")
                    continue
                cfg = configs[r["config_sha256"]]
                if cfg is None:
                    continue  # reported once, above
                snap = snaps.get(r["raw_sha256"])
                if snap is None:
                    continue  # reported above
                if rederive_text(r, snap, cfg) != r["text"]:
                    report.errors.append(f"doc {r['doc_id']} ({r['source_path']}): text differs from the text re-derived from its raw snapshot")
                rederived += 1
    report.checked["texts_rederived"] = rederived
    return report


def find_record(out_dir: str | Path, key: str, damaged: list | None = None) -> tuple[str, dict, str] | None:
    """A record by doc_id, source path or URL (first match: articles, duplicates, rejects),
    with the file it is in. Files that are missing or changed are skipped and listed in
    ``damaged``: one damaged file must not hide every other record."""
    for name in archive.RECORDS:
        for path, table in archive.iter_intact(out_dir, name, damaged=damaged):
            for r in table.to_pylist():
                if key in (r["doc_id"], r["source_path"], r.get("source_url"), r.get("canonical_url")):
                    return name, r, path
    return None


def _snapshot(out_dir: str | Path, sha: str | None, damaged: list) -> dict | None:
    """The snapshot row of ``sha`` from the intact snapshot files, or None."""
    import pyarrow.compute as pc

    if not sha:
        return None
    for _, table in archive.iter_intact(out_dir, "snapshots", damaged=damaged):
        found = table.filter(pc.equal(table.column("raw_sha256"), sha))
        if found.num_rows:
            return found.to_pylist()[0]
    return None


def lineage(out_dir: str | Path, key: str) -> dict | None:
    """Everything the archive knows about one record's origin, as plain data; ``damaged``
    lists the files that could not be read on the way (missing, changed, unparseable)."""
    out = out_dir
    damaged: list = []
    found = find_record(out, key, damaged)
    if found is None:
        return None
    dataset, r, path = found
    manifests = archive.load_manifests(out)
    runs = {m["run_id"]: m for m in manifests}
    run = runs.get(archive.published(out)[path]["run_id"])
    on_chain = {id(m) for m in check_chain(out, manifests).order} if run is not None else set()
    snap = _snapshot(out, r["raw_sha256"], damaged)
    relations = []
    if dataset == "articles":
        cols = ["doc_id", "source_path", "similarity", "method", "duplicate_of"]
        relations = [{k: d[k] for k in cols[:4]} for _, table in archive.iter_intact(out, "duplicates", cols, damaged)
                     for d in table.to_pylist() if d["duplicate_of"] == r["doc_id"]]
    chain = version_chain(out, r) if dataset == "articles" else []
    record = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items() if k not in {"text", "removed"}}
    return {
        "dataset": dataset,
        "record": record,
        "text": r.get("text"),
        "file": path,
        "raw": {
            "sha256": r["raw_sha256"],
            "bytes": r["raw_bytes"],
            "snapshot": bool(snap),
            "snapshot_intact": bool(snap) and sha256_hex(snap["content"]) == r["raw_sha256"],
            "first_seen_as": snap["source_path"] if snap else None,
        },
        "run": None if run is None else {
            "run_id": run["run_id"], "started_at": run["started_at"], "finished_at": run["finished_at"],
            "thresher_version": run.get("thresher_version"), "git_commit": run.get("git_commit"),
            "config_sha256": run.get("config_sha256"), "flow_run_id": run.get("flow_run_id"), "libraries": run.get("libraries"),
            "on_chain": id(run) in on_chain, "signed": "signature" in run,
        },
        "removed": r.get("removed") or [],
        "duplicate_of": r.get("duplicate_of"),
        "duplicates": relations,
        "versions": chain,
        "damaged": [str(d) for d in damaged],
    }


def version_chain(out_dir: str | Path, record: dict) -> list[dict]:
    """Every version of the record's story, first to latest (one entry when it has never
    changed): doc_id, version, fetch time and source of each, from the articles' links."""
    cols = ["doc_id", "version", "version_of", "fetched_at", "source_path", "source_url"]
    rows = {}
    for _, table in archive.iter_intact(out_dir, "articles", cols):  # a damaged file: named by lineage
        for row in table.to_pylist():
            rows[row["doc_id"]] = row
    later: dict[str, str] = {row["version_of"]: d for d, row in rows.items() if row["version_of"]}
    first = record["doc_id"]
    while rows.get(first, {}).get("version_of") in rows:
        first = rows[first]["version_of"]
    chain, seen, at = [], set(), first
    while at is not None and at not in seen:
        seen.add(at)
        row = rows[at]
        chain.append({"doc_id": at, "version": row["version"], "source_path": row["source_path"],
                      "source_url": row["source_url"],
                      "fetched_at": row["fetched_at"].isoformat() if row["fetched_at"] else None})
        at = later.get(at)
    return chain


def describe(info: dict) -> str:
    """A record's lineage in plain words, for a person."""
    r, raw, run = info["record"], info["raw"], info["run"]
    lines = [f"{r['doc_id']}: {info['dataset'][:-1]} from {r['source_path']}"
             + (f" (WARC record {r['warc_record_id']} at byte {r['source_offset']})" if r.get("warc_record_id") else "")]
    if r.get("source_url"):
        lines.append(f"  url: {r['source_url']}")
    if r.get("title"):
        lines.append(f"  title: {r['title']}")
    lines.append(f"  raw bytes: {raw['bytes']} bytes, sha256 {raw['sha256']}")
    lines.append("  raw snapshot: " + ("kept in this archive and intact" if raw["snapshot_intact"] else
                                       "kept but DOES NOT MATCH its sha256" if raw["snapshot"] else "none"))
    if r.get("fetched_at"):
        lines.append(f"  fetched: {r['fetched_at']} (from {r.get('fetched_at_source')})")
    if run:
        lines.append(f"  processed: run {run['run_id']} at {r['processed_at']}, thresher {run['thresher_version']}"
                     f" (git {str(run['git_commit'])[:12]}), config {str(run['config_sha256'])[:12]}…, Prefect flow run {run['flow_run_id']}")
        lines.append("  run manifest: " + ("on the chain" if run["on_chain"] else
                                           "NOT ON THE CHAIN (edited or added: its provenance is not to be trusted)")
                     + (", signed (check the key with `thresher verify --key`)" if run["signed"] else ", unsigned"))
    if r.get("extractor"):
        lines.append(f"  extracted by: {r['extractor']}, encoding {r.get('encoding')}")
    if info["dataset"] == "rejects":
        lines.append(f"  rejected at {r['stage']}: {r['reason']} ({r['detail']})")
    if info["removed"]:
        lines.append(f"  removed {len(info['removed'])} spans:")
        for rem in info["removed"]:
            lines.append(f"    {rem['rule']:<24} line {rem['line']:>4}: {rem['text'][:90]}")
    if info["duplicate_of"]:
        lines.append(f"  duplicate of {info['duplicate_of']} ({r['method']}, similarity {r['similarity']})")
    for d in info["duplicates"]:
        lines.append(f"  copied by {d['doc_id']} ({d['source_path']}, {d['method']}, similarity {d['similarity']})")
    chain = info.get("versions") or []
    if len(chain) > 1:
        me = next((v["version"] for v in chain if v["doc_id"] == r["doc_id"]), None)
        lines.append(f"  version {me} of {len(chain)} of the story at this URL (search shows the latest):")
        for v in chain:
            here = "  <- this record" if v["doc_id"] == r["doc_id"] else ""
            lines.append(f"    v{v['version']}: {v['doc_id']} fetched {v['fetched_at'] or 'at an unknown time'}, "
                         f"{v['source_path']}{here}")
    for problem in info.get("damaged", []):
        lines.append(f"  DAMAGED, skipped: {problem} (run `thresher verify` for the whole archive)")
    for note in r.get("normalised") or []:
        lines.append(f"  normalised {note['field']}: {note['reason']} (was {note['original'][:200]!r})")
    # every value here may come from a page, a sidecar or a file name: nothing in it may act on
    # the terminal (escape sequences, bidirectional overrides) or fail to encode
    return "\n".join(printable(line) for line in lines)
