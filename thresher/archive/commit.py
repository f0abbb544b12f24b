"""Committing a run: staging, recovery of interrupted runs, dedup decisions, publish.

A run writes only into its staging folder. Publishing moves the finished files into the
datasets and writes the manifest last, so a reader (and ``verify``) can tell a published run
from an interrupted one: a run without a manifest never happened. On object storage the
contract needs no atomic rename of data files, only an atomic manifest write, which a single
PUT gives.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from thresher.archive import chain
from thresher.archive.catalogue import DATASETS, INDEX, RECORDS, _folder, load_manifests, published, read_dataset
from thresher.archive.configs import store_config
from thresher.archive.memory import known_paragraph_counts
from thresher.archive.stories import StoryDecisions, staged_story_files
from thresher.dedup import decide as dedup_decide
from thresher.dedup import templates
from thresher.provenance import RunContext, code_record
from thresher.records import PARAGRAPH_LISTS_SCHEMA, SCHEMAS, SIGNATURES_SCHEMA
from thresher.storage import Store

log = logging.getLogger(__name__)


class StorageError(RuntimeError):
    """Writing OUT_DIR failed (a full disk, a file size limit, the store refused): the run
    fails before it publishes. Not bad input, so never a reject row; the OSError is its cause."""


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
    if chain.catch_up_head(out_dir, load_manifests(out_dir)):
        removed.append(f"{chain.HEAD} (moved to the newest run: a publish was killed before it moved it)")
    return removed


def stage_shard(out_dir: str | os.PathLike, run_id: str, summary: dict, tables: dict[str, pa.Table]) -> dict:
    """Write one shard's tables into the run's staging folder; return its ``summary`` (the
    counts the manifest adds up, with ``shard`` its index) with the files it wrote.

    Each attempt writes into a folder of its own, and a failed write removes what the attempt
    wrote: a shard retried after a full disk, or run again while a worker of an earlier try
    still writes, never mixes two attempts, and only the files a summary names are read later.
    """
    out = Store(out_dir)
    attempt = f"{_staging(run_id)}/{summary['shard']:05d}-{uuid.uuid4().hex[:8]}"
    files = []
    try:
        for name, table in tables.items():
            if table.num_rows == 0:
                continue
            out.write_parquet(table, f"{attempt}/{name}.parquet", compression="zstd")
            files.append({"dataset": name, "staged": f"{attempt}/{name}.parquet", "rows": table.num_rows})
    except OSError as exc:
        _discard(out, attempt)
        raise StorageError(f"shard {summary['shard']}: staging its rows in {out.url(attempt)} failed: {exc}") from exc
    return {**summary, "written": files}


def _discard(out: Store, rel: str) -> None:
    """Remove what a failed write left, if the store lets us (it may be what failed)."""
    try:
        out.remove_tree(rel)
    except OSError as exc:
        log.warning("could not remove %s after a failed write: %s", out.url(rel), exc)


def discard(out_dir: str | os.PathLike, run_id: str) -> None:
    """Remove a failed run's staging folder (what it published nothing of)."""
    out = Store(out_dir)
    _discard(out, _staging(run_id))
    try:
        out.remove_if_empty("_staging")
    except OSError:
        pass


def _staged(out: Store, shards: list[dict], name: str, schema: pa.Schema) -> pa.Table:
    """One staged dataset of the run: the files its shard summaries name, as one table."""
    files = [f["staged"] for s in shards for f in s["written"] if f["dataset"] == name]
    return pa.concat_tables(out.read_parquet(f, schema=schema) for f in files) if files else schema.empty_table()


GUARDED_SCHEMA = pa.schema([("doc_id", pa.string()), ("share", pa.float64())])
MAX_GUARDED_LISTED = 200  # pages the manifest names; its count covers them all


def deduplicate(out_dir: str | os.PathLike, run_id: str, shards: list[dict]) -> dict:
    """Find this run's duplicates and versions among its own articles and against the whole
    archive, then its template paragraphs, counted over distinct stories.

    Reads only signatures and paragraph hashes (the ones the run's ``shards`` staged, and the
    archive's index), never texts, and never a file no shard summary names (what a failed
    attempt left). Writes into staging for :func:`publish` to apply: duplicates, versions, the
    paragraphs to cut, the pages the template guard spared, and the run's paragraph counts for
    later runs. Returns counts.
    """
    out, stage = Store(out_dir), _staging(run_id)
    new = _staged(out, shards, "signatures", SIGNATURES_SCHEMA)
    table, outcomes, counts = dedup_decide.decide(read_dataset(out_dir, "signatures"), new)
    lists = _staged(out, shards, "paragraph_lists", PARAGRAPH_LISTS_SCHEMA)
    fresh = templates.new_story_counts(lists, outcomes.select(["doc_id", "story"]))
    hashes = pc.unique(pc.list_flatten(lists.column("hashes").combine_chunks())) if lists.num_rows else pa.array([], pa.int64())
    totals = Counter(known_paragraph_counts(out_dir, hashes.to_pylist()))
    totals.update(dict(zip(zip(fresh.column("site").to_pylist(), fresh.column("paragraph_hash").to_pylist()),
                           fresh.column("stories").to_pylist())))
    cuts, guarded = templates.template_cuts(lists, totals)
    try:
        out.write_parquet(table, f"{stage}/decisions.parquet")
        out.write_parquet(outcomes, f"{stage}/outcomes.parquet")
        out.write_parquet(cuts, f"{stage}/template_cuts.parquet")
        out.write_parquet(pa.Table.from_pylist(guarded, schema=GUARDED_SCHEMA), f"{stage}/template_guarded.parquet")
        if fresh.num_rows:
            out.write_parquet(fresh, f"{stage}/paragraphs.parquet", compression="zstd")
    except OSError as exc:
        raise StorageError(f"writing the run's dedup decisions failed: {exc}") from exc
    counts.update({"template_articles": cuts.num_rows, "template_guarded": len(guarded)})
    return counts


def _read_or_empty(out: Store, path: str, schema: pa.Schema) -> pa.Table:
    return out.read_parquet(path) if out.isfile(path) else schema.empty_table()


def _apply_templates(table: pa.Table, cuts: dict[str, list[int]], guarded: dict[str, float],
                     spared: list[dict]) -> tuple[pa.Table, int]:
    """The staged articles with their template paragraphs cut (and logged); the pages the guard
    spared are added to ``spared`` by name. Returns the table and the paragraphs cut."""
    ids = table.column("doc_id").to_pylist()
    hit = [i for i, d in enumerate(ids) if d in cuts or d in guarded]
    if not hit:
        return table, 0
    rows = table.to_pylist()
    n = 0
    for i in hit:
        row = rows[i]
        if row["doc_id"] in guarded:
            spared.append({"doc_id": row["doc_id"], "source_path": row["source_path"], "share": guarded[row["doc_id"]]})
        else:
            n += templates.apply_cuts(row, cuts[row["doc_id"]])
    return pa.Table.from_pylist(rows, schema=table.schema), n


@dataclass
class _Dedup:
    """What the run-wide dedup step decided, as :func:`publish` applies it."""

    decisions: dedup_decide.Decisions
    versions: dict[str, tuple[int, str | None]]
    cuts: dict[str, list[int]]
    guarded: dict[str, float]
    spared: list[dict] = field(default_factory=list)
    template_cut: int = 0

    @classmethod
    def read(cls, out: Store, stage: str) -> _Dedup:
        outcomes = _read_or_empty(out, f"{stage}/outcomes.parquet", dedup_decide.OUTCOMES_SCHEMA).to_pylist()
        return cls(
            dedup_decide.as_lookup(_read_or_empty(out, f"{stage}/decisions.parquet", dedup_decide.DECISIONS_SCHEMA)),
            {o["doc_id"]: (o["version"], o["version_of"]) for o in outcomes if o["version"] is not None},
            {c["doc_id"]: c["paragraphs"] for c in _read_or_empty(out, f"{stage}/template_cuts.parquet", templates.CUTS_SCHEMA).to_pylist()},
            {g["doc_id"]: g["share"] for g in _read_or_empty(out, f"{stage}/template_guarded.parquet", GUARDED_SCHEMA).to_pylist()},
        )


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
    commit_check: Callable[[], None] | None = None,
    signing_key: object | None = None,
    story_counts: dict | None = None,
) -> dict:
    """Move a run's staged files into the datasets and write its manifest (last), chained to
    the run published before it and signed with ``signing_key`` (the operator's ed25519 key)
    when given; then move the chain's head to it.

    Refuses to publish when the accounting does not hold, so a run that lost a page fails
    loudly instead of archiving a hole; every count is checked before the manifest is written
    (:func:`check_manifest`). ``commit_check`` runs just before the manifest is written (the
    run's lock, still held). A write that fails raises :class:`StorageError` and takes back
    the files already moved: nothing of the run is left where a reader or a later run looks.
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
    if len({s["shard"] for s in shards}) != len(shards):
        raise AccountingError(f"a shard is counted twice: {sorted(s['shard'] for s in shards)}")
    stage = _staging(ctx.run_id)
    moved: list[str] = []
    try:
        dedup = _Dedup.read(out, stage)
        decisions = dedup.decisions
        staged = _final_files(out, ctx.run_id, shards, dedup, StoryDecisions(out, stage))
        rules[templates.REPEAT_RULE] += dedup.template_cut
        files = [{"path": _folder(f["dataset"]) + f["name"], "rows": f["rows"], "sha256": out.sha256(f["staged"])} for f in staged]
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
            "stories": story_counts or {},
            "removed_per_rule": dict(sorted((k, v) for k, v in rules.items() if v)),
            "template_guard": {"pages": len(dedup.spared), "max_share": templates.MAX_TEMPLATE_SHARE,
                               "listed": sorted(dedup.spared, key=lambda g: g["source_path"])[:MAX_GUARDED_LISTED]},
            "rejects_per_reason": dict(sorted(reasons.items())),
            "files": files,
            "recovered_from_interrupted_runs": recovered or [],
            "shard_errors": [{"shard": s["shard"], "traceback": s["error"]} for s in shards if s.get("error")],
        }
        manifest["replaces"] = _replaces(out_dir, shards)
        check_manifest(manifest)
        for f, entry in zip(staged, files):
            out.move(f["staged"], entry["path"])
            moved.append(entry["path"])
        store_config(out_dir, ctx.config)  # content-addressed: what config_sha256 points at
        before = load_manifests(out_dir)
        manifest = chain.link(manifest, before[-1] if before else None, signing_key)
        if commit_check is not None:
            commit_check()
        # The commit point: a temporary file renamed into place locally, one PUT on object storage.
        out.write_atomic(f"runs/{ctx.run_id}.json", (json.dumps(manifest, indent=2, sort_keys=False) + "\n").encode("utf-8"))
    except OSError as exc:
        _take_back(out, moved)
        raise StorageError(f"publishing run {ctx.run_id} into {out.location} failed, nothing was published: {exc}") from exc
    except BaseException:
        _take_back(out, moved)
        raise
    try:  # after the commit point: a head left behind is caught up by the next run's recovery
        chain.write_head(out_dir, manifest, len(before) + 1)
    except OSError as exc:
        log.warning("run %s is published, but %s could not be moved to it (%s); the next run moves it", ctx.run_id, chain.HEAD, exc)
    out.remove_tree(stage)
    out.remove_if_empty("_staging")
    return manifest


def _replaces(out_dir: str | os.PathLike, shards: list[dict]) -> list[dict]:
    """The earlier reject rows this run's rows replace (``{"path", "doc_ids"}`` per file):
    retryable rejects of the inputs it read again (see :func:`thresher.archive.replaced`)."""
    found: dict[str, set[str]] = {}
    for s in shards:
        for path, doc_id in s.get("replaces", []):
            found.setdefault(path, set()).add(doc_id)
    if found:
        listed = published(out_dir)
        unknown = sorted(p for p in found if not p.startswith("rejects/") or p not in listed)
        if unknown:
            raise AccountingError(f"replaces rows of files that are not published rejects: {unknown}")
    return [{"path": path, "doc_ids": sorted(ids)} for path, ids in sorted(found.items())]


def _final_files(out: Store, run_id: str, shards: list[dict], dedup: _Dedup, stories: StoryDecisions) -> list[dict]:
    """The staged files to publish, dedup applied: template paragraphs are cut; articles found
    to be duplicates move to a duplicates file of their shard, the others get their version;
    only canonical signatures join the index, so later runs compare against canonical records;
    the run's paragraph counts (over distinct new stories) join the index for later runs; records
    get their story and overlaps (:class:`StoryDecisions`). Each entry: dataset, staged path,
    rows, published name."""
    final = []
    for s in shards:
        name = f"{run_id}-{s['shard']:05d}.parquet"
        for f in s["written"]:
            src, rows = f["staged"], f["rows"]
            if f["dataset"] == "paragraph_lists":
                continue  # the template stage's input, used by deduplicate; never published
            if f["dataset"] == "articles":
                table, cut = _apply_templates(out.read_parquet(src, schema=SCHEMAS["articles"]), dedup.cuts, dedup.guarded,
                                              dedup.spared)
                dedup.template_cut += cut
                canon, dups = dedup_decide.split_articles(table, dedup.decisions)
                canon = dedup_decide.set_versions(canon, dedup.versions)
                out.write_parquet(stories.label(canon, with_overlaps=True), src, compression="zstd")
                if dups.num_rows:
                    dst = posixpath.join(posixpath.dirname(src), "duplicates.parquet")
                    out.write_parquet(stories.label(dups, with_overlaps=False), dst, compression="zstd")
                    final.append({"dataset": "duplicates", "staged": dst, "rows": dups.num_rows, "name": name})
                rows = canon.num_rows
            elif f["dataset"] == "signatures":
                sig = out.read_parquet(src, schema=SIGNATURES_SCHEMA)
                sig = sig.filter(pc.invert(dedup_decide.is_duplicate(sig, dedup.decisions)))
                out.write_parquet(dedup_decide.set_versions(sig, dedup.versions), src, compression="zstd")
                rows = sig.num_rows
            elif f["dataset"] == "story_vectors":  # canonical articles' vectors, with their story
                rows = stories.write_index(out, src)
            if rows:
                final.append({"dataset": f["dataset"], "staged": src, "rows": rows, "name": name})
    counts = f"{_staging(run_id)}/paragraphs.parquet"
    if out.isfile(counts):
        final.append({"dataset": "paragraphs", "staged": counts, "rows": out.parquet_rows(counts), "name": f"{run_id}-run.parquet"})
    return final + staged_story_files(out, run_id)  # the run's story rows: one file


def _take_back(out: Store, moved: list[str]) -> None:
    """Remove the files of a run that failed to publish (no manifest lists them; the next run's
    recovery would remove them too)."""
    for rel in moved:
        try:
            out.remove(rel)
        except OSError as exc:
            log.warning("could not remove %s of a run that failed to publish: %s", out.url(rel), exc)


def check_manifest(manifest: dict) -> None:
    """Raise :class:`AccountingError` unless every count of ``manifest`` is a non-negative
    integer and they agree: inputs seen = articles + duplicates + rejects + skipped, new = seen
    - skipped, reasons and methods add up, and the rows of its files are its counts."""
    problems = []
    numbers = {f"{group}.{k}": v for group in ("inputs", "counts", "rejects_per_reason", "duplicates_by_method", "removed_per_rule")
               for k, v in manifest[group].items()}
    numbers.update({f"rows of {f['path']}": f["rows"] for f in manifest["files"]})
    problems += [f"{k} is {v!r}" for k, v in numbers.items() if not isinstance(v, int) or isinstance(v, bool) or v < 0]
    if problems:
        raise AccountingError(f"run {manifest['run_id']} not published: " + "; ".join(problems))
    i, c = manifest["inputs"], manifest["counts"]
    if i["seen"] != c["articles"] + c["duplicates"] + c["rejects"] + i["skipped"]:
        problems.append(f"inputs seen {i['seen']} != articles {c['articles']} + duplicates {c['duplicates']} "
                        f"+ rejects {c['rejects']} + skipped {i['skipped']}")
    if i["new"] != i["seen"] - i["skipped"]:
        problems.append(f"inputs new {i['new']} != seen {i['seen']} - skipped {i['skipped']}")
    if sum(manifest["rejects_per_reason"].values()) != c["rejects"]:
        problems.append(f"rejects per reason add up to {sum(manifest['rejects_per_reason'].values())}, not {c['rejects']}")
    if sum(manifest["duplicates_by_method"].values()) != c["duplicates"]:
        problems.append(f"duplicates by method add up to {sum(manifest['duplicates_by_method'].values())}, not {c['duplicates']}")
    rows: Counter = Counter()
    for f in manifest["files"]:
        rows[f["path"].split("/")[0]] += f["rows"]
        if not f["rows"]:
            problems.append(f"{f['path']} has no rows")
    problems += [f"{rows[name]} {name} rows in its files, {c[name]} counted" for name in RECORDS if rows[name] != c[name]]
    if problems:
        raise AccountingError(f"run {manifest['run_id']} not published: " + "; ".join(problems))
