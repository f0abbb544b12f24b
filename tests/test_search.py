"""thresher search: ranking, snippets, filters, and an index that follows the archive."""

from __future__ import annotations

import gc
import json
import shutil

import pytest
import tantivy
from typer.testing import CliRunner

from archive_samples import build_archive
from conftest import run_local
from thresher import archive, search
from thresher.cli import app


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return build_archive(tmp_path_factory.mktemp("search"))


def test_seed_articles_about_the_convention_come_first_with_highlighted_snippets(sample):
    _, out, _ = sample
    hits = search.search(out, "Hanoi Convention")
    titled = [h for h in hits if h.title and "Convention" in h.title]
    assert len(titled) == 3 and hits[:3] == titled  # headline matches outrank body-only ones
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for h in hits:
        assert h.snippet and "\n" not in h.snippet and len(h.snippet) <= search.SNIPPET_CHARS + 10
        words = {h.snippet[a:b].lower() for a, b in h.highlights}
        assert words and words <= {"hanoi", "convention"}


def test_only_canonical_articles_are_found(sample):
    _, out, _ = sample
    dup = archive.read_dataset(out, "duplicates", ["doc_id", "duplicate_of"]).to_pylist()[0]
    ids = [h.doc_id for h in search.search(out, '"joint effort to ensure global information security"', limit=50)]
    assert dup["duplicate_of"] in ids and dup["doc_id"] not in ids


def test_site_and_date_filters(sample):
    _, out, _ = sample
    articles = archive.read_dataset(out, "articles", ["doc_id", "site", "published_at", "language"]).to_pylist()
    german = next(a for a in articles if a["language"] == "de")
    assert german["site"] and german["published_at"]
    hits = search.search(out, "Hallenbad", site=german["site"].upper())
    assert [h.doc_id for h in hits] == [german["doc_id"]] and hits[0].site == german["site"]
    assert search.search(out, "Hallenbad", site="elsewhere.example") == []
    day = german["published_at"].date().isoformat()
    assert [h.doc_id for h in search.search(out, "Hallenbad", since=day, until=day)] == [german["doc_id"]]
    assert search.search(out, "Hallenbad", since="2099-01-01") == []
    assert search.search(out, "Convention", until="2099-01-01") == []  # the seeds have no date: left out
    with pytest.raises(ValueError):
        search.search(out, "Hallenbad", since="last tuesday")


def test_the_index_follows_new_runs_and_rebuilds_when_lost(tmp_path):
    raw, out, first = build_archive(tmp_path)
    assert search.search(out, "ferries") == []
    (raw / "late.txt").write_text("\n".join(["Night work on the harbour bridge kept the ferries waiting until dawn."] * 3))
    second = run_local(raw, out)
    hits = search.search(out, "ferries")
    assert [h.source_path for h in hits] == ["late.txt"]
    state = json.loads((out / search.INDEX_DIR / "runs.json").read_text())
    assert state["runs"] == sorted([first["run_id"], second["run_id"]])
    assert len(search.search(out, "Hanoi", limit=50)) == len(search.search(out, "Hanoi", limit=50))  # no double adds
    (out / search.INDEX_DIR / "runs.json").write_text("{not json")
    assert [h.source_path for h in search.search(out, "ferries")] == ["late.txt"]
    shutil.rmtree(out / search.INDEX_DIR)
    assert [h.source_path for h in search.search(out, "ferries")] == ["late.txt"]


def test_cli_prints_results_as_text_or_json_and_exits_1_on_no_match(sample):
    _, out, _ = sample
    runner = CliRunner()
    res = runner.invoke(app, ["search", str(out), "Hanoi Convention", "--json", "-n", "2"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert len(data) == 2 and {"rank", "score", "title", "site", "published_at", "snippet", "doc_id"} <= set(data[0])
    res = runner.invoke(app, ["search", str(out), "Hanoi Convention"])
    assert res.exit_code == 0 and "Vietnam Marks Milestone with the Hanoi Convention" in res.stdout and "doc_id" in res.stdout
    assert runner.invoke(app, ["search", str(out), "zzzqqqxxx"]).exit_code == 1
    assert runner.invoke(app, ["search", str(out), "Hanoi", "--since", "soon"]).exit_code == 2


def test_a_search_while_another_updates_the_index_still_answers(tmp_path):
    raw, out, _ = build_archive(tmp_path)
    search.search(out, "Hanoi")
    (raw / "late.txt").write_text("\n".join(["Night work on the harbour bridge kept the ferries waiting until dawn."] * 3))
    run_local(raw, out)
    busy = tantivy.Index.open(str(out / search.INDEX_DIR)).writer()  # another process adding runs holds this lock
    assert search.search(out, "Hanoi") and search.search(out, "ferries") == []  # the newest run is not in yet
    del busy  # released
    gc.collect()
    assert [h.source_path for h in search.search(out, "ferries")] == ["late.txt"]


def test_an_index_of_runs_since_removed_or_changed_is_rebuilt(tmp_path):
    """The index holds what the chain says: when a run it indexed is gone (or its manifest
    changed) it is rebuilt from the datasets, never served stale."""
    from thresher.archive import chain

    raw = tmp_path / "raw"
    shutil.copytree(archive_root(), raw)
    out = tmp_path / "clean"
    run_local(raw, out)
    (raw / "extra.txt").write_text("Lighthouse keeper retires\n\n" + "The lighthouse keeper retired after forty years on the rock. " * 8)
    newest = run_local(raw, out)
    assert search.search(out, "lighthouse")
    for f in newest["files"]:
        (out / f["path"]).unlink()
    (out / "runs" / f"{newest['run_id']}.json").unlink()
    chain.write_head(out, archive.load_manifests(out)[-1], 1)
    assert search.search(out, "lighthouse") == []
    assert search.check_index(out) == ("verified", [])


def archive_root():
    from conftest import ROOT

    return ROOT / "raw"
