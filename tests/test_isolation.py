"""A failure belongs to the input that caused it, never to its shard; and a reject that says
nothing about its input (internal_error, timeout, storage_error) is retried by the next run and
replaced by the row it makes, never left beside it: one row per input, always."""

from __future__ import annotations

import pytest

from conftest import run_local
from fault_tools import assert_clean_archive, fail_on, make_corpus, rows
from thresher import archive, clean, sources
from thresher.config import Config
from thresher.provenance import new_run
from thresher.records import make_doc_id, sha256_hex


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    base = tmp_path_factory.mktemp("reference")
    raw = make_corpus(base / "raw", extra=12)
    run_local(raw, base / "out", shard_size=5)
    return raw, rows(base / "out")


@pytest.mark.parametrize("where", ["read", "row"])
def test_an_exception_in_one_input_rejects_that_input_only(reference, tmp_path, monkeypatch, where):
    """Before, an exception while reading an input failed its whole shard: every input of it,
    good pages included, became an internal_error reject."""
    raw, expected = reference
    bad = {"page_003.txt", "002_c3bde9851478618a.txt"}
    if where == "read":
        fail_on(monkeypatch, clean, "read_pages", bad)
    else:
        fail_on(monkeypatch, clean, "article_row", bad)
    manifest = run_local(raw, tmp_path / "out", shard_size=5)
    got = rows(tmp_path / "out")
    assert {p for p, r in got.items() if r[0] == "rejects" and r[2] == "internal_error"} == bad
    assert {p: r for p, r in got.items() if p not in bad} == {p: r for p, r in expected.items() if p not in bad}
    assert not manifest["shard_errors"]
    for path in bad:  # the reject keeps the input's bytes: its id is the one a good read gives
        assert got[path][1] == expected[path][1]
    assert_clean_archive(raw, tmp_path / "out")


def test_a_crashed_shard_keeps_each_inputs_bytes_and_id(reference, tmp_path):
    raw, expected = reference
    items = sources.discover(raw)[:3]
    result = clean.crashed_shard(str(raw), items, new_run(Config()), "Traceback...\nMemoryError: worker died")
    for item, row in zip(items, result.rejects):
        data = (raw / item.source_path).read_bytes()
        assert row["reason"] == "internal_error" and "MemoryError" in row["detail"]
        assert row["raw_sha256"] == sha256_hex(data) and row["raw_bytes"] == len(data)
        assert row["doc_id"] == make_doc_id(item.source_path, sha256_hex(data)) == expected[item.source_path][1]
    assert {s["raw_sha256"] for s in result.snapshots if s["input_format"] != "context"} == {r["raw_sha256"] for r in result.rejects}


def test_a_warc_that_fails_between_records_keeps_the_records_before(tmp_path, monkeypatch):
    from test_warc import PAGES, write_warc
    from thresher.sources import warc

    raw = tmp_path / "raw"
    raw.mkdir()
    write_warc(raw / "crawl.warc.gz")
    real = warc.iter_records

    def breaks_after_one(*args, **kwargs):
        for n, rec in enumerate(real(*args, **kwargs)):
            if n == 1:
                raise RuntimeError("a bug between two records")
            yield rec

    monkeypatch.setattr(warc, "iter_records", breaks_after_one)
    run_local(raw, tmp_path / "out")
    got = archive.read_dataset(tmp_path / "out", "articles").to_pylist()
    (rej,) = archive.read_dataset(tmp_path / "out", "rejects").to_pylist()
    assert [a["source_url"] for a in got] == [f"https://news.example/{PAGES[0]}"]
    assert rej["reason"] == "internal_error" and rej["source_offset"] is None
    assert rej["raw_sha256"] == sha256_hex((raw / "crawl.warc.gz").read_bytes())
    monkeypatch.undo()
    run_local(raw, tmp_path / "out")  # the bug fixed: the rest of the file, and the reject replaced
    assert_clean_archive(raw, tmp_path / "out")
    assert len(archive.read_dataset(tmp_path / "out", "articles")) == 3
    assert len(archive.read_dataset(tmp_path / "out", "rejects")) == 1  # the image record, not_html


def test_an_internal_error_is_retried_and_replaced_by_the_next_run(reference, tmp_path, monkeypatch):
    """Before, the next run neither skipped nor replaced it: the input ended in two rows."""
    raw, expected = reference
    out = tmp_path / "out"
    fail_on(monkeypatch, clean, "article_row", {"page_005.txt"})
    first = run_local(raw, out, shard_size=5)
    assert rows(out)["page_005.txt"][2] == "internal_error"
    second = run_local(raw, out, shard_size=5)  # the bug still there: retried, a new reject replaces the old
    assert second["inputs"]["new"] == 1 and second["counts"]["rejects"] == 1
    (replaced,) = second["replaces"]
    assert replaced["path"].startswith(f"rejects/{first['run_id']}-") and replaced["doc_ids"] == [expected["page_005.txt"][1]]
    assert_clean_archive(raw, out)
    monkeypatch.undo()  # the bug fixed
    third = run_local(raw, out, shard_size=5)
    assert third["inputs"]["new"] == 1 and third["counts"]["articles"] == 1
    (replaced,) = third["replaces"]
    assert replaced["path"].startswith(f"rejects/{second['run_id']}-") and replaced["doc_ids"] == [expected["page_005.txt"][1]]
    assert rows(out) == expected
    assert_clean_archive(raw, out)
    fourth = run_local(raw, out, shard_size=5)
    assert fourth["inputs"]["new"] == 0 and fourth["replaces"] == []


def test_other_rejects_are_final(reference, tmp_path):
    raw, _ = reference
    out = tmp_path / "out"
    run_local(raw, out)
    assert rows(out)["empty.txt"][2] == "empty"
    again = run_local(raw, out)
    assert again["inputs"]["new"] == 0 and again["replaces"] == []
    assert archive.retryable_rejects(out) == {}
