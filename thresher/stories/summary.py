"""One row per story for the ``stories/`` dataset: what a reader of the archive sees of a story.

A run writes a row for every story it started or extended, with the story's whole membership
at that point (the previous row's members plus the new ones); readers keep the newest row of
each story_id (:func:`latest`). Nothing is rewritten: the archive's history of a story is its
rows, run by run.

The headline is the title of the story's first article that has one (earliest published, then
doc_id): it does not change as coverage grows, so a story keeps the name it was first listed
under.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class StoryMember:
    """A canonical article as a story sees it."""

    doc_id: str
    story_id: str
    title: str | None
    site: str | None
    language: str | None
    when: datetime | None  # published, else fetched


def _order(m: StoryMember) -> tuple:
    return (m.when is None, m.when or datetime.min, m.doc_id)


def story_row(story_id: str, members: Sequence[StoryMember], previous: dict | None = None, duplicates: int = 0) -> dict:
    """The story's row after this run: ``previous`` (its last row, if any) plus ``members``
    (the articles this run added) and ``duplicates`` (copies of its articles this run found)."""
    added = sorted(members, key=_order)
    prev = previous or {}
    doc_ids = list(prev.get("doc_ids") or []) + [m.doc_id for m in added if m.doc_id not in set(prev.get("doc_ids") or [])]
    times = [t for t in [prev.get("first_published"), prev.get("last_published")] + [m.when for m in added] if t is not None]
    sites = sorted(set(prev.get("site_names") or []) | {m.site for m in added if m.site})
    languages = sorted(set(prev.get("languages") or []) | {m.language for m in added if m.language})
    headline = prev.get("headline") or next((m.title for m in added if m.title), None)
    return {
        "story_id": story_id,
        "headline": headline,
        "first_published": min(times) if times else None,
        "last_published": max(times) if times else None,
        "articles": len(doc_ids),
        "duplicates": int(prev.get("duplicates") or 0) + duplicates,
        "sites": len(sites),
        "site_names": sites,
        "languages": languages,
        "doc_ids": doc_ids,
    }


def latest(rows: Iterable[dict]) -> dict[str, dict]:
    """The newest row of each story, from rows given oldest run first."""
    out: dict[str, dict] = {}
    for row in rows:
        out[row["story_id"]] = row
    return out


def ranked(stories: Iterable[dict]) -> list[dict]:
    """Biggest first (articles, then sites), then newest (last published), then story_id."""
    def key(s: dict) -> tuple:
        last = s.get("last_published")
        stamp = last.timestamp() if isinstance(last, datetime) else float("-inf")
        return (-int(s.get("articles") or 0), -int(s.get("sites") or 0), -stamp, s["story_id"])

    return sorted(stories, key=key)
