"""Tell one record's lineage: ``thresher audit OUT_DIR KEY``.

The auditor's second question, after "has anything changed?" (:mod:`thresher.verify`), is
"where did this sentence come from?". ``audit`` answers it in plain words from the archive
alone, even after the scraper's raw folder is gone: the raw file and its snapshot, the fetch,
the run and its code, every removed span with its rule, the duplicate relations, the values
normalised at the door. A damaged file on the way is named and skipped, never fatal, and
nothing a page wrote can act on the terminal it is printed to.
"""

from __future__ import annotations

from pathlib import Path

from thresher import archive
from thresher.archive.chain import check_chain
from thresher.records import sha256_hex
from thresher.text import printable
from thresher.verify import Report, verify  # noqa: F401  (verify moved; audit.verify stays importable)


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
        "story": _story_summary(out, r.get("story_id")),
        "overlaps": r.get("overlaps") or [],
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


def _story_summary(out: str | Path, story_id: str | None) -> dict | None:
    if not story_id:
        return None
    row = archive.latest_stories(out, {story_id}).get(story_id)
    if row is None:
        return {"story_id": story_id}
    return {k: row[k] for k in ("story_id", "headline", "articles", "duplicates", "sites", "site_names")}


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
            score = f" (body p={rem['score']:.2f})" if rem.get("score") is not None else ""
            lines.append(f"    {rem['rule']:<24} line {rem['line']:>4}: {rem['text'][:90]}{score}")
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
    story = info.get("story")
    if story:
        lines.append(f"  story: {story['story_id']}" + (f", {story['articles']} articles from {story['sites']} sites: "
                                                        f"{story['headline'] or '(no headline)'}" if "articles" in story else ""))
    words = {"contained_in": "contained in", "contains": "contains", "shares": "shares paragraphs with"}
    for o in info.get("overlaps") or []:
        paras = ", ".join(str(p) for p in o["paragraphs"])
        lines.append(f"  {words.get(o['relation'], o['relation'])} {o['doc_id']} (containment {o['containment']:.2f}; "
                     f"shared paragraphs {paras})")
    for problem in info.get("damaged", []):
        lines.append(f"  DAMAGED, skipped: {problem} (run `thresher verify` for the whole archive)")
    for note in r.get("normalised") or []:
        lines.append(f"  normalised {note['field']}: {note['reason']} (was {note['original'][:200]!r})")
    # every value here may come from a page, a sidecar or a file name: nothing in it may act on
    # the terminal (escape sequences, bidirectional overrides) or fail to encode
    return "\n".join(printable(line) for line in lines)
