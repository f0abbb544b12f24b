"""Every tampering case of issue 21 as an auditor would try it: ``verify --all`` exits 1 and names
the record, column, file or run. The forger here is thorough: after the edit it fixes the file
hashes and counts in the manifests, re-links the chain and moves the head, so nothing but what
verify re-derives (or the head and key only the auditor holds) can tell."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from archive_samples import build_archive
from conftest import file_sha256
from thresher import archive, audit
from thresher.archive import chain
from thresher.cli import app


@pytest.fixture
def sample(tmp_path):
    _, out, _ = build_archive(tmp_path)
    report = audit.verify(out, all_records=True)
    assert report.ok, report.errors
    return out


def _forge(out, rel, change, counts=None, relink=True):
    """Rewrite a published file's rows with ``change``, then make the manifests agree: the
    file's hash and rows, the run's counts (``counts``: dataset -> delta), and (``relink``)
    every chain link after it and the head."""
    path = out / rel
    table = pq.read_table(path)
    rows = table.to_pylist()
    change(rows)
    pq.write_table(table.from_pylist(rows, schema=table.schema), path)
    manifests = archive.load_manifests(out)
    previous = None
    for m in manifests:
        for f in m["files"]:
            if f["path"] == rel:
                f["sha256"], f["rows"] = file_sha256(path), len(rows)
                for name, delta in (counts or {}).items():
                    m["counts"][name] += delta
                    m["inputs"]["seen"] += delta
                    m["inputs"]["new"] += delta
        if relink:
            m["chain"] = {**m["chain"], "previous": chain.manifest_sha256(previous) if previous else None,
                          "files_sha256": chain.files_sha256(m["files"])}
        (out / "runs" / f"{m['run_id']}.json").write_text(json.dumps(m))
        previous = m
    if relink:
        chain.write_head(out, previous, len(manifests))
    return rows


def _first(out, dataset):
    return next(p for p in archive.published(out) if p.startswith(dataset + "/"))


def _named(errors, *words):
    return any(all(w in e for w in words) for e in errors)


def test_edited_title_url_site_and_authors_are_named_by_record_and_column(sample):
    out = sample
    rel = _first(out, "articles")
    victim = {}

    def edit(rows):
        r = rows[0]
        victim["id"] = r["doc_id"]
        r["title"], r["source_url"], r["site"] = "Forged title", "https://forged.example/x", "forged.example"
        r["authors"] = ["Nobody Real"]

    _forge(out, rel, edit)
    report = audit.verify(out, all_records=True)
    assert _named(report.errors, victim["id"], "title", "source_url", "site", "authors"), report.errors
    res = CliRunner().invoke(app, ["verify", str(out), "--all"], terminal_width=300)
    assert res.exit_code == 1 and victim["id"] in res.stdout
    # a sample that holds the record says so too
    assert _named(audit.verify(out, sample=1000).errors, victim["id"], "title")


def test_forged_text_with_a_config_that_points_at_nothing_is_a_failure(sample):
    out = sample
    rel = _first(out, "articles")
    victim = {}

    def edit(rows):
        victim["id"] = rows[0]["doc_id"]
        rows[0]["text"], rows[0]["config_sha256"] = "ENTIRELY FORGED TEXT.", "0" * 64

    _forge(out, rel, edit)
    errors = audit.verify(out, all_records=True).errors
    assert _named(errors, victim["id"], "config_sha256"), errors
    assert _named(errors, victim["id"], "text"), errors
    assert not any(e.startswith("warn") for e in errors)


def test_a_deleted_duplicate_row_with_the_counts_fixed_is_named(sample):
    out = sample
    rel = _first(out, "duplicates")
    gone = {}

    def delete(rows):
        gone["path"] = rows[0]["source_path"]
        del rows[0]

    _forge(out, rel, delete, counts={"duplicates": -1})
    errors = audit.verify(out, all_records=True).errors
    assert _named(errors, "referenced by no record", gone["path"]), errors


def test_forged_provenance_in_rows_is_named(sample):
    out = sample
    rel = _first(out, "rejects")
    victim = {}

    def edit(rows):
        victim["id"] = rows[0]["doc_id"]
        rows[0]["pipeline_version"], rows[0]["flow_run_id"] = "9.9.9", "forged-flow"

    _forge(out, rel, edit)
    errors = audit.verify(out).errors  # every record's provenance, without --all
    assert _named(errors, victim["id"], "pipeline_version", "flow_run_id"), errors


@pytest.mark.parametrize("dataset", ["index/signatures", "index/paragraphs"])
def test_an_emptied_or_inflated_index_is_named(sample, dataset):
    """index/ is decided across records, so it is not re-derived: its files' hashes and the
    chain cover it. The file's hash fixed in its manifest names the run; the whole chain
    rewritten as well is caught by the head the auditor kept."""
    out = sample
    kept = audit.verify(out).head["manifest_sha256"]
    rel = _first(out, dataset)

    def tamper(rows):
        if dataset == "index/signatures":
            rows.clear()
        else:
            for r in rows:
                r["stories"] += 7

    run = archive.published(out)[rel]["run_id"]
    _forge(out, rel, tamper, relink=False)
    errors = audit.verify(out, all_records=True).errors
    assert _named(errors, run, "files_sha256") or _named(errors, run, "head"), errors
    _forge(out, rel, lambda rows: None)  # now the chain and head too
    assert _named(audit.verify(out, all_records=True, expect_head=kept).errors, "head you kept")


def test_a_document_injected_into_the_search_index_is_named(sample):
    tantivy = pytest.importorskip("tantivy")
    from thresher.search import open_index, search

    out = sample
    search(out, "Hanoi")  # builds the index
    writer = open_index(out).writer(heap_size=15_000_000, num_threads=1)
    writer.add_document(tantivy.Document(doc_id="f0f0f0f0f0f0f0f0f0f0", title="Hanoi Hanoi Hanoi", text="Hanoi " * 50,
                                         site="forged.example", site_key="forged.example", source_path="forged.txt"))
    writer.commit()
    writer.wait_merging_threads()
    assert search(out, "Hanoi")[0].doc_id == "f0f0f0f0f0f0f0f0f0f0"  # the top hit
    report = audit.verify(out)
    assert _named(report.errors, "search/", "f0f0f0f0f0f0f0f0f0f0"), report.errors
    assert "DIFFERS" in report.indexes["search/"]


def test_verify_says_how_each_index_stands(sample):
    out = sample
    report = audit.verify(out, all_records=True)
    assert "hashes and chain checked" in report.indexes["index/ (signatures, paragraphs)"]
    assert report.indexes["search/"].startswith(("absent", "not checked"))


def test_every_column_of_every_record_is_re_derived(sample):
    out = sample
    report = audit.verify(out, all_records=True)
    total = sum(archive.read_dataset(out, name).num_rows for name in archive.RECORDS)
    unreadable = sum(1 for r in archive.read_dataset(out, "rejects").to_pylist() if r["raw_sha256"] is None)
    assert report.checked["records_rederived"] == total - unreadable


def test_a_changed_sidecar_snapshot_is_named(sample):
    out = sample
    rel = _first(out, "snapshots")

    def edit(rows):
        import base64

        for r in rows:
            if r["input_format"] != "context":
                continue
            ctx = json.loads(r["content"])
            side = base64.b64decode(ctx["sidecar"] or "")
            if b"mirror.example" in side:
                ctx["sidecar"] = base64.b64encode(side.replace(b"mirror.example", b"forged.example")).decode()
                r["content"] = json.dumps(ctx).encode()

    _forge(out, rel, edit)
    assert _named(audit.verify(out, all_records=True).errors, "does not hash to its address")
