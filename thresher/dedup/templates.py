"""Template paragraphs: text a site repeats across many of its stories, which the rules missed.

A paragraph that recurs in many *different stories* of one site (a donation appeal, a standard
disclaimer) is removed and logged as ``repeated_paragraph``. Copies of one story do not count
twice: the same article fetched ten times (exact copies, near copies, the same URL again) and
the versions of a developing story are one story, so a page re-fetched every night never turns
its own paragraphs into "template". That is why this stage runs after dedup has clustered the
run's articles with the archive's (a shard alone cannot know that ten pages are one story), and
why the counts it keeps for later runs count new stories only: a story already archived has
been counted.

A paragraph shared by different sites is a quote or syndication and stays. A guard bounds the
damage of a wrong count: when the template paragraphs would take more than
:data:`MAX_TEMPLATE_SHARE` of an article's text, nothing is removed from it and the run's
manifest (and report) lists the page.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from thresher.records import PARAGRAPHS_SCHEMA
from thresher.text import word_count

# A paragraph in this many distinct stories of one site is template text (background
# paragraphs of a running story recur in a handful of follow-ups, not in eight).
REPEAT_MIN_STORIES = 8
REPEAT_RULE = "repeated_paragraph@2"
REPEAT_NAME = REPEAT_RULE.split("@")[0]
# Template text is a site's furniture around a story: an appeal, a disclaimer, a boilerplate
# bio. When it would be more than half of an article, the count is more likely wrong (a story
# whose copies were not recognised) than the article mostly template: keep it whole, say so.
MAX_TEMPLATE_SHARE = 0.5

STORIES_SCHEMA = pa.schema([("doc_id", pa.string()), ("story", pa.string())])
CUTS_SCHEMA = pa.schema([("doc_id", pa.string()), ("paragraphs", pa.list_(pa.int32()))])


def _exploded(lists: pa.Table) -> pa.Table:
    """One row per paragraph: the row it belongs to (``row``), its site and hash."""
    hashes = lists.column("hashes").combine_chunks()
    parents = pc.list_parent_indices(hashes)
    return pa.table({
        "row": parents,
        "site": pc.take(lists.column("site"), parents),
        "paragraph_hash": pc.list_flatten(hashes),
    })


def new_story_counts(lists: pa.Table, stories: pa.Table) -> pa.Table:
    """Distinct new stories per (site, paragraph hash) in this run (``PARAGRAPHS_SCHEMA``).

    ``lists`` holds each article's paragraph hashes (``PARAGRAPH_LISTS_SCHEMA``); ``stories``
    maps each new article to its story key, null for a story the archive already holds (it
    was counted when it was archived)."""
    if lists.num_rows == 0:
        return PARAGRAPHS_SCHEMA.empty_table()
    keyed = lists.select(["doc_id"]).append_column("row", pa.array(np.arange(lists.num_rows)))
    keyed = keyed.join(stories, "doc_id", join_type="left outer", use_threads=False)
    story_of_row = np.full(lists.num_rows, None, dtype=object)
    story_of_row[keyed.column("row").to_numpy()] = keyed.column("story").to_numpy(zero_copy_only=False)
    flat = _exploded(lists)
    flat = flat.append_column("story", pa.array(story_of_row[flat.column("row").to_numpy()], pa.string()))
    flat = flat.filter(pc.and_(pc.is_valid(flat.column("site")), pc.is_valid(flat.column("story"))))
    if flat.num_rows == 0:
        return PARAGRAPHS_SCHEMA.empty_table()
    counted = flat.group_by(["site", "paragraph_hash"], use_threads=False).aggregate([("story", "count_distinct")])
    return pa.table({"site": counted.column("site"), "paragraph_hash": counted.column("paragraph_hash"),
                     "stories": pc.cast(counted.column("story_count_distinct"), pa.int64())}, schema=PARAGRAPHS_SCHEMA)


def template_cuts(lists: pa.Table, counts: dict[tuple[str, int], int]) -> tuple[pa.Table, list[dict]]:
    """Which paragraphs of which articles are template (``counts``: stories per (site, hash),
    archive and run together), as a ``CUTS_SCHEMA`` table, and the articles the guard spared
    (``doc_id``, the share the removal would have taken)."""
    doomed = {key for key, n in counts.items() if n >= REPEAT_MIN_STORIES}
    cuts, guarded = [], []
    if not doomed or lists.num_rows == 0:
        return CUTS_SCHEMA.empty_table(), guarded
    flat = _exploded(lists)
    hit = pc.is_in(flat.column("paragraph_hash"), value_set=pa.array(sorted({h for _, h in doomed}), pa.int64()))
    rows = sorted(set(pc.filter(flat.column("row"), hit).to_pylist()))
    for r in rows:
        row = lists.slice(r, 1).to_pylist()[0]
        hashes, lengths = row["hashes"], row["lengths"]
        gone = [k for k, h in enumerate(hashes) if (row["site"], h) in doomed]
        if not gone or len(gone) == len(hashes):
            if gone:
                guarded.append({"doc_id": row["doc_id"], "share": 1.0})
            continue
        total = sum(lengths) + 2 * (len(lengths) - 1)
        share = sum(lengths[k] for k in gone) / total if total else 1.0
        if share > MAX_TEMPLATE_SHARE:
            guarded.append({"doc_id": row["doc_id"], "share": round(share, 3)})
            continue
        cuts.append({"doc_id": row["doc_id"], "paragraphs": gone})
    return pa.Table.from_pylist(cuts, schema=CUTS_SCHEMA), guarded


def apply_cuts(row: dict, paragraphs: list[int]) -> int:
    """Remove the given paragraphs from an article row, in place, logging each under
    ``repeated_paragraph`` with its index (``line``) and offsets in the text as it was before
    this stage. Returns the number of paragraphs removed."""
    paras = row["text"].split("\n\n")
    doomed = set(paragraphs)
    keep, pos, removed = [], 0, 0
    for k, para in enumerate(paras):
        if k in doomed:
            row["removed"].append({"rule": REPEAT_RULE, "line": k, "start": pos, "end": pos + len(para), "text": para})
            removed += 1
        else:
            keep.append(para)
        pos += len(para) + 2
    if removed and keep:
        row["text"] = "\n\n".join(keep)
        row["word_count"] = word_count(row["text"])
    return removed
