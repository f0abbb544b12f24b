"""WARC archives: every HTML record becomes a page with its file, offset and record id;
other records are rejected with a reason; a broken archive keeps what came before the break."""

from __future__ import annotations

import gzip
import io
import shutil

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from conftest import FIXTURES, run_local
from thresher import archive, audit
from thresher.records import make_doc_id

PAGES = ["a_wire_share_bars", "b_arc_see_more", "a_de_hallenbad"]


def write_warc(path, gz=True, extra=()):
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
    for i, slug in enumerate(PAGES):
        body = (FIXTURES / "html" / f"{slug}.html").read_bytes()
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(f"https://news.example/{slug}", "response", payload=io.BytesIO(body),
                                                      http_headers=http, warc_headers_dict={"WARC-Date": f"2025-03-0{i + 1}T10:00:00Z"}))
        writer.write_record(writer.create_warc_record(f"https://news.example/{slug}", "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")))
    img = StatusAndHeaders("200 OK", [("Content-Type", "image/jpeg")], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record("https://news.example/logo.jpg", "response", payload=io.BytesIO(b"\xff\xd8\xff" + b"\x00" * 500), http_headers=img))
    for record in extra:
        writer.write_record(record(writer))
    path.write_bytes(buf.getvalue())


def run(raw, out):
    return run_local(raw, out)


@pytest.mark.parametrize("gz", [True, False], ids=["warc.gz", "warc"])
def test_warc_html_records_become_articles_with_provenance(tmp_path, gz):
    raw = tmp_path / "raw"
    raw.mkdir()
    name = "crawl.warc.gz" if gz else "crawl.warc"
    write_warc(raw / name, gz=gz)
    manifest = run(raw, tmp_path / "out")
    arts = archive.read_dataset(tmp_path / "out", "articles").to_pylist()
    rejs = archive.read_dataset(tmp_path / "out", "rejects").to_pylist()
    assert manifest["inputs"]["files"] == 1 and manifest["inputs"]["seen"] == 4
    assert [a["source_url"] for a in arts] == [f"https://news.example/{s}" for s in PAGES]
    assert [r["reason"] for r in rejs] == ["not_html"] and rejs[0]["source_offset"] > 0
    offsets = [a["source_offset"] for a in arts]
    assert offsets == sorted(offsets) and len(set(offsets)) == 3
    for a in arts:
        assert a["source_path"] == name and a["input_format"] == name.split(".", 1)[1]
        assert a["warc_record_id"].startswith("<urn:uuid:") and a["fetched_at_source"] == "warc"
        assert a["doc_id"] == make_doc_id(name, a["raw_sha256"], a["source_offset"])
    assert arts[0]["fetched_at"].isoformat() == "2025-03-01T10:00:00+00:00"


def test_record_offset_points_at_the_record(tmp_path):
    from warcio.archiveiterator import ArchiveIterator

    raw = tmp_path / "raw"
    raw.mkdir()
    write_warc(raw / "c.warc.gz")
    run_out = tmp_path / "out"
    run(raw, run_out)
    art = archive.read_dataset(run_out, "articles").to_pylist()[1]
    with open(raw / "c.warc.gz", "rb") as fh:
        fh.seek(art["source_offset"])
        record = next(iter(ArchiveIterator(fh)))
        assert record.rec_headers.get_header("WARC-Record-ID") == art["warc_record_id"]


def test_truncated_warc_keeps_the_records_before_the_break(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    write_warc(tmp_path / "full.warc.gz")
    data = (tmp_path / "full.warc.gz").read_bytes()
    (raw / "cut.warc.gz").write_bytes(data[: int(len(data) * 0.6)])
    manifest = run(raw, tmp_path / "out")
    reasons = [r["reason"] for r in archive.read_dataset(tmp_path / "out", "rejects").to_pylist()]
    assert manifest["counts"]["articles"] >= 1
    assert reasons[-1] in {"truncated_archive", "malformed_warc"}


def test_not_a_warc_is_rejected_not_fatal(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "junk.warc").write_bytes(b"this is not a warc file at all\n" * 10)
    manifest = run(tmp_path / "raw", tmp_path / "out")
    rejects = archive.read_dataset(tmp_path / "out", "rejects").to_pylist()
    assert manifest["counts"] == {"articles": 0, "duplicates": 0, "rejects": 1} and rejects[0]["reason"] == "malformed_warc"


def test_second_run_skips_archived_records(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    write_warc(raw / "crawl.warc.gz")
    run(raw, tmp_path / "out")
    again = run(raw, tmp_path / "out")
    assert again["inputs"]["new"] == 0 and again["inputs"]["skipped"] == 4


def test_html_files_and_gzip_are_discovered(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(FIXTURES / "html" / "a_wire_share_bars.html", raw / "a.html")
    (raw / "b.htm.gz").write_bytes(gzip.compress((FIXTURES / "html" / "b_amp_story.html").read_bytes()))
    manifest = run(raw, tmp_path / "out")
    arts = archive.read_dataset(tmp_path / "out", "articles").to_pylist()
    assert manifest["counts"]["articles"] == 2
    assert {a["input_format"] for a in arts} == {"html", "html.gz"}


def _records_of(gz: bool, mangle) -> bytes:
    """Three page records, the middle one broken by ``mangle(record_bytes) -> bytes``."""
    parts = []
    for i, slug in enumerate(PAGES):
        buf = io.BytesIO()
        writer = WARCWriter(buf, gzip=gz)
        body = (FIXTURES / "html" / f"{slug}.html").read_bytes()
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(f"https://news.example/{slug}", "response", payload=io.BytesIO(body), http_headers=http))
        parts.append(mangle(buf.getvalue()) if i == 1 else buf.getvalue())
    return b"".join(parts)


def _no_target_uri(data: bytes, gz: bool) -> bytes:
    raw = gzip.decompress(data) if gz else data
    head, rest = raw.split(b"\r\n\r\n", 1)
    head = b"\r\n".join(line for line in head.split(b"\r\n") if not line.startswith(b"WARC-Target-URI"))
    raw = head + b"\r\n\r\n" + rest
    return gzip.compress(raw) if gz else raw


def _garbled_header(data: bytes, gz: bool) -> bytes:
    raw = gzip.decompress(data) if gz else data
    raw = raw.replace(b"WARC/1.1\r\n", b"\x00\x01 not a status line\r\n", 1).replace(b"WARC/1.0\r\n", b"\x00\x01 not a status line\r\n", 1)
    return gzip.compress(raw) if gz else raw


@pytest.mark.parametrize("gz", [True, False], ids=["warc.gz", "warc"])
@pytest.mark.parametrize("fault", [_no_target_uri, _garbled_header], ids=["no-target-uri", "garbled-header"])
def test_a_bad_record_costs_only_itself(tmp_path, gz, fault):
    """A `response` record without WARC-Target-URI raised inside warcio ('NoneType' object has
    no attribute 'startswith') and a record whose header does not parse stopped the file: the
    pages after it were lost. Now that record is one malformed_warc reject and the next is read."""
    raw = tmp_path / "raw"
    raw.mkdir()
    name = "crawl.warc.gz" if gz else "crawl.warc"
    (raw / name).write_bytes(_records_of(gz, lambda data: fault(data, gz)))
    manifest = run(raw, tmp_path / "out")
    arts = archive.read_dataset(tmp_path / "out", "articles").to_pylist()
    (rej,) = archive.read_dataset(tmp_path / "out", "rejects").to_pylist()
    assert [a["source_url"] for a in arts] == [f"https://news.example/{PAGES[0]}", f"https://news.example/{PAGES[2]}"]
    assert rej["reason"] == "malformed_warc" and rej["source_offset"] > arts[0]["source_offset"]
    assert manifest["inputs"]["seen"] == 3
    assert audit.verify(tmp_path / "out", all_records=True).ok
