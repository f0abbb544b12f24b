"""Discovery and reading of raw inputs: deterministic order, sidecars, gzip, limits."""

from __future__ import annotations

import gzip
import json
import os

from thresher.records import Reject
from thresher.sources import RawBytes, content_bytes, discover, read_input, sidecar_path


def test_discovers_text_inputs_recursively_in_sorted_order(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("z")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "c.txt.gz").write_bytes(gzip.compress(b"c"))
    (tmp_path / "a.json").write_text(json.dumps({"url": "https://example.org/a", "site": "Example"}))
    (tmp_path / "notes.md").write_text("not an input")
    found = discover(tmp_path)
    assert [i.source_path for i in found] == ["a.txt", "b/z.txt", "c.txt.gz"]
    assert {i.source_path: i.input_format for i in found} == {"a.txt": "txt", "b/z.txt": "txt", "c.txt.gz": "txt.gz"}
    assert found[0].sidecar == {"url": "https://example.org/a", "site": "Example"}


def test_sidecar_is_shared_by_plain_and_gzip_names(tmp_path):
    assert sidecar_path(tmp_path / "page.txt.gz") == tmp_path / "page.json"
    assert sidecar_path(tmp_path / "page.txt") == tmp_path / "page.json"


def test_broken_sidecar_is_ignored_not_fatal(tmp_path):
    (tmp_path / "p.txt").write_text("text")
    (tmp_path / "p.json").write_text("{not json")
    assert discover(tmp_path)[0].sidecar == {}


def test_symlink_out_of_raw_dir_is_skipped(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    raw = tmp_path / "raw"
    raw.mkdir()
    os.symlink(outside, raw / "link.txt")
    (item,) = discover(raw)
    assert item.refused and read_input(raw, item, 1000) is not None
    from thresher.sources import Failed, read_pages

    (unit,) = read_pages(raw, item, 1000)
    assert isinstance(unit, Failed) and unit.reject.reason == "unreadable" and "out of RAW_DIR" in unit.reject.detail


def test_reads_gzip_and_hashes_stored_bytes(tmp_path):
    blob = gzip.compress("Hà Nội".encode())
    (tmp_path / "p.txt.gz").write_bytes(blob)
    item = discover(tmp_path)[0]
    out = read_input(tmp_path, item, 1000)
    assert isinstance(out, RawBytes) and out.data == blob and out.raw_bytes == len(blob)
    assert content_bytes(item, out, 1000).decode() == "Hà Nội"


def test_truncated_gzip_is_rejected(tmp_path):
    (tmp_path / "p.txt.gz").write_bytes(gzip.compress(b"x" * 10000)[:40])
    item = discover(tmp_path)[0]
    out = content_bytes(item, read_input(tmp_path, item, 100000), 100000)
    assert isinstance(out, Reject) and out.reason == "truncated_archive"


def test_too_large_is_rejected_before_reading(tmp_path):
    (tmp_path / "big.txt").write_bytes(b"a" * 5000)
    (tmp_path / "bomb.txt.gz").write_bytes(gzip.compress(b"a" * 50000))
    big, bomb = discover(tmp_path)
    assert read_input(tmp_path, big, 1000).reason == "too_large"
    assert content_bytes(bomb, read_input(tmp_path, bomb, 1000), 1000).reason == "too_large"


def test_vanished_file_is_unreadable(tmp_path):
    (tmp_path / "p.txt").write_text("x")
    item = discover(tmp_path)[0]
    (tmp_path / "p.txt").unlink()
    out = read_input(tmp_path, item, 1000)
    assert isinstance(out, Reject) and out.reason == "unreadable"
