"""Bad input never stops a run: a corpus of hostile files mixed into good pages. The run
completes, each bad file is one rejects row with the right reason, every good page comes out
exactly as it does alone, and the archive verifies."""

from __future__ import annotations

import codecs
import gzip
import io
import os
import shutil

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from conftest import FIXTURES, ROOT, run_local
from thresher import archive, audit
from thresher.config import Config
from thresher.run import archive_serial

GOOD = ["001_3c8e0fc09b8af7fa.txt", "002_c3bde9851478618a.txt", "003_83df8a5228aa84f7.txt"]
HTML_GOOD = ["a_wire_share_bars", "b_arc_see_more"]
CHROME_ONLY = "Log in\nShare:\nAdvertisement\nSubscribe\n"


def _warc(records) -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for make in records:
        writer.write_record(make(writer))
    return buf.getvalue()


def _response(body: bytes, ctype="text/html"):
    http = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
    return lambda w: w.create_warc_record("https://x.example/p", "response", payload=io.BytesIO(body), http_headers=http)


def _request(w):
    return w.create_warc_record("https://x.example/p", "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"))


def hostile_files(limit: int) -> dict[str, tuple[bytes, str]]:
    """file name -> (bytes, expected reject reason): at least 40 kinds of bad input."""
    page = (FIXTURES / "html" / "a_wire_share_bars.html").read_bytes()
    big = b"x" * (limit + 1)
    files = {
        "empty.txt": (b"", "empty"),
        "spaces.txt": (b"   \n\t\n  ", "empty"),
        "newlines.txt": (b"\n" * 500, "empty"),
        "png.txt": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 400, "not_text"),
        "nul_bytes.txt": (b"text\x00more\x00text" * 50, "not_text"),
        "controls.txt": (bytes(range(1, 9)) * 200, "not_text"),
        "elf.html": (b"\x7fELF\x02\x01\x01" + b"\x00" * 300, "not_text"),
        "pdf_as.html": (b"%PDF-1.7\n\x00\x00\x01binary" * 20, "not_text"),
        "zip_as.txt": (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 200, "not_text"),
        "bad_bom.txt": (codecs.BOM_UTF8 + b"\xff\xfe\xfd\xfc", "decode_error"),
        "bad_utf16.txt": (codecs.BOM_UTF16_LE + b"\x00\xd8\x00\xd8", "decode_error"),
        "too_big.txt": (big, "too_large"),
        "too_big.html": (b"<p>" + big, "too_large"),
        "bomb.txt.gz": (gzip.compress(b"a" * (limit * 4)), "too_large"),
        "bomb.html.gz": (gzip.compress(b"<p>" + b"a" * (limit * 4)), "too_large"),
        "cut.txt.gz": (gzip.compress(b"hello world " * 500)[:40], "truncated_archive"),
        "cut.html.gz": (gzip.compress(page)[:200], "truncated_archive"),
        "not_gzip.txt.gz": (b"this is plain text, not gzip at all", "truncated_archive"),
        "gz_of_binary.txt.gz": (gzip.compress(b"\x00\x01\x02" * 300), "not_text"),
        "gz_empty.txt.gz": (gzip.compress(b""), "empty"),
        "only_chrome.txt": (CHROME_ONLY.encode(), "no_content"),
        "only_teasers.txt": (b"Related news\nStorm hits coast\nStorm hits coast\n", "no_content"),
        "only_nav.html": (b"<html><body><nav><a href='/'>Home</a><a href='/w'>World</a></nav></body></html>", "too_short"),
        "empty_body.html": (b"<html><head><title>x</title></head><body></body></html>", "no_content"),
        "script_only.html": (b"<html><body><script>var a = 1;</script></body></html>", "no_content"),
        "comment_only.html": (b"<!-- nothing here -->", "no_content"),
        "tags_only.html": (b"<div><div><div></div></div></div>" * 100, "no_content"),
        "hidden_only.html": (b"<html><body><div style='display:none'><p>" + b"secret words " * 50 + b"</p></div></body></html>", "no_content"),
        "junk.warc": (b"this is not a warc file at all\n" * 10, "malformed_warc"),
        "junk.warc.gz": (gzip.compress(b"WARC/1.0\r\nnonsense\r\n\r\n"), "malformed_warc"),
        "empty.warc": (b"", "no_content"),
        "requests_only.warc.gz": (_warc([_request, _request]), "no_content"),
        "image_only.warc.gz": (_warc([_response(b"\xff\xd8\xff" + b"\x00" * 300, "image/jpeg")]), "not_html"),
        "pdf_only.warc.gz": (_warc([_response(b"%PDF-1.7 ...", "application/pdf")]), "not_html"),
        "json_only.warc.gz": (_warc([_response(b'{"a": 1}', "application/json")]), "not_html"),
        "cut.warc.gz": (_warc([_response(page)])[:300], "truncated_archive"),
        "empty_html_record.warc.gz": (_warc([_response(b"")]), "empty"),
        "chrome_record.warc.gz": (_warc([_response(b"<html><body><nav>Home</nav></body></html>")]), "too_short"),
        "big_record.warc.gz": (_warc([_response(b"<p>" + big)]), "too_large"),
        "name with spaces and ü.txt": (b"", "empty"),
        ("x" * 200) + ".txt": (b"", "empty"),
        "bad \udcff name.txt": (b"", "empty"),
    }
    return files


@pytest.fixture
def corpus(tmp_path):
    limit = 20_000
    good = tmp_path / "good"
    good.mkdir()
    for name in GOOD:
        shutil.copy(ROOT / "raw" / name, good / name)
    for slug in HTML_GOOD:
        shutil.copy(FIXTURES / "html" / f"{slug}.html", good / f"{slug}.html")
    mixed = tmp_path / "mixed"
    shutil.copytree(good, mixed)
    bad = mixed / "bad"
    bad.mkdir()
    expected = {}
    for name, (data, reason) in hostile_files(limit).items():
        path = os.path.join(os.fsencode(bad), os.fsencode(name))
        with open(path, "wb") as fh:
            fh.write(data)
        expected[name] = reason
    os.mkfifo(bad / "fifo.txt")
    expected["fifo.txt"] = "unreadable"
    (bad / "loop.txt").symlink_to(bad / "loop.txt")
    expected["loop.txt"] = "unreadable"
    (bad / "dir.txt").mkdir()  # a folder named like a page is not an input
    (bad / "broken.json").write_text("{not json")
    (bad / "broken.txt").write_text("A sentence long enough to be an article about the river rising again, officials said.")
    return good, mixed, tmp_path, expected, limit


def test_hostile_corpus(corpus):
    good, mixed, tmp_path, expected, limit = corpus
    assert len(expected) >= 40
    cfg = Config(max_bytes=limit * 10, shard_size=7)  # the size limit is per page; pages here are small
    manifest = archive_serial(mixed, tmp_path / "out", Config(max_bytes=limit, shard_size=7))
    archive_serial(good, tmp_path / "alone", cfg)
    rejects = archive.read_dataset(tmp_path / "out", "rejects").to_pylist()
    got = {r["source_path"].removeprefix("bad/"): r["reason"] for r in rejects}
    want = {n.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"): r for n, r in expected.items()}
    assert got == want
    assert len(rejects) == len(want), "one row per bad file"
    texts = {r["source_path"]: r["text"] for r in archive.read_dataset(tmp_path / "out", "articles").to_pylist()}
    texts_alone = {r["source_path"]: r["text"] for r in archive.read_dataset(tmp_path / "alone", "articles").to_pylist()}
    assert {k: v for k, v in texts.items() if not k.startswith("bad/")} == texts_alone
    assert "bad/broken.txt" in texts  # a broken sidecar costs nothing
    assert manifest["inputs"]["seen"] == len(texts) + manifest["counts"]["duplicates"] + len(rejects)
    assert audit.verify(tmp_path / "out", all_records=True).ok


def test_a_200_mb_page_is_rejected_without_being_read(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    with open(raw / "huge.html", "wb") as fh:  # sparse: 200 MB long, no disk used
        fh.truncate(200 * 1024 * 1024)
    before = __import__("resource").getrusage(__import__("resource").RUSAGE_SELF).ru_maxrss
    manifest = run_local(raw, tmp_path / "out")
    after = __import__("resource").getrusage(__import__("resource").RUSAGE_SELF).ru_maxrss
    (reject,) = archive.read_dataset(tmp_path / "out", "rejects").to_pylist()
    assert reject["reason"] == "too_large" and manifest["counts"]["rejects"] == 1
    assert (after - before) < 50 * 1024  # KiB: the page was never read into memory


def test_warc_record_limit_is_set_in_config(tmp_path):
    from thresher.sources import RawInput, read_pages

    (tmp_path / "w.warc.gz").write_bytes(_warc([_response(b"<p>" + b"word " * 50 + b"</p>")] * 3))
    units = list(read_pages(tmp_path, RawInput("w.warc.gz", "warc.gz"), 10**6, max_records=2))
    assert [type(u).__name__ for u in units] == ["Page", "Page", "Failed"] and units[-1].reject.reason == "too_large"


def _plain_warc(bodies: list[bytes]) -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=False)
    for i, body in enumerate(bodies):
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(f"https://x.example/{i}", "response", payload=io.BytesIO(body),
                                                      http_headers=http))
    return buf.getvalue()


def _content_length(warc: bytes, delta: int) -> bytes:
    """The first record's Content-Length off by ``delta``."""
    at = warc.index(b"Content-Length: ") + len(b"Content-Length: ")
    end = warc.index(b"\r\n", at)
    return warc[:at] + str(int(warc[at:end]) + delta).encode() + warc[end:]


def _story(seed: int) -> bytes:
    """An HTML story of its own: random words, so no two are near-duplicates of each other."""
    import random

    from fault_tools import WORDS

    rng = random.Random(seed)
    words = " ".join(rng.choice(WORDS) for _ in range(150))
    return f"<html><body><article><h1>Story {seed}</h1><p>{words}.</p></article></body></html>".encode()


STORY = _story(1)


def held_out_files(tmp) -> dict[str, list[str]]:
    """Kinds of bad files test_hostile_corpus does not have: name -> the reasons of its rows,
    in file order (a WARC has one row per record)."""
    two = [_story(2), _story(3)]
    first = len(_warc([_response(two[0])]))
    plain = _plain_warc([_story(5), _story(6)])
    files = {
        "cut_member.warc.gz": (_warc([_response(b) for b in two])[: first + 200], ["articles", "truncated_archive"]),
        "length_short.warc": (_content_length(plain, -100), ["malformed_warc", "articles"]),
        "length_long.warc": (_content_length(plain, +500), ["malformed_warc", "truncated_archive"]),
        "zeros.html": (b"\x00" * 8192, ["not_text"]),
        "zeros.txt": (b"\x00" * 8192, ["not_text"]),
        "nested.html": (b"<html><body>" + b"<div>" * 100_000 + b"<p>" + b"Deep words of a story about the river. " * 20
                        + b"</p>" + b"</div>" * 100_000 + b"</body></html>", None),
        "one_line_50mb.html": (None, ["too_large"]),  # written below, 50 MB without a newline
        "bad_utf16_bom.html": (codecs.BOM_UTF16_LE + "<html><body><p>hi</p>".encode("utf-16-le") + b"\x00\xdc\x00\xd8\x41",
                               ["decode_error"]),
        "two_members.txt.gz": (gzip.compress(b"Harbour headline\n\nThe first part of the story about the harbour and its boats. " * 3)
                               + gzip.compress(b"\nThe second member holds the end of the story about the fishermen. " * 3),
                               ["articles"]),
        "junk_after.html.gz": (gzip.compress(STORY) + b"junk that is not gzip", ["truncated_archive"]),
    }
    expected = {}
    for name, (data, reasons) in files.items():
        if data is None:
            with open(tmp / name, "wb") as fh:
                fh.write(b"<p>" + b"x" * (50 * 1024 * 1024))
        else:
            (tmp / name).write_bytes(data)
        expected[name] = reasons
    return expected


def test_held_out_hostile_kinds(tmp_path):
    """The run completes; every bad file is in the archive (one row, or one per WARC record)
    with a clear reason; the good pages are those of a run without the bad files."""
    good, mixed = tmp_path / "good", tmp_path / "mixed"
    good.mkdir()
    for name in GOOD:
        shutil.copy(ROOT / "raw" / name, good / name)
    shutil.copytree(good, mixed)
    bad = mixed / "bad"
    bad.mkdir()
    expected = held_out_files(bad)
    page = bad / "page.html"  # a folder named like a page is walked, not read: its pages are inputs
    page.mkdir()
    shutil.copy(ROOT / "raw" / GOOD[0], page / "inside.txt")
    odd = os.path.join(os.fsencode(bad), b"caf\xe9_\xff.html")  # Latin-1 bytes: not UTF-8
    with open(odd, "wb") as fh:
        fh.write(_story(4))
    os.mkfifo(bad / "pipe.html")
    expected["pipe.html"] = ["unreadable"]
    archive_serial(mixed, tmp_path / "out", Config(shard_size=4))
    archive_serial(good, tmp_path / "alone", Config(shard_size=4))
    got: dict[str, list[tuple[int, str]]] = {}
    for name in archive.RECORDS:
        for r in archive.read_dataset(tmp_path / "out", name).to_pylist():
            got.setdefault(r["source_path"], []).append((r["source_offset"] or 0, r.get("reason") or name, r.get("detail")))
    for name, reasons in expected.items():
        rows = sorted(got.pop(f"bad/{name}"))
        assert all(detail or reason in archive.RECORDS for _, reason, detail in rows), rows  # every reject says why
        if reasons is None:  # deep nesting: archived or rejected, but a row, never a crash
            assert len(rows) == 1 and rows[0][1] != "internal_error", rows
        else:
            assert [reason for _, reason, _ in rows] == reasons, (name, rows)
    assert [r[1] for r in got.pop("bad/page.html/inside.txt")] in (["articles"], ["duplicates"])
    assert [r[1] for r in got.pop("bad/caf\\xe9_\\xff.html")] == ["articles"]
    texts = {r["source_path"]: r["text"] for r in archive.read_dataset(tmp_path / "out", "articles").to_pylist()}
    alone = {r["source_path"]: r["text"] for r in archive.read_dataset(tmp_path / "alone", "articles").to_pylist()}
    assert {k: v for k, v in texts.items() if not k.startswith("bad/")} == alone
    assert set(got) == set(alone)  # nothing else: the good pages, once each
    assert "fishermen" in texts["bad/two_members.txt.gz"]  # every gzip member read
    assert audit.verify(tmp_path / "out", all_records=True).ok


def test_a_file_without_read_permission(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("running as root, which reads a file whatever its mode: no file can be unreadable here")
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(ROOT / "raw" / GOOD[0], raw / GOOD[0])
    (raw / "locked.txt").write_text("A page nobody may read.\n" * 20)
    (raw / "locked.txt").chmod(0)
    archive_serial(raw, tmp_path / "out", Config())
    (row,) = archive.read_dataset(tmp_path / "out", "rejects").to_pylist()
    assert row["source_path"] == "locked.txt" and row["reason"] == "unreadable" and "Permission" in row["detail"]
    assert audit.verify(tmp_path / "out", all_records=True).ok
