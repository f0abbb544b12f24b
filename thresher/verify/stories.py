"""verify's check of the stories: they agree with the records (see :func:`verify_stories`)."""

from __future__ import annotations

from pathlib import Path

from thresher import archive


def verify_stories(out: str | Path, report) -> int:
    """Stories agree with the records: every canonical article of a run that decided stories
    has one, each duplicate has its canonical's, the story index says the same, and each
    story's current row lists exactly its articles. Returns the number of stories checked.
    Damaged files are skipped here: the file check names them."""
    story_of: dict[str, str | None] = {}
    for table in (t for _, t in archive.iter_intact(out, "articles", ["doc_id", "story_id"])):
        story_of.update(zip(table.column("doc_id").to_pylist(), table.column("story_id").to_pylist()))
    decided = any("stories" in m for m in archive.load_manifests(out))
    for doc_id, sid in story_of.items():
        if decided and sid is None:
            report.errors.append(f"doc {doc_id}: canonical article without a story")
    for table in (t for _, t in archive.iter_intact(out, "duplicates", ["doc_id", "duplicate_of", "story_id"])):
        for r in table.to_pylist():
            if decided and r["story_id"] != story_of.get(r["duplicate_of"]):
                report.errors.append(f"doc {r['doc_id']}: story {r['story_id']} is not its canonical's ({story_of.get(r['duplicate_of'])})")
    for table in (t for _, t in archive.iter_intact(out, "story_vectors", ["doc_id", "story_id"])):
        for doc_id, sid in zip(table.column("doc_id").to_pylist(), table.column("story_id").to_pylist()):
            if story_of.get(doc_id, sid) != sid:
                report.errors.append(f"doc {doc_id}: the story index says story {sid}, the article {story_of.get(doc_id)}")
    members: dict[str, set[str]] = {}
    for doc_id, sid in story_of.items():
        if sid:
            members.setdefault(sid, set()).add(doc_id)
    stories = archive.latest_stories(out)
    for sid, row in stories.items():
        if set(row["doc_ids"]) != members.get(sid, set()) or row["articles"] != len(row["doc_ids"]):
            report.errors.append(f"story {sid}: its row lists {row['articles']} articles, {len(members.get(sid, ()))} articles have it")
    for sid in members.keys() - stories.keys():
        report.errors.append(f"story {sid}: {len(members[sid])} articles have it, but stories/ has no row for it")
    return len(stories)
