"""Hostile values from pages and sidecars, on a small archive: each is stored normalised with
its original, and verify, export, audit, search and report all work on the archive after it."""

from __future__ import annotations

import io
import json
import shutil

import pytest
from typer.testing import CliRunner

from conftest import ROOT, run_local
from thresher import archive, audit, export
from thresher.cli import app
from thresher.report import render_html, render_markdown, run_report

PROSE = ("<p>The river council met on Tuesday evening and voted to rebuild the old stone bridge before the "
         "winter floods, officials said after a long debate about the cost of the work.</p>\n") * 6
HOSTILE_TITLE = "[click me](javascript:alert(1)) <script>alert(2)</script> \x1b[31m\x1b]0;pwned\x07# Injected heading"


def _html(title: str, date: str, town: str) -> bytes:
    ld = json.dumps({"@type": "NewsArticle", "headline": title, "datePublished": date})
    body = PROSE.replace("river council", f"{town} council")
    return (f"<html lang='en'><head><meta property='og:title' content='{title.replace(chr(39), '&#39;')}'>"
            f"<script type='application/ld+json'>{ld}</script></head><body><article>{body}</article></body></html>").encode()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    raw = tmp / "raw"
    shutil.copytree(ROOT / "raw", raw)
    (raw / "far_future.txt").write_text("Storm closes the harbour\n\n" + "The harbour closed as the storm came in, officials said. " * 8)
    (raw / "far_future.json").write_text(json.dumps({"fetched_at": "9999-12-31T23:59:59-14:00", "url": "https://ok.example/a"}))
    (raw / "year_one.html").write_bytes(_html("Bridge vote passes", "0001-01-01T00:00:00Z", "Ashford"))
    (raw / "long_url.txt").write_text("Council approves budget\n\n" + "The council approved the budget for next year on Monday. " * 8)
    (raw / "long_url.json").write_text(json.dumps({"url": "https://x.example/" + "a" * 5_000_000}))
    (raw / "js_url.txt").write_text("Port reopens after strike\n\n" + "The port reopened after a week-long strike ended, the union said. " * 8)
    (raw / "js_url.json").write_text(json.dumps({"url": "javascript:alert(document.cookie)"}))
    (raw / "file_url.txt").write_text("Schools shut for heatwave\n\n" + "Schools were shut for three days as the heatwave went on, the ministry said. " * 8)
    (raw / "file_url.json").write_text(json.dumps({"url": "file:///etc/passwd", "site": "evil\x1b[2Jsite"}))
    clean_head = ("Rail line reopens\n\n" + "The rail line reopened on Sunday after repairs to the track were finished. " * 20 + "\n\n") * 60
    assert len(clean_head.encode()) > 65536
    (raw / "late_nul.txt").write_bytes(clean_head.encode() + b"Tail para\x00graph with a NUL \x00 inside it and more words.\n")
    (raw / "hostile_title.html").write_bytes(_html(HOSTILE_TITLE, "2025-03-01T10:00:00Z", "Brampton"))
    (raw / "name\x1b[31m_escape.txt").write_text("Mayor resigns\n\n" + "The mayor resigned on Friday after ten years in office, the city said. " * 8)
    out = tmp / "clean"
    run_local(raw, out)
    rows = {r["source_path"]: r for name in ("articles", "duplicates") for r in archive.read_dataset(out, name).to_pylist()}
    return out, rows


def _notes(row, field):
    return [n for n in row["normalised"] if n["field"] == field]


def test_values_are_stored_normalised_with_their_original(hostile):
    _, rows = hostile
    far = rows["far_future.txt"]
    assert far["fetched_at"] is None and far["fetched_at_source"] is None
    assert _notes(far, "fetched_at")[0]["original"] == "9999-12-31T23:59:59-14:00"
    one = rows["year_one.html"]
    assert one["published_at"] is None and "before 1800" in _notes(one, "published_at")[0]["reason"]
    assert _notes(one, "published_at")[0]["original"].startswith("0001-01-01")
    long_url = rows["long_url.txt"]
    assert long_url["source_url"] is None and "5,000,018 characters" in _notes(long_url, "source_url")[0]["reason"]
    assert len(_notes(long_url, "source_url")[0]["original"]) < 2100
    for path, scheme in (("js_url.txt", "javascript"), ("file_url.txt", "file")):
        note = _notes(rows[path], "source_url")[0]
        assert rows[path]["source_url"] is None and scheme in note["reason"] and note["original"].startswith(scheme)
    assert rows["file_url.txt"]["site"] == "evil[2Jsite" and _notes(rows["file_url.txt"], "site")
    assert "\x00" not in rows["late_nul.txt"]["text"] and "Tail paragraph with a NUL inside it" in rows["late_nul.txt"]["text"]
    title = rows["hostile_title.html"]["title"]
    # the HTML parser already turns control characters into spaces (the original is in the
    # snapshot); markup-like text is kept as text, and escaped wherever it is printed
    assert "\x1b" not in title and "\x07" not in title and "<script>" in title and "# Injected heading" in title


def test_verify_works_after_hostile_values(hostile):
    out, _ = hostile
    report = audit.verify(out, all_records=True)
    assert report.ok, report.errors


def test_export_works_after_hostile_values(hostile):
    out, rows = hostile
    buf = io.StringIO()
    assert export.write_jsonl(out, buf) == len(archive.read_dataset(out, "articles"))
    res = CliRunner().invoke(app, ["export", str(out), "--dataset", "rejects"])
    assert res.exit_code == 0


def test_audit_prints_nothing_a_terminal_would_act_on(hostile):
    out, rows = hostile
    for path in ("far_future.txt", "hostile_title.html", "name\x1b[31m_escape.txt", "file_url.txt"):
        res = CliRunner().invoke(app, ["audit", str(out), rows[path]["doc_id"]])
        assert res.exit_code == 0, res.output
        assert "\x1b" not in res.stdout and "\x07" not in res.stdout
    res = CliRunner().invoke(app, ["audit", str(out), rows["far_future.txt"]["doc_id"]])
    assert "normalised fetched_at: dropped" in res.stdout and "9999-12-31" in res.stdout
    res = CliRunner().invoke(app, ["audit", str(out), rows["name\x1b[31m_escape.txt"]["doc_id"]])
    assert "name\\x1b[31m_escape.txt" in res.stdout


def test_search_works_and_prints_nothing_a_terminal_would_act_on(hostile):
    pytest.importorskip("tantivy")
    from thresher.search import search

    out, rows = hostile
    hits = search(out, "bridge")  # the two bridge pages are near-copies: one is canonical
    assert {h.doc_id for h in hits} & {rows["year_one.html"]["doc_id"], rows["hostile_title.html"]["doc_id"]}
    res = CliRunner().invoke(app, ["search", str(out), "mayor"])
    assert res.exit_code == 0 and "\x1b" not in res.stdout and "\\x1b" in res.stdout


def test_report_escapes_scraped_values(hostile):
    out, rows = hostile
    data = run_report(out)
    data["clusters"] = [{"canonical": {"doc_id": "x", "title": rows["hostile_title.html"]["title"]}, "members": [], "size": 2}]
    md = render_markdown(data)
    assert "[click me](javascript" not in md and "\\[click me\\]\\(javascript" in md
    assert "<script>" not in md and "\n# Injected" not in md and "\\# Injected heading" in md
    page = render_html(run_report(out))
    assert "<script>alert(2)" not in page and "&lt;script&gt;alert(2)" in page
    assert "\x1b" not in page


def _rewrite_with_fixed_hash(out, rel, change):
    import pyarrow.parquet as pq

    from conftest import file_sha256

    table = pq.read_table(out / rel)
    rows = table.to_pylist()
    change(rows)
    pq.write_table(table.from_pylist(rows, schema=table.schema), out / rel)
    for m_path in (out / "runs").glob("*.json"):
        m = json.loads(m_path.read_text())
        for f in m["files"]:
            if f["path"] == rel:
                f["sha256"] = file_sha256(out / rel)
        m_path.write_text(json.dumps(m))


def test_readers_hold_to_the_schema_ranges_of_a_row_another_writer_made(tmp_path):
    """A year-10000 fetched_at written by some other writer: every reader still works, and
    verify names the record and the column."""
    import datetime as dt

    pytest.importorskip("tantivy")
    from thresher.search import search

    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    out = tmp_path / "clean"
    run_local(raw, out)
    rel = next(p for p in archive.published(out) if p.startswith("articles/"))
    victim = {}

    def far(rows):
        rows[0]["fetched_at"] = dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-14)))
        rows[1]["published_at"] = dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)
        victim["ids"] = rows[0]["doc_id"], rows[1]["doc_id"]

    _rewrite_with_fixed_hash(out, rel, far)
    assert export.write_jsonl(out, io.StringIO()) == 5
    assert audit.lineage(out, victim["ids"][0])["record"]["fetched_at"] is None
    assert search(out, "Hanoi")
    report = audit.verify(out, all_records=True)
    assert any(victim["ids"][0] in e and "fetched_at" in e for e in report.errors), report.errors
    assert any(victim["ids"][1] in e and "published_at" in e for e in report.errors), report.errors
