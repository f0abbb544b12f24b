"""A run's story decisions, as tables: the run's new canonical articles placed in stories,
their overlaps with earlier articles, and the rows of the stories they started or extended.

Pure functions on Arrow tables and dicts; :mod:`thresher.archive.stories` reads and writes the
files. The index rows (``STORY_VECTORS_SCHEMA``) are made in the shards, where the texts are,
by :func:`index_row`: the run-wide step never reads a text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa

from thresher.records import OVERLAP_TYPE, STORIES_SCHEMA
from thresher.stories.clusters import Candidate, Member, assign
from thresher.stories.containment import Paragraphs, find_overlaps, paragraphs_of
from thresher.stories.features import StoryVector, story_vector
from thresher.stories.summary import StoryMember, story_row

ASSIGNMENTS_SCHEMA = pa.schema([("doc_id", pa.string()), ("story_id", pa.string()), ("overlaps", pa.list_(OVERLAP_TYPE))])


def article_time(row: dict) -> datetime:
    """When an article appeared: published, else fetched, else processed (always known)."""
    return row.get("published_at") or row.get("fetched_at") or row["processed_at"]


def index_row(article: dict) -> dict:
    """The story index row of an ``articles`` row (made in the shard, from its text)."""
    vec = story_vector(article.get("title"), article["text"], article.get("language"))
    paras = paragraphs_of(article["doc_id"], article["text"])
    return {
        "doc_id": article["doc_id"], "story_id": None, "time": article_time(article), "site": article.get("site"),
        "title": article.get("title"), "language": article.get("language"),
        "terms": vec.terms.tolist(), "weights": vec.weights.tolist(), "facts": vec.facts.tolist(),
        "paragraph_hashes": paras.hashes.tolist(), "paragraph_words": paras.words.tolist(),
    }


def _seconds(t: datetime) -> float:
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp()


def _vector(row: dict) -> StoryVector:
    return StoryVector(np.asarray(row["terms"], np.uint32), np.asarray(row["weights"], np.float32),
                       np.asarray(row["facts"], np.uint32))


def _paragraphs(row: dict) -> Paragraphs:
    return Paragraphs(row["doc_id"], np.asarray(row["paragraph_hashes"], np.int64), np.asarray(row["paragraph_words"], np.int32))


def decide(new: pa.Table, window: pa.Table, sharing: pa.Table, previous: dict[str, dict],
           duplicates_of: Iterable[str], archived_story: dict[str, str], run_id: str) -> tuple[pa.Table, pa.Table, dict]:
    """Place the run's new canonical articles (``new`` index rows) in stories.

    ``window``: archived index rows published within the window of days around them (with
    their story ids); ``sharing``: archived index rows sharing a paragraph hash with them;
    ``previous``: the newest row of every archived story they may join or that gains a copy;
    ``duplicates_of``: the canonical doc_id of each of the run's duplicates, so that stories
    count their copies; ``archived_story``: the story of those canonicals that are archived. Returns the assignments (doc_id, story_id, overlaps), the rows of the
    stories started or extended, and counts for the run log.
    """
    rows = new.to_pylist()
    cands = [Candidate(r["doc_id"], _seconds(r["time"]), _vector(r), r["site"]) for r in rows]
    archived = [Member(r["doc_id"], _seconds(r["time"]), r["story_id"], _vector(r), r["site"])
                for r in window.to_pylist() if r["story_id"]]
    story_of = assign(cands, archived)
    # Overlaps: in the order stories were decided (time, doc_id), each article sees the
    # archived ones and the run's earlier ones.
    ordered = sorted(rows, key=lambda r: (_seconds(r["time"]), r["doc_id"]))
    overlaps = find_overlaps([_paragraphs(r) for r in ordered], (_paragraphs(r) for r in sharing.to_pylist()))
    assignments = pa.Table.from_pylist(
        [{"doc_id": r["doc_id"], "story_id": story_of[r["doc_id"]], "overlaps": [o.as_row() for o in overlaps[r["doc_id"]]]}
         for r in ordered], schema=ASSIGNMENTS_SCHEMA)
    # Story rows: every story this run started or extended; copies counted on their canonical's story.
    members: dict[str, list[StoryMember]] = {}
    for r in ordered:
        sid = story_of[r["doc_id"]]
        members.setdefault(sid, []).append(StoryMember(r["doc_id"], sid, r["title"], r["site"], r["language"], r["time"]))
    copies = Counter(story_of.get(c) or archived_story.get(c) for c in duplicates_of)
    touched = set(members) | {s for s in copies if s}
    story_rows = [{**story_row(sid, members.get(sid, []), previous.get(sid), copies.get(sid, 0)), "run_id": run_id}
                  for sid in sorted(touched) if sid in members or sid in previous]
    counts = {"articles": len(rows), "stories_started": sum(1 for s in members if s not in previous),
              "stories_extended": sum(1 for s in members if s in previous),
              "overlaps": sum(len(v) for v in overlaps.values()),
              "contained": sum(1 for v in overlaps.values() for o in v if o.relation != "shares")}
    return assignments, pa.Table.from_pylist(story_rows, schema=STORIES_SCHEMA), counts
