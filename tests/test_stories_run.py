"""Stories in a real run: the sample pages become one story, published with the run and
checked by ``verify``; copies take their canonical's story; a later run extends the story
without renaming it, and records what its new article shares with the archived ones."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from conftest import ROOT, run_local
from thresher import archive
from thresher.audit import describe, lineage, verify
from thresher.cli import app
from thresher.storylist import list_stories

RAW = ROOT / "raw"


def _seeds(dest):
    dest.mkdir()
    for path in sorted(RAW.glob("*.txt")):
        shutil.copy(path, dest / path.name)
        shutil.copy(path.with_suffix(".json"), dest / path.with_suffix(".json").name)
    return dest


def _articles(out):
    return {r["doc_id"]: r for t in archive.iter_dataset(out, "articles") for r in t.to_pylist()}


def test_the_sample_pages_are_one_story_and_a_copy_takes_its_story(tmp_path):
    raw = _seeds(tmp_path / "raw")
    shutil.copy(raw / "001_3c8e0fc09b8af7fa.txt", raw / "mirror_of_001.txt")  # a syndicated copy
    out = tmp_path / "out"
    manifest = run_local(raw, out)
    assert manifest["counts"] == {"articles": 5, "duplicates": 1, "rejects": 0}
    arts = _articles(out)
    assert len({a["story_id"] for a in arts.values()}) == 1
    story = next(iter(arts.values()))["story_id"]
    dup = next(r for t in archive.iter_dataset(out, "duplicates") for r in t.to_pylist())
    assert dup["story_id"] == story
    listed = list_stories(out)
    assert [(s["story_id"], s["articles"], s["duplicates"]) for s in listed] == [(story, 5, 1)]
    assert sorted(listed[0]["doc_ids"]) == sorted(arts)
    assert manifest["stories"]["largest"][0]["articles"] == 5
    assert verify(out).ok, verify(out).errors
    result = CliRunner().invoke(app, ["stories", str(out), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)[0]["articles"] == 5


def test_a_later_run_extends_the_story_and_records_what_the_new_article_shares(tmp_path):
    raw = _seeds(tmp_path / "raw")
    out = tmp_path / "out"
    run_local(raw, out)
    first = _articles(out)
    story = next(iter(first.values()))["story_id"]
    # A wire brief printed later: three paragraphs of the first seed, with a new dateline.
    source = (raw / "000_aa7425e82f06e4cb.txt").read_text(encoding="utf-8")
    seed_doc = next(a for a in first.values() if a["source_path"] == "000_aa7425e82f06e4cb.txt")
    paragraphs = seed_doc["text"].split("\n\n")
    brief = "Hanoi (VNA) – Brief.\n\n" + "\n\n".join(paragraphs[1:4])
    assert source  # the seed is there
    (raw / "brief.txt").write_text(brief + "\n", encoding="utf-8")
    manifest = run_local(raw, out)
    assert manifest["counts"]["articles"] == 1 and manifest["stories"]["stories_extended"] == 1
    after = _articles(out)
    assert {d: a["story_id"] for d, a in after.items() if d in first} == {d: a["story_id"] for d, a in first.items()}
    new = next(a for d, a in after.items() if d not in first)
    assert new["story_id"] == story
    overlap = next(o for o in new["overlaps"] if o["doc_id"] == seed_doc["doc_id"])
    assert overlap["relation"] == "contained_in" and overlap["containment"] >= 0.8
    assert overlap["paragraphs"] == [1, 2, 3]
    listed = list_stories(out)
    assert [(s["story_id"], s["articles"]) for s in listed] == [(story, 6)]
    text = describe(lineage(out, new["doc_id"]))
    assert f"contained in {seed_doc['doc_id']}" in text and f"story: {story}" in text
    assert verify(out).ok, verify(out).errors
