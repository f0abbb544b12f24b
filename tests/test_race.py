"""Reading is race-free: what discovery listed is what is read, once, without following links.

Each test changes RAW_DIR between discovery and reading (discovery is wrapped, the run itself
is the library's serial run) and checks what a user would see in the archive: a path swapped
for a link to a file outside RAW_DIR is a clear reject and none of that file's bytes are
archived; a page rewritten in place is archived from the one read whose bytes are its
snapshot; every case verifies, and the next run leaves the input in exactly one row."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from collections import Counter

import pytest

from conftest import ROOT
from thresher import archive, audit, sources
from thresher.config import Config
from thresher.run import archive_serial
from thresher.sources import Failed, RawInput, discover, read_pages

GOOD = ["001_3c8e0fc09b8af7fa.txt", "002_c3bde9851478618a.txt", "003_83df8a5228aa84f7.txt"]
SECRET = "root:x:0:0:SECRET-MARKER-6d1f:/root:/bin/bash"
REWRITTEN = ("The river rose again overnight and the council opened two more shelters near the old bridge, "
             "officials said on Tuesday after a meeting that lasted until dawn.\n") * 3


def _raw(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in GOOD:
        shutil.copy(ROOT / "raw" / name, raw / name)
    secret = tmp_path / "passwd"
    secret.write_text((SECRET + "\n") * 20 + "A sentence long enough to look like an article about the town.\n" * 5)
    return raw, secret


def _after_discovery(monkeypatch, change):
    """Run ``change()`` right after the run's discovery, before any input is read."""
    real = sources.discover

    def discover_then_change(raw_dir):
        found = real(raw_dir)
        change()
        return found

    monkeypatch.setattr(sources, "discover", discover_then_change)


def _rows(out):
    rows = []
    for name in ("articles", "duplicates", "rejects"):
        rows += [(name, r) for r in archive.read_dataset(out, name).to_pylist()]
    return rows


def _archived_bytes(out) -> bytes:
    """Every byte the archive holds of its inputs: snapshots (sidecars in the contexts
    decoded) and every row's text."""
    blobs = []
    for snap in archive.read_dataset(out, "snapshots").to_pylist():
        blobs.append(snap["content"])
        if snap["input_format"] == "context":
            side = json.loads(snap["content"]).get("sidecar")
            if side:
                blobs.append(base64.b64decode(side))
    blobs += [json.dumps(r, default=str).encode() for _, r in _rows(out)]
    return b"\n".join(blobs)


def test_a_file_swapped_for_a_link_after_discovery_is_rejected_never_read(tmp_path, monkeypatch):
    raw, secret = _raw(tmp_path)
    victim = raw / GOOD[1]

    def swap():
        victim.unlink()
        victim.symlink_to(secret)  # a link to a file outside RAW_DIR: discovery would refuse it

    _after_discovery(monkeypatch, swap)
    out = tmp_path / "out"
    archive_serial(raw, out, Config())
    rows = _rows(out)
    (row,) = [r for _, r in rows if r["source_path"] == GOOD[1]]
    assert row["reason"] == "changed_since_discovery" and "symbolic link" in row["detail"]
    assert "discovery found a regular file" in row["detail"]
    assert SECRET.encode() not in _archived_bytes(out)
    assert {r["source_path"] for name, r in rows if name == "articles"} == {GOOD[0], GOOD[2]}
    assert audit.verify(out, all_records=True).ok

    monkeypatch.undo()  # the next run sees the link at discovery and refuses it
    archive_serial(raw, out, Config())
    per_input = Counter(r["source_path"] for _, r in _rows(out))
    assert per_input == {name: 1 for name in GOOD}
    (row,) = [r for _, r in _rows(out) if r["source_path"] == GOOD[1]]
    assert row["reason"] == "unreadable" and "out of RAW_DIR" in row["detail"]
    assert SECRET.encode() not in _archived_bytes(out)
    assert audit.verify(out, all_records=True).ok


@pytest.mark.parametrize("how", ["fifo", "replaced", "deleted"])
def test_a_path_that_is_another_thing_at_reading_is_a_clear_reject(tmp_path, monkeypatch, how):
    raw, _ = _raw(tmp_path)
    victim = raw / GOOD[1]

    def change():
        if how == "replaced":  # the same bytes, another file: a scraper's write-then-rename
            (raw / "tmp").write_bytes(victim.read_bytes())
            os.replace(raw / "tmp", victim)
            return
        victim.unlink()
        if how == "fifo":
            os.mkfifo(victim)  # would block a reader that opens it without O_NONBLOCK

    _after_discovery(monkeypatch, change)
    out = tmp_path / "out"
    archive_serial(raw, out, Config())
    (row,) = [r for _, r in _rows(out) if r["source_path"] == GOOD[1]]
    assert row["reason"] == ("unreadable" if how == "deleted" else "changed_since_discovery")  # vanished: as before
    assert {"fifo": "a FIFO now", "replaced": "another file now", "deleted": "FileNotFoundError"}[how] in row["detail"]
    assert audit.verify(out, all_records=True).ok
    monkeypatch.undo()
    if how == "fifo":
        victim.unlink()
        shutil.copy(ROOT / "raw" / GOOD[1], victim)
    if how != "deleted":  # the next run retries it and its row replaces the reject
        archive_serial(raw, out, Config())
        assert Counter(r["source_path"] for _, r in _rows(out)) == {name: 1 for name in GOOD}
        (name, row), = [(n, r) for n, r in _rows(out) if r["source_path"] == GOOD[1]]
        assert name == "articles"
        assert audit.verify(out, all_records=True).ok


def test_a_page_rewritten_in_place_is_archived_from_one_read(tmp_path, monkeypatch):
    raw, _ = _raw(tmp_path)
    victim = raw / GOOD[1]

    def rewrite():
        with open(victim, "r+b") as fh:  # the same file (inode), new bytes
            fh.truncate(0)
            fh.write(REWRITTEN.encode())

    _after_discovery(monkeypatch, rewrite)
    out = tmp_path / "out"
    archive_serial(raw, out, Config())
    (row,) = [r for n, r in _rows(out) if r["source_path"] == GOOD[1] and n == "articles"]
    snaps = {s["raw_sha256"]: s["content"] for s in archive.read_dataset(out, "snapshots").to_pylist()}
    assert row["raw_sha256"] == hashlib.sha256(REWRITTEN.encode()).hexdigest()
    assert hashlib.sha256(snaps[row["raw_sha256"]]).hexdigest() == row["raw_sha256"]
    assert "council opened two more shelters" in row["text"]
    assert audit.verify(out, all_records=True).ok


def test_a_warc_swapped_for_a_link_is_not_read(tmp_path):
    from test_hostile import _response, _warc

    raw, secret = _raw(tmp_path)
    (raw / "crawl.warc.gz").write_bytes(_warc([_response(b"<html><body><p>" + b"word " * 80 + b"</p></body></html>")]))
    (item,) = [i for i in discover(raw) if i.source_path == "crawl.warc.gz"]
    (raw / "crawl.warc.gz").unlink()
    (raw / "crawl.warc.gz").symlink_to(secret)
    (unit,) = read_pages(raw, item, 10**6)
    assert isinstance(unit, Failed) and unit.reject.reason == "changed_since_discovery"


def test_a_sidecar_that_is_a_link_is_never_read(tmp_path):
    raw, _ = _raw(tmp_path)
    outside = tmp_path / "elsewhere.json"
    outside.write_text(json.dumps({"url": "https://example.org/x", "note": SECRET}))
    (raw / GOOD[0].replace(".txt", ".json")).symlink_to(outside)
    (raw / "fifo.json").parent.mkdir(exist_ok=True)
    shutil.copy(ROOT / "raw" / GOOD[1], raw / "fifo.txt")
    os.mkfifo(raw / "fifo.json")  # a sidecar that is a FIFO must not block discovery
    found = {i.source_path: i for i in discover(raw)}
    assert found[GOOD[0]].sidecar == {} and found[GOOD[0]].sidecar_bytes is None
    assert found["fifo.txt"].sidecar_bytes is None
    out = tmp_path / "out"
    archive_serial(raw, out, Config())
    assert SECRET.encode() not in _archived_bytes(out)


def test_a_link_inside_raw_dir_is_still_read(tmp_path):
    raw, _ = _raw(tmp_path)
    (raw / "sub").mkdir()
    (raw / "sub" / "alias.txt").symlink_to(raw / GOOD[0])
    (item,) = [i for i in discover(raw) if i.source_path == "sub/alias.txt"]
    assert item.link and item.ident == (os.stat(raw / GOOD[0]).st_dev, os.stat(raw / GOOD[0]).st_ino)
    (unit,) = read_pages(raw, item, 10**6)
    assert not isinstance(unit, Failed) and unit.stored == (raw / GOOD[0]).read_bytes()
    (raw / "sub" / "alias.txt").unlink()  # re-pointed at another file after discovery
    (raw / "sub" / "alias.txt").symlink_to(raw / GOOD[2])
    (unit,) = read_pages(raw, item, 10**6)
    assert isinstance(unit, Failed) and unit.reject.reason == "changed_since_discovery"


def test_a_hand_made_input_is_opened_without_following_a_link(tmp_path):
    raw, secret = _raw(tmp_path)
    (raw / "x.txt").symlink_to(secret)
    (unit,) = read_pages(raw, RawInput("x.txt", "txt"), 10**6)
    assert isinstance(unit, Failed) and unit.reject.reason == "unreadable" and "symbolic link" in unit.reject.detail
