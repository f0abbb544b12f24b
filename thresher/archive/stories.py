"""The run's story step on files: decided after dedup, applied when the run publishes.

:func:`decide_stories` reads the run's staged story index rows (made in the shards) and, from
the archive, only what can matter: index rows published within the window of days around the
run's articles, rows sharing a paragraph with them, and the newest row of each story they may
join. It writes its decisions into the run's staging folder. :func:`publish` (in
:mod:`.commit`) then gives each article its ``story_id`` and ``overlaps``, each duplicate its
canonical's story, moves the index rows of canonical articles into ``index/story_vectors/``
and the run's story rows into ``stories/``, all listed in the manifest: stories are published
atomically with the run, or not at all.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pyarrow as pa
import pyarrow.compute as pc

from thresher.archive.catalogue import dataset_paths, iter_run, load_manifests, read_file
from thresher.dedup import decide as dedup_decide
from thresher.records import STORIES_SCHEMA, STORY_VECTORS_SCHEMA
from thresher.storage import Store
from thresher.stories import decide as story_decide
from thresher.stories.clusters import WINDOW_DAYS
from thresher.stories.summary import latest

ASSIGNMENTS = "story_assignments.parquet"
COPIES = "story_copies.parquet"  # duplicate doc_id -> its canonical's story
COPIES_SCHEMA = pa.schema([("doc_id", pa.string()), ("story_id", pa.string())])


def _staged(out: Store, shards: list[dict]) -> pa.Table:
    """The story index rows the run's ``shards`` staged (their summaries say where)."""
    files = [f["staged"] for s in shards for f in s["written"] if f["dataset"] == "story_vectors"]
    if not files:
        return STORY_VECTORS_SCHEMA.empty_table()
    return pa.concat_tables(out.read_parquet(f, schema=STORY_VECTORS_SCHEMA) for f in files)


def _archived_rows(out_dir: str | os.PathLike, keep) -> pa.Table:
    """Archived story index rows passing ``keep`` (a table -> mask function), a file at a time:
    memory follows what is kept, not the archive."""
    parts = []
    for path in dataset_paths(out_dir, "story_vectors"):
        table = read_file(out_dir, path, "story_vectors")
        mask = keep(table)
        if mask is not None:
            parts.append(table.filter(mask))
    return pa.concat_tables(parts) if parts else STORY_VECTORS_SCHEMA.empty_table()


def _sharing_mask(hashes: pa.Array):
    def mask(table: pa.Table):
        flat = pc.list_flatten(table.column("paragraph_hashes"))
        hit = pc.is_in(flat, value_set=hashes)
        if not pc.any(hit).as_py():
            return None
        parents = pc.list_parent_indices(table.column("paragraph_hashes")).filter(hit)
        return pc.is_in(pa.array(range(table.num_rows), pa.int64()), value_set=pc.unique(parents).cast(pa.int64()))
    return mask


def latest_stories(out_dir: str | os.PathLike, story_ids: set[str] | None = None) -> dict[str, dict]:
    """The newest row of each story (of ``story_ids`` only, when given), reading the stories
    dataset run by run in the order the runs were published (run ids alone do not sort two
    runs of one second)."""
    rows = []
    for table in (t for m in load_manifests(out_dir) for t in iter_run(out_dir, m, "stories")):
        if story_ids is not None:
            table = table.filter(pc.is_in(table.column("story_id"), value_set=pa.array(sorted(story_ids), pa.string())))
        rows.extend(table.to_pylist())
    return latest(rows)


def decide_stories(out_dir: str | os.PathLike, run_id: str, shards: list[dict]) -> dict:
    """Place the run's canonical articles in stories and find their overlaps; write the
    decisions into staging for :func:`publish`. Runs after dedup and uses its decisions
    (duplicates leave the run's story index; a duplicate takes its canonical's story).
    Returns counts and the run's largest stories."""
    out, stage = Store(out_dir), f"_staging/{run_id}"
    decided = f"{stage}/decisions.parquet"
    decisions = dedup_decide.as_lookup(out.read_parquet(decided)) if out.isfile(decided) else {}
    staged = _staged(out, shards)
    is_dup = pc.is_in(staged.column("doc_id"), value_set=pa.array(list(decisions), pa.string()))
    new = staged.filter(pc.invert(is_dup))
    window = STORY_VECTORS_SCHEMA.empty_table()
    sharing = STORY_VECTORS_SCHEMA.empty_table()
    if new.num_rows:
        span = timedelta(days=WINDOW_DAYS)
        lo, hi = pc.min(new.column("time")).as_py() - span, pc.max(new.column("time")).as_py() + span
        window = _archived_rows(out_dir, lambda t: pc.and_(pc.greater_equal(t.column("time"), pa.scalar(lo, t.schema.field("time").type)),
                                                           pc.less_equal(t.column("time"), pa.scalar(hi, t.schema.field("time").type))))
        hashes = pc.unique(pc.list_flatten(new.column("paragraph_hashes")))
        hashes = hashes.filter(pc.not_equal(hashes, 0))
        if len(hashes):
            sharing = _archived_rows(out_dir, _sharing_mask(hashes))
    canonicals = sorted({d[0] for d in decisions.values()})
    new_ids = set(new.column("doc_id").to_pylist())
    archived_canon = [c for c in canonicals if c not in new_ids]
    archived_story: dict[str, str] = {}
    if archived_canon:
        ids = pa.array(archived_canon, pa.string())
        found = _archived_rows(out_dir, lambda t: pc.is_in(t.column("doc_id"), value_set=ids))
        archived_story = dict(zip(found.column("doc_id").to_pylist(), found.column("story_id").to_pylist()))
    wanted = {s for s in window.column("story_id").to_pylist() if s} | {s for s in archived_story.values() if s}
    previous = latest_stories(out_dir, wanted) if wanted else {}
    assignments, stories, counts = story_decide.decide(
        new, window, sharing, previous, [d[0] for d in decisions.values()], archived_story, run_id)
    story_of = dict(zip(assignments.column("doc_id").to_pylist(), assignments.column("story_id").to_pylist()))
    copies = [{"doc_id": d, "story_id": story_of.get(c) or archived_story.get(c)} for d, (c, _, _) in sorted(decisions.items())]
    out.write_parquet(assignments, f"{stage}/{ASSIGNMENTS}")
    out.write_parquet(pa.Table.from_pylist(copies, schema=COPIES_SCHEMA), f"{stage}/{COPIES}")
    if stories.num_rows:
        out.write_parquet(stories, f"{stage}/stories/{run_id}.parquet", compression="zstd")
    top = sorted(stories.to_pylist(), key=lambda s: (-s["articles"], -s["sites"], s["story_id"]))[:5]
    counts["largest"] = [{k: s[k] for k in ("story_id", "headline", "articles", "duplicates", "sites")} for s in top]
    counts["stories"] = stories.num_rows
    return counts


class StoryDecisions:
    """What :func:`decide_stories` staged, ready for :func:`thresher.archive.commit.publish`."""

    def __init__(self, out: Store, stage: str) -> None:
        self.story: dict[str, str] = {}
        self.overlaps: dict[str, list] = {}
        if out.isfile(f"{stage}/{ASSIGNMENTS}"):
            table = out.read_parquet(f"{stage}/{ASSIGNMENTS}", schema=story_decide.ASSIGNMENTS_SCHEMA)
            for row in table.to_pylist():
                self.story[row["doc_id"]] = row["story_id"]
                self.overlaps[row["doc_id"]] = row["overlaps"]
        if out.isfile(f"{stage}/{COPIES}"):
            for row in out.read_parquet(f"{stage}/{COPIES}", schema=COPIES_SCHEMA).to_pylist():
                self.story[row["doc_id"]] = row["story_id"]

    def label(self, table: pa.Table, with_overlaps: bool) -> pa.Table:
        """``table`` (articles or duplicates rows) with its story columns filled in."""
        ids = table.column("doc_id").to_pylist()
        i = table.schema.get_field_index("story_id")
        table = table.set_column(i, table.schema.field("story_id"), pa.array([self.story.get(d) for d in ids], pa.string()))
        if with_overlaps:
            j = table.schema.get_field_index("overlaps")
            field = table.schema.field("overlaps")
            table = table.set_column(j, field, pa.array([self.overlaps.get(d, []) for d in ids], field.type))
        return table

    def write_index(self, out: Store, path: str) -> int:
        """Rewrite a staged story index file with only canonical articles and their story ids;
        its rows."""
        table = self.index(out.read_parquet(path, schema=STORY_VECTORS_SCHEMA))
        out.write_parquet(table, path, compression="zstd")
        return table.num_rows

    def index(self, table: pa.Table) -> pa.Table:
        """The staged story index rows of canonical articles, with their story ids."""
        keep = pc.is_in(table.column("doc_id"), value_set=pa.array(sorted(self.overlaps), pa.string()))
        table = table.filter(keep)
        ids = table.column("doc_id").to_pylist()
        return table.set_column(table.schema.get_field_index("story_id"), STORY_VECTORS_SCHEMA.field("story_id"),
                                pa.array([self.story[d] for d in ids], pa.string()))


def staged_story_files(out: Store, run_id: str) -> list[dict]:
    """The run's staged ``stories/`` file (one per run, when it started or extended any), as
    entries for publish."""
    return [{"dataset": "stories", "staged": src, "rows": out.parquet_rows(src), "name": f"{run_id}.parquet"}
            for src in out.files(f"_staging/{run_id}/stories", ".parquet")]


__all__ = ["STORIES_SCHEMA", "StoryDecisions", "decide_stories", "latest_stories", "staged_story_files"]
