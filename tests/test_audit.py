"""An archive an auditor can trust: raw snapshots outlive raw/, verify names every tampered
file or record, audit tells a record's lineage, and a killed run never half-publishes."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest

from conftest import ROOT, file_sha256, run_local
from thresher import archive, audit, sources


@pytest.fixture
def archived(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    out = tmp_path / "clean"
    run_local(raw, out)
    return raw, out


def _rewrite(out, rel, change):
    """Rewrite a published Parquet file with ``change`` applied to its rows; optionally the
    tamperer also fixes the manifest's hash, so only deeper checks can notice."""
    path = out / rel
    table = pq.read_table(path)
    rows = table.to_pylist()
    change(rows)
    pq.write_table(table.from_pylist(rows, schema=table.schema), path)


def _fix_manifest(out, rel):
    for m_path in (out / "runs").glob("*.json"):
        m = json.loads(m_path.read_text())
        for f in m["files"]:
            if f["path"] == rel:
                f["sha256"] = file_sha256(out / rel)
        m_path.write_text(json.dumps(m))


def test_audit_and_verify_work_without_the_raw_folder(archived):
    raw, out = archived
    shutil.rmtree(raw)
    report = audit.verify(out, all_records=True)
    assert report.ok, report.errors
    assert report.checked["records_rederived"] == 5
    info = audit.lineage(out, "001_3c8e0fc09b8af7fa.txt")
    assert info["raw"]["snapshot_intact"] and info["raw"]["first_seen_as"] == "001_3c8e0fc09b8af7fa.txt"
    assert any(r["rule"] == "teaser_block@1" for r in info["removed"])
    text = audit.describe(info)
    assert "raw snapshot: kept in this archive and intact" in text and "teaser_block@1" in text


def test_flipped_byte_in_a_parquet_file_is_named(archived):
    _, out = archived
    rel = next(p for p in archive.published(out) if p.startswith("articles/"))
    data = bytearray((out / rel).read_bytes())
    data[len(data) // 2] ^= 0x01
    (out / rel).write_bytes(bytes(data))
    report = audit.verify(out)
    assert not report.ok and any(rel in e for e in report.errors)


def test_changed_raw_snapshot_is_named_even_with_a_fixed_manifest(archived):
    _, out = archived
    rel = next(p for p in archive.published(out) if p.startswith("snapshots/"))

    def flip(rows):
        content = bytearray(rows[0]["content"])
        content[10] ^= 0x01
        rows[0]["content"] = bytes(content)

    _rewrite(out, rel, flip)
    _fix_manifest(out, rel)
    report = audit.verify(out)
    assert not report.ok and any("does not hash to its address" in e for e in report.errors)


def test_edited_text_is_named_by_doc_id(archived):
    _, out = archived
    rel = next(p for p in archive.published(out) if p.startswith("articles/"))
    victim = {}

    def edit(rows):
        victim["doc_id"] = rows[0]["doc_id"]
        rows[0]["text"] = rows[0]["text"].replace("Hanoi", "Paris", 1)

    _rewrite(out, rel, edit)
    assert any(rel in e for e in audit.verify(out).errors)  # the file hash alone catches it
    _fix_manifest(out, rel)
    report = audit.verify(out, all_records=True)
    assert not report.ok and any(victim["doc_id"] in e and "re-derived" in e for e in report.errors)


def test_deleted_published_file_is_named(archived):
    _, out = archived
    rel = next(p for p in archive.published(out) if p.startswith("snapshots/"))
    (out / rel).unlink()
    report = audit.verify(out)
    assert any(rel in e and "missing" in e for e in report.errors)


def test_incremental_run_adds_exactly_the_new_pages(archived, tmp_path):
    raw, out = archived
    before = {p: (out / p).read_bytes() for p in archive.published(out)}
    again = run_local(raw, out)
    assert again["inputs"]["new"] == 0 and again["files"] == []
    assert {p: (out / p).read_bytes() for p in before} == before
    for i in range(10):
        (raw / f"new_{i}.txt").write_text(f"River {i} bursts its banks in the north\n" +
                                          f"The river number {i} rose two metres overnight, officials said on day {i}. " * (3 + i))
    third = run_local(raw, out)
    assert third["inputs"]["new"] == 10
    assert third["counts"]["articles"] + third["counts"]["duplicates"] + third["counts"]["rejects"] == 10
    assert audit.verify(out, all_records=True).ok


KILL_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from conftest import run_local
run_local({raw!r}, {out!r}, shard_size=3)
"""


def test_killed_runs_never_half_publish(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    for slug in ("a_wire_share_bars", "b_arc_see_more", "a_de_hallenbad", "b_amp_story"):
        shutil.copy(ROOT / "tests" / "fixtures" / "html" / f"{slug}.html", raw / f"{slug}.html")
    out = tmp_path / "clean"
    script = KILL_SCRIPT.format(tests=str(ROOT / "tests"), raw=str(raw), out=str(out))
    rng = random.Random(5)
    for attempt in range(6):
        before = archive.published(out) if (out / "runs").exists() else {}
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = archive.published(out) if (out / "runs").exists() else {}
        # either nothing was published, or one whole run was: never a part of one
        assert set(before) <= set(after)
        new_runs = {f["run_id"] for p, f in after.items() if p not in before}
        assert len(new_runs) <= 1
        if (out / "runs").exists():
            assert audit.verify(out).ok
    final = run_local(raw, out)
    assert final is not None
    report = audit.verify(out, all_records=True)
    assert report.ok, report.errors
    rows = [r["source_path"] for name in archive.RECORDS for r in archive.read_dataset(out, name).to_pylist()]
    assert sorted(rows) == sorted(i.source_path for i in sources.discover(raw))
    assert not (out / "_staging").exists()


def _damage(out, how):
    """Damage the articles file that holds 001's record; return its path and a record elsewhere."""
    rel_001 = next(p for p in archive.published(out) if p.startswith("articles/"))
    path = out / rel_001
    if how == "flip":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
    else:
        path.unlink()
    return rel_001


@pytest.mark.parametrize("how", ["flip", "delete"])
def test_audit_and_export_name_the_damage_and_go_on(tmp_path, how):
    from typer.testing import CliRunner

    from archive_samples import build_archive
    from thresher.cli import app

    _, out, _ = build_archive(tmp_path)
    reject = archive.read_dataset(out, "rejects").to_pylist()[0]
    damaged = _damage(out, how)
    info = audit.lineage(out, reject["doc_id"])  # a record in another file
    assert info["record"]["doc_id"] == reject["doc_id"] and any(damaged in d for d in info["damaged"])
    res = CliRunner().invoke(app, ["audit", str(out), reject["doc_id"]])
    assert res.exit_code == 0 and "DAMAGED" in res.stdout and damaged in res.stdout
    dest = tmp_path / "rejects.jsonl"
    res = CliRunner().invoke(app, ["export", str(out), "--dataset", "rejects", "-o", str(dest)])
    assert res.exit_code == 0 and len(dest.read_text().splitlines()) == len(archive.read_dataset(out, "rejects"))
    res = CliRunner().invoke(app, ["export", str(out), "-o", str(tmp_path / "articles.jsonl")])
    assert res.exit_code == 1 and damaged in res.stderr  # named, and the rest exported
    assert (tmp_path / "articles.jsonl").exists()
    assert any(damaged in e for e in audit.verify(out).errors)


def test_export_names_a_manifest_edited_after_publishing(archived, tmp_path):
    """A text edited and its file's hash fixed in the manifest: export still serves the rows
    (their files match the manifest), but says the chain no longer holds, and exits 1."""
    from typer.testing import CliRunner

    from thresher.cli import app

    _, out = archived
    rel = next(p for p in archive.published(out) if p.startswith("articles/"))
    _rewrite(out, rel, lambda rows: rows[0].__setitem__("text", "ENTIRELY FORGED TEXT."))
    _fix_manifest(out, rel)
    res = CliRunner().invoke(app, ["export", str(out), "-o", str(tmp_path / "a.jsonl")])
    assert res.exit_code == 1 and "DAMAGED: runs/" in res.stderr and "head" in res.stderr
