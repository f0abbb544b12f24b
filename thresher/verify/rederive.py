"""Records re-derived from the archive alone: every column, from the snapshots and the stored config.

A record's row is a function of the page's bytes, the page's context (sidecar bytes, file
mtime or WARC headers, snapshotted beside the bytes since issue 21), the run's config and its
start time. ``verify`` rebuilds the unit from the two snapshots (:func:`thresher.sources.
unit_from_snapshots`), runs the very code a shard runs on it (:func:`thresher.clean.clean_unit`)
and compares the row it gets with the stored one, column by column: any difference names the
record and the column. The template paragraphs a record says its run cut are cut again with
the run's own function.

Columns that are not a function of the page alone (:data:`NOT_FROM_THE_PAGE`) are checked
otherwise: ``processed_at``, ``flow_run_id``, ``config_sha256`` and ``pipeline_version`` against
the run's manifest for every record. What is decided across records (dedup's links and
versions, which paragraphs are template, the counts in ``index/``) is covered by the files'
hashes and the chain, not re-derived: docs/verify.md says so.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pyarrow as pa

from thresher import archive
from thresher.clean import clean_unit
from thresher.dedup.templates import REPEAT_NAME, apply_cuts
from thresher.provenance import RunContext
from thresher.records import ARTICLES_SCHEMA, REJECTS_SCHEMA, RETRYABLE
from thresher.sources import unit_from_snapshots

# Columns a page's bytes and context do not determine, and how verify checks each instead.
NOT_FROM_THE_PAGE = {
    "processed_at": "the run's start, from its manifest",
    "flow_run_id": "the run's Prefect flow run, from its manifest",
    "config_sha256": "the run's config, from its manifest (and the config store)",
    "pipeline_version": "the thresher that made the run, from its manifest",
    "duplicate_of": "decided across records by dedup: must name a canonical article",
    "similarity": "decided across records by dedup",
    "method": "decided across records by dedup",
    "version": "decided across records (re-fetches of a URL)",
    "version_of": "decided across records (re-fetches of a URL)",
    "story_id": "decided across records by the story step: checked against stories/ and the story index",
    "overlaps": "decided across records by the story step (paragraphs shared with earlier articles)",
}


ACROSS_RECORDS = frozenset(c for c, how in NOT_FROM_THE_PAGE.items() if "across records" in how)


def run_context(manifest: dict, cfg) -> RunContext:
    """The context the run's shards had, rebuilt from its manifest."""
    return RunContext(manifest["run_id"], datetime.fromisoformat(manifest["started_at"]), cfg,
                      manifest["config_sha256"], manifest.get("flow_run_id"))


def rebuild(record: dict, snaps: dict[str, dict], ctx: RunContext) -> tuple[str, dict] | str:
    """``(dataset, row)`` re-derived for a stored record, before template paragraphs and dedup;
    or why it cannot be (its bytes were never read, a snapshot is missing)."""
    if record.get("reason") in RETRYABLE:
        return "a failure of its run, not of its page (the next run retries it)"
    raw, context = record.get("raw_sha256"), record.get("context_sha256")
    if raw is None or context is None:
        return "no snapshot: its bytes were never read" if raw is None else "no context snapshot (archived before issue 21)"
    if raw not in snaps or context not in snaps:
        return "a snapshot it names is missing"
    unit = unit_from_snapshots(snaps[raw]["content"], snaps[context]["content"], ctx.config.max_bytes)
    kind, row = clean_unit(unit, ctx)
    return kind, row


def replay_repeats(row: dict, stored_removed: list[dict]) -> None:
    """The template paragraphs a record says its run cut (``repeated_paragraph``), cut again
    from the re-derived row (in place) with the run's own function. Which paragraphs are
    template is decided across a run's stories (their counts are in ``index/paragraphs``); a
    claim that does not fit the re-derived text shows in the ``text`` and ``removed`` columns."""
    lines = [r["line"] for r in stored_removed or [] if str(r["rule"]).split("@")[0] == REPEAT_NAME]
    if lines:
        apply_cuts(row, lines)


def _as_stored(row: dict, schema: pa.Schema) -> dict:
    """A re-derived row in the form a stored row reads back in (types, time zones, lists)."""
    return pa.Table.from_pylist([row], schema=schema).to_pylist()[0]


def differing_columns(stored: dict, derived: dict, dataset: str, manifest: dict) -> list[str]:
    """The columns of ``stored`` that the re-derived row does not reproduce. A column neither
    re-derived nor listed in :data:`NOT_FROM_THE_PAGE` counts as differing: a column added to a
    schema must be re-derivable, or say how else it is checked."""
    schema = REJECTS_SCHEMA if dataset == "rejects" else ARTICLES_SCHEMA
    derived = _as_stored({**derived, "pipeline_version": manifest.get("thresher_version")}, schema)
    differ = []
    for column, value in stored.items():
        if column in ACROSS_RECORDS:
            continue
        if column in derived:
            if derived[column] != value:
                differ.append(column)
        elif column not in NOT_FROM_THE_PAGE:
            differ.append(column)
    return differ


def _named(record: dict) -> str:
    return f"doc {record['doc_id']} ({record['source_path']})"


def check_run(out_dir, manifest: dict, cfg, snapshots_for, errors: list[str], counts: Counter) -> None:
    """Re-derive every record of one run, a file at a time; each difference goes into ``errors``."""
    for f in manifest["files"]:
        name = f["path"].split("/")[0]
        if name not in archive.RECORDS:
            continue
        rows = archive.read_file(out_dir, f["path"], name).to_pylist()
        check_sample(out_dir, [(name, r, manifest, cfg) for r in rows], snapshots_for, errors, counts)


def check_sample(out_dir, picked: list[tuple[str, dict, dict, object]], snapshots_for, errors: list[str], counts: Counter) -> None:
    """Re-derive records one by one: every column, with the template paragraphs they claim
    cut again."""
    snaps = snapshots_for({s for _, r, _, _ in picked for s in (r.get("raw_sha256"), r.get("context_sha256")) if s})
    for name, r, manifest, cfg in picked:
        built = rebuild(r, snaps, run_context(manifest, cfg))
        if isinstance(built, str):
            counts["not re-derived: " + built] += 1
            continue
        kind, row = built
        if kind != ("rejects" if name == "rejects" else "articles"):
            errors.append(f"{_named(r)}: stored in {name}, but re-derived as {kind[:-1]}")
            continue
        if name != "rejects":
            replay_repeats(row, r.get("removed"))
        differ = differing_columns(r, row, name, manifest)
        if differ:
            errors.append(f"{_named(r)}: {', '.join(differ)} differ from the row re-derived from its snapshots")
        counts["records re-derived"] += 1


