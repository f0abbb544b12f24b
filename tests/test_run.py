"""Shards to published datasets without Prefect: rows, provenance, rejects, accounting."""

from __future__ import annotations

import gzip
import json
import shutil

import pytest

from conftest import ROOT, file_sha256, run_local
from thresher import archive, clean, extract, sources
from thresher.provenance import config_sha256, new_run
from thresher.archive import AccountingError
from thresher.config import Config


def run_library(raw, out, shard_size=2):
    return run_local(raw, out, shard_size)


@pytest.fixture
def corpus(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    (raw / "bad").mkdir()
    (raw / "bad" / "empty.txt").write_bytes(b"")
    (raw / "bad" / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00" * 100)
    (raw / "bad" / "truncated.txt.gz").write_bytes(gzip.compress(b"text " * 1000)[:30])
    (raw / "bad" / "only_chrome.txt").write_text("Log in\nShare:\nAdvertisement\n")
    (raw / "gz").mkdir()
    (raw / "gz" / "seed.txt.gz").write_bytes(gzip.compress((ROOT / "raw" / "003_83df8a5228aa84f7.txt").read_bytes()))
    (raw / "gz" / "seed.json").write_text(json.dumps({"url": "https://news.example.vn/a/1", "fetched_at": "2025-10-27T08:00:00Z"}))
    return raw, tmp_path / "out"


def test_every_input_is_in_exactly_one_dataset(corpus):
    raw, out = corpus
    manifest = run_library(raw, out)
    articles = archive.read_dataset(out, "articles")
    duplicates = archive.read_dataset(out, "duplicates")
    rejects = archive.read_dataset(out, "rejects")
    paths = [p for t in (articles, duplicates, rejects) for p in t.column("source_path").to_pylist()]
    assert sorted(paths) == sorted(i.source_path for i in sources.discover(raw))
    assert len(paths) == len(set(paths)) == manifest["inputs"]["seen"] == 10
    reasons = dict(zip(rejects.column("source_path").to_pylist(), rejects.column("reason").to_pylist()))
    assert reasons == {"bad/empty.txt": "empty", "bad/binary.txt": "not_text", "bad/truncated.txt.gz": "truncated_archive",
                       "bad/only_chrome.txt": "no_content"}


def test_exact_copy_is_a_duplicate_of_the_earliest_fetched(corpus):
    raw, out = corpus
    manifest = run_library(raw, out)
    dups = archive.read_dataset(out, "duplicates").to_pylist()
    canon = {r["source_path"]: r["doc_id"] for r in archive.read_dataset(out, "articles").to_pylist()}
    assert [(d["source_path"], d["duplicate_of"], d["method"], d["similarity"]) for d in dups] == [
        ("003_83df8a5228aa84f7.txt", canon["gz/seed.txt.gz"], "exact", 1.0)]
    assert manifest["counts"] == {"articles": 5, "duplicates": 1, "rejects": 4}


def test_article_rows_carry_provenance(corpus):
    raw, out = corpus
    manifest = run_library(raw, out)
    rows = {r["source_path"]: r for name in ("articles", "duplicates") for r in archive.read_dataset(out, name).to_pylist()}
    gz = rows["gz/seed.txt.gz"]
    assert gz["source_url"] == "https://news.example.vn/a/1" and gz["site"] == "news.example.vn"
    assert gz["fetched_at_source"] == "sidecar" and gz["fetched_at"].isoformat() == "2025-10-27T08:00:00+00:00"
    assert gz["input_format"] == "txt.gz" and gz["title"] is None
    seed = rows["001_3c8e0fc09b8af7fa.txt"]
    assert seed["fetched_at_source"] == "file_mtime"
    assert seed["config_sha256"] == manifest["config_sha256"] == config_sha256(Config())
    assert seed["pipeline_version"] and seed["encoding"] == "utf-8" and seed["language"] == "en"
    assert seed["extractor"] == "textdump@2+line_model@1" and seed["word_count"] == len(seed["text"].split())
    assert {"rule": "agency_signoff@1", "text": "VNA"}.items() <= next(r for r in seed["removed"] if r["text"] == "VNA").items()
    assert seed["raw_sha256"] == file_sha256(raw / "001_3c8e0fc09b8af7fa.txt")


def test_second_run_skips_archived_inputs_and_adds_only_new_ones(corpus):
    raw, out = corpus
    first = run_library(raw, out)
    second = run_library(raw, out)
    seen = first["inputs"]["seen"]
    assert second["inputs"] == {"files": seen, "seen": seen, "new": 0, "skipped": seen}
    (raw / "new.txt").write_text("Fresh headline about the river\n" + "The river rose again on Monday, officials said. " * 5)
    third = run_library(raw, out)
    assert third["inputs"]["new"] == 1 and third["counts"] == {"articles": 1, "duplicates": 0, "rejects": 0}
    assert archive.read_dataset(out, "articles").num_rows == first["counts"]["articles"] + 1


def test_shards_read_the_archive_memory_of_the_runs_published_when_the_run_started(corpus):
    """Shard tasks carry the names of the published runs, not the archive's memory (millions of
    ids on a large archive); the memory they read is that archive's, and a run that finds the
    archive changed under it (a second writer) stops instead of skipping by the wrong memory."""
    raw, out = corpus
    assert archive.published_runs(out) == ()
    assert archive.memory_at(out, ()) == (frozenset(), frozenset())
    first = run_library(raw, out)
    runs = archive.published_runs(out)
    assert runs == (f"runs/{first['run_id']}.json",)
    known, snapshots = archive.memory_at(out, runs)
    assert known == archive.known_doc_ids(out) and len(known) == first["inputs"]["seen"]
    assert snapshots == archive.known_snapshots(out)
    with pytest.raises(RuntimeError, match="one writer at a time"):
        archive.memory_at(out, ())


def test_loading_the_archive_memory_reads_each_manifest_once(corpus, monkeypatch):
    """Four datasets make the memory; on object storage each manifest read is a GET."""
    from thresher.storage import Store

    raw, out = corpus
    run_library(raw, out)
    (raw / "new.txt").write_text("Fresh headline about the river\n" + "The river rose again on Monday, officials said. " * 5)
    run_library(raw, out)
    reads = []
    real = Store.read_all
    monkeypatch.setattr(Store, "read_all", lambda self, paths: reads.extend(paths) or real(self, paths))
    archive.archive_memory(out)
    assert sorted(reads) == sorted(archive.published_runs(out))  # each of the 2 manifests, once
    reads.clear()
    archive.published(out)
    archive.published(out)
    assert len(reads) == 4  # outside it, every read is fresh (verify must see tampering)


def test_manifest_lists_published_files_with_hashes(corpus):
    raw, out = corpus
    manifest = run_library(raw, out)
    assert (out / "runs" / f"{manifest['run_id']}.json").is_file()
    for f in manifest["files"]:
        assert file_sha256(out / f["path"]) == f["sha256"]
    assert manifest["removed_per_rule"]["teaser_block@1"] > 0
    assert not (out / "_staging").exists()


def test_publish_refuses_a_run_that_lost_a_page(corpus):
    raw, out = corpus
    ctx = new_run(Config())
    items = sources.discover(raw)
    result = clean.clean_shard(str(raw), items[:-1], ctx)
    shard = archive.stage_shard(out, ctx.run_id, result.summary(0), result.tables())
    with pytest.raises(AccountingError):
        archive.publish(out, ctx, str(raw), len(items), [shard], "2026-01-01T00:00:00+00:00")
    assert not (out / "runs").exists() and not (out / "articles").exists()


def test_a_crashing_page_becomes_an_internal_error_reject(corpus, monkeypatch):
    raw, out = corpus

    def boom(data, cfg):
        raise RuntimeError("bug in a rule")

    monkeypatch.setattr(extract, "clean_dump", boom)
    run_library(raw, out)
    rejects = archive.read_dataset(out, "rejects").to_pylist()
    assert {r["reason"] for r in rejects if r["source_path"] == "000_aa7425e82f06e4cb.txt"} == {"internal_error"}
    assert "bug in a rule" in rejects[0]["detail"] or any("bug in a rule" in r["detail"] for r in rejects)


def test_the_run_wide_steps_see_shards_in_shard_order_whatever_order_they_finished(tmp_path, monkeypatch):
    """The flow hands shard summaries over as the shards end; dedup and stories must see the
    same rows in the same order as the serial runner, or a pair at the threshold's edge is
    decided apart."""
    from thresher import run

    seen = {}
    for step in ("deduplicate", "decide_stories"):
        real = getattr(archive, step)

        def spy(out_dir, run_id, shards, _real=real, _step=step):
            seen[_step] = [s["shard"] for s in shards]
            return _real(out_dir, run_id, shards)

        monkeypatch.setattr(archive, step, spy)
    as_finished = lambda fn, jobs: list(map(fn, jobs))[::-1]  # noqa: E731 - the last shard ends first
    run.archive_serial(ROOT / "raw", tmp_path / "out", Config(shard_size=1), mapper=as_finished)
    assert len(seen["deduplicate"]) > 1
    assert seen["deduplicate"] == seen["decide_stories"] == sorted(seen["deduplicate"])
