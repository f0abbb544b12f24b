"""Faces of the stories: the list a reader browses, and search hits grouped by story.

Reads only published data: the ``stories/`` dataset (a story's newest row is its current
state) and the story index (doc_id -> story_id of every canonical article).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import date, datetime, timezone

import typer

# pyarrow, the archive and the stories package are imported where they are used: the command
# line imports this module at start, and must start fast.


def _day(value: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=timezone.utc)
    except ValueError as exc:
        raise ValueError(f"--since: {value!r} is not a date (YYYY-MM-DD)") from exc


def list_stories(out_dir: str | os.PathLike, since: str | None = None, site: str | None = None,
                 limit: int | None = None) -> list[dict]:
    """Stories as they now stand, biggest first (articles, then sites), then newest; only those
    with an article published on or after ``since`` and, with ``site``, covered by that site
    (any case)."""
    from thresher import archive
    from thresher.stories.summary import ranked

    stories = archive.latest_stories(out_dir).values()
    if since:
        start = _day(since)
        stories = [s for s in stories if s["last_published"] is not None and s["last_published"] >= start]
    if site:
        wanted = site.casefold()
        stories = [s for s in stories if any(n.casefold() == wanted for n in s["site_names"] or [])]
    out = ranked(stories)
    return out[:limit] if limit else out


def story_of(out_dir: str | os.PathLike, doc_ids: Sequence[str]) -> dict[str, str]:
    """The story of each canonical article in ``doc_ids`` (from the story index)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from thresher import archive

    wanted = pa.array(sorted(set(doc_ids)), pa.string())
    found: dict[str, str] = {}
    for table in archive.iter_dataset(out_dir, "story_vectors", ["doc_id", "story_id"]):
        table = table.filter(pc.is_in(table.column("doc_id"), value_set=wanted))
        found.update(zip(table.column("doc_id").to_pylist(), table.column("story_id").to_pylist()))
    return found


def group_hits(out_dir: str | os.PathLike, hits: Sequence) -> list[dict]:
    """Search hits grouped by story, in the order of each story's best hit: one entry per
    story with its headline, size, and the hits that fell in it."""
    from thresher import archive

    by_doc = story_of(out_dir, [h.doc_id for h in hits])
    stories = archive.latest_stories(out_dir, {s for s in by_doc.values() if s})
    groups: dict[str, dict] = {}
    for h in hits:
        sid = by_doc.get(h.doc_id) or f"(none: {h.doc_id})"
        story = stories.get(sid, {})
        group = groups.setdefault(sid, {"story_id": sid, "headline": story.get("headline"), "articles": story.get("articles", 1),
                                        "sites": story.get("sites", 0), "hits": []})
        group["hits"].append(h.as_dict())
    return list(groups.values())


def print_groups(out_dir: str | os.PathLike, hits: Sequence, as_json: bool, console) -> None:
    """``thresher search --by-story``: the hits grouped by story, as JSON or for a terminal."""
    from rich.text import Text

    groups = group_hits(out_dir, hits)
    if as_json:
        sys.stdout.write(json.dumps(groups, ensure_ascii=False, indent=2) + "\n")
        return
    for g in groups:
        console.print(Text.assemble((g["headline"] or "(no headline)", "bold"),
                                    f"  story {g['story_id']} · {g['articles']} articles, {g['sites']} sites"))
        for h in g["hits"]:
            console.print(Text(f"   {h['rank']}. {h['title'] or '(no title)'} · {h['site'] or '(no site)'} · doc_id {h['doc_id']}"))


def as_json_row(story: dict) -> dict:
    """A story row with its times as ISO 8601 text."""
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in story.items()}


def print_stories(out_dir: str | os.PathLike, since: str | None, site: str | None, limit: int | None,
                  as_json: bool, console) -> bool:
    """``thresher stories``: the list as JSON or for a terminal; False on a bad ``since``."""
    try:
        found = list_stories(out_dir, since=since, site=site, limit=limit)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        return False
    if as_json:
        sys.stdout.write(json.dumps([as_json_row(s) for s in found], ensure_ascii=False, indent=2) + "\n")
    else:
        render(found, console)
    return True


def render(stories: Sequence[dict], console) -> None:
    """The story list for a terminal, one line per story (``--json`` has every column)."""
    head = f"{'story':<20}  {'articles':>8}  {'sites':>5}  {'copies':>6}  {'latest':<10}  "
    room = max(20, console.width - len(head))
    console.print(f"{len(stories)} stories, biggest and newest first", highlight=False)
    console.print(head + "headline", style="bold", highlight=False)
    for s in stories:
        last = s["last_published"].strftime("%Y-%m-%d") if s["last_published"] else "-"
        title = s["headline"] or "(no headline)"
        title = title if len(title) <= room else title[: room - 1] + "…"
        console.print(f"{s['story_id']:<20}  {s['articles']:>8}  {s['sites']:>5}  {s['duplicates']:>6}  {last:<10}  {title}",
                      highlight=False, soft_wrap=True)


def print_largest(manifest: dict, console) -> None:
    """The run summary's lines on stories (see :func:`largest_lines`)."""
    for line in largest_lines(manifest):
        console.print(line, highlight=False, soft_wrap=True)


def largest_lines(manifest: dict) -> list[str]:
    """The run summary's lines on stories: how many were started or extended, the largest."""
    info = manifest.get("stories") or {}
    if not info:
        return []
    lines = [f"stories: {info.get('stories_started', 0)} started, {info.get('stories_extended', 0)} extended; "
             f"{info.get('contained', 0)} articles contained in or containing earlier ones"]
    for s in info.get("largest", []):
        lines.append(f"  {s['articles']} articles, {s['sites']} sites, {s['duplicates']} copies  {s['story_id']}  "
                     f"{(s['headline'] or '(no headline)')[:70]}")
    return lines


def print_hits(out_dir, query: str, hits: Sequence, as_json: bool, by_story: bool, console) -> bool:
    """``thresher search``'s output: the hits (grouped by story with ``by_story``) as JSON or
    for a terminal; False when nothing matched."""
    from rich.markup import escape

    from thresher.search import rendered
    from thresher.text import printable

    if by_story and hits:
        print_groups(out_dir, hits, as_json, console)
        return True
    if as_json:
        sys.stdout.write(json.dumps([h.as_dict() for h in hits], ensure_ascii=False, indent=2) + "\n")
    for text in [] if as_json else rendered(hits):
        console.print(text)
    if not hits and not as_json:
        console.print(f"no canonical article in {escape(printable(str(out_dir)))} matches {escape(printable(repr(query)))}")
    return bool(hits)


def stories(
    out_dir: str = typer.Argument(..., help="The archive folder, or its URL (s3://bucket/clean)."),
    since: str = typer.Option(None, "--since", help="Only stories with an article published on or after this date (YYYY-MM-DD)."),
    site: str = typer.Option(None, "--site", help="Only stories this site covers (any case)."),
    as_json: bool = typer.Option(False, "--json", help="Print the stories as JSON."),
) -> None:
    """The archive's stories (one event's coverage across sites), biggest first, then newest.

    Example: thresher stories clean --since 2025-10-20 --site vietnamplus.vn --json
    """
    from rich.console import Console

    from thresher.storage import is_remote

    if not is_remote(out_dir) and not os.path.isdir(out_dir):
        raise typer.BadParameter(f"Directory {out_dir!r} does not exist.", param_hint="'OUT_DIR'")
    out = out_dir.rstrip("/") if is_remote(out_dir) else os.path.abspath(out_dir)
    if not print_stories(out, since, site, None, as_json, Console()):
        raise typer.Exit(2)
