"""RAW_DIR and OUT_DIR on object storage (s3:// URLs), against a local S3-compatible server:
moto's server mode on a free localhost port, reached only through the AWS variables a user
sets (AWS_ENDPOINT_URL and keys). Every contract that holds locally must hold there."""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import FIXTURES, ROOT, run_local
from test_warc import write_warc
from thresher import archive, audit, sources
from thresher.storage import Store


def make_raw(raw: Path) -> Path:
    """The corpus a user would notice things about: the five seed dumps with sidecars, an HTML
    page, a WARC (three pages, an image record), a nested page, and two bad files."""
    shutil.copytree(ROOT / "raw", raw)
    shutil.copy(FIXTURES / "html" / "b_amp_story.html", raw / "story.html")
    (raw / "story.json").write_text(json.dumps({"url": "https://example.org/story", "fetched_at": "2025-03-04T08:00:00Z"}))
    write_warc(raw / "crawl.warc.gz")
    (raw / "sub").mkdir()
    (raw / "sub" / "river.txt").write_text("River bursts its banks in the north\n"
                                            + "The river rose two metres overnight, officials said. " * 8)
    (raw / "empty.txt").write_bytes(b"")
    (raw / "broken.html.gz").write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    (raw / "notes.md").write_text("not an input")
    return raw


def upload(local: Path, url: str) -> None:
    store = Store(url)
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        store.fs.pipe_file(store.path(path.relative_to(local).as_posix()), path.read_bytes())


def rows(out) -> dict[str, dict[str, tuple]]:
    """What a reader of the archive sees, per dataset, by doc_id."""
    keep = {"articles": ("source_path", "title", "text"), "duplicates": ("source_path", "duplicate_of", "text"),
            "rejects": ("source_path", "reason")}
    return {name: {r["doc_id"]: tuple(r[c] for c in cols) for r in archive.read_dataset(out, name).to_pylist()}
            for name, cols in keep.items()}


@pytest.fixture(scope="module")
def local_result(tmp_path_factory):
    """The same corpus archived between local folders: what every location must reproduce."""
    base = tmp_path_factory.mktemp("local")
    raw = make_raw(base / "raw")
    run_local(raw, base / "clean", shard_size=4)
    return raw, rows(base / "clean")


@pytest.mark.parametrize("where", ["s3->s3", "local->s3", "s3->local"])
def test_archive_on_object_storage_matches_the_local_archive(where, bucket, local_result, tmp_path):
    local_raw, expected = local_result
    raw = f"{bucket}/raw" if where.startswith("s3") else str(local_raw)
    out = f"{bucket}/clean" if where.endswith("s3") else str(tmp_path / "clean")
    if raw.startswith("s3://"):
        upload(local_raw, raw)
    manifest = run_local(raw, out, shard_size=4)

    got = rows(out)
    assert got == expected  # same doc_ids, paths relative to RAW, texts, reasons
    paths = {v[0] for d in got.values() for v in d.values()}
    assert {"000_aa7425e82f06e4cb.txt", "story.html", "crawl.warc.gz", "sub/river.txt", "empty.txt", "broken.html.gz"} <= paths
    assert not any(p.startswith(("s3:", "/", bucket[5:])) for p in paths)
    reasons = sorted(v[1] for v in got["rejects"].values())
    assert reasons == ["empty", "not_html", "truncated_archive"]
    assert all(v[2] for v in got["articles"].values())  # every article has text
    # every input in exactly one dataset
    assert manifest["inputs"]["seen"] == sum(len(d) for d in got.values()) == 13
    assert manifest["raw_dir"] == raw
    table = archive.read_dataset(out, "snapshots", ["raw_sha256", "input_format"])
    snaps = [s for s, f in zip(*(table.column(c).to_pylist() for c in ("raw_sha256", "input_format"))) if f != "context"]
    assert len(snaps) == len(set(snaps)) and len(snaps) == 13  # the broken gzip's bytes too; not the empty file's twin
    assert table.num_rows - len(snaps) == 13  # and each page's context (its sidecar, mtime or WARC headers)
    store = Store(out)
    assert store.files("runs", ".json") == [f"runs/{manifest['run_id']}.json"]
    assert store.entries("_staging") == []  # nothing of the run left behind
    assert audit.verify(out, all_records=True).ok


def test_incremental_runs_on_object_storage(bucket, local_result):
    local_raw, _ = local_result
    raw, out = f"{bucket}/raw", f"{bucket}/clean"
    upload(local_raw, raw)
    first = run_local(raw, out)
    store = Store(out)
    before = {p: store.read_bytes(p) for p in archive.published(out)}

    again = run_local(raw, out)
    assert again["inputs"] == {"files": first["inputs"]["files"], "seen": 13, "new": 0, "skipped": 13}
    assert again["files"] == []
    assert {p: store.read_bytes(p) for p in before} == before

    Store(raw).fs.pipe_file(Store(raw).path("late/flood.txt"),
                            b"Flood warning for the delta\n" + b"Water levels kept rising along the delta all week, the agency said. " * 6)
    third = run_local(raw, out)
    assert third["inputs"]["new"] == 1 and third["counts"]["articles"] == 1
    assert "late/flood.txt" in archive.read_dataset(out, "articles", ["source_path"]).column("source_path").to_pylist()
    assert audit.verify(out, all_records=True).ok


def test_verify_and_audit_on_object_storage_name_tampering(bucket, local_result):
    local_raw, _ = local_result
    out = f"{bucket}/clean"
    run_local(local_raw, out)
    store = Store(out)

    info = audit.lineage(out, "001_3c8e0fc09b8af7fa.txt")
    assert info["raw"]["snapshot_intact"] and info["run"]["run_id"]
    assert "raw snapshot: kept in this archive and intact" in audit.describe(info)
    warc = audit.lineage(out, "https://news.example/b_arc_see_more")
    assert warc["record"]["source_path"] == "crawl.warc.gz" and warc["record"]["warc_record_id"]

    # a flipped byte in a published object is named by its path
    rel = next(p for p in archive.published(out) if p.startswith("articles/"))
    data = bytearray(store.read_bytes(rel))
    data[len(data) // 2] ^= 0x01
    store.fs.pipe_file(store.path(rel), bytes(data))
    report = audit.verify(out)
    assert not report.ok and any(rel in e and "sha256" in e for e in report.errors)

    # a deleted object is named as missing
    snap = next(p for p in archive.published(out) if p.startswith("snapshots/"))
    store.remove(snap)
    assert any(snap in e and "missing" in e for e in audit.verify(out).errors)


def test_a_publish_cut_short_on_object_storage_stays_invisible(bucket, local_result, monkeypatch):
    """Object stores have no rename: publishing copies each file then writes the manifest.
    Cut it after two files: the run fails as a storage error, takes back the copies it made,
    readers see nothing of it, and the next run archives everything once."""
    local_raw, expected = local_result
    out = f"{bucket}/clean"
    real_move, moved = Store.move, []

    def crash_after_two(self, src, dest):
        if len(moved) == 2:
            raise ConnectionError("the network went away mid-publish")
        real_move(self, src, dest)
        moved.append(dest)

    monkeypatch.setattr(Store, "move", crash_after_two)
    with pytest.raises(archive.StorageError, match="the network went away"):
        run_local(local_raw, out, shard_size=4)
    monkeypatch.undo()

    store = Store(out)
    assert archive.load_manifests(out) == []
    assert all(archive.read_dataset(out, name).num_rows == 0 for name in archive.RECORDS)
    assert not any(store.isfile(p) for p in moved) and not store.entries("_staging")

    manifest = run_local(local_raw, out, shard_size=4)
    assert manifest["recovered_from_interrupted_runs"] == []
    assert rows(out) == expected
    assert audit.verify(out, all_records=True).ok


def test_an_object_over_the_size_limit_is_rejected_unread(bucket, monkeypatch):
    store = Store(f"{bucket}/raw")
    store.fs.pipe_file(store.path("big.txt"), b"x" * 5000)
    (item,) = sources.discover(store.url())
    monkeypatch.setattr(type(store.fs), "cat_file", lambda *a, **k: pytest.fail("read an object over the limit"))
    reject = sources.read_input(store.url(), item, max_bytes=1000)
    assert reject.reason == "too_large"


def test_a_warc_on_object_storage_is_streamed_a_block_at_a_time(bucket, monkeypatch):
    """A crawl's WARC can be gigabytes: it is read in ranged requests, never fetched whole."""
    import io

    import s3fs
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from thresher.sources import warc

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=False)
    pages = sorted((FIXTURES / "html").glob("*.html"))
    for page in pages:
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(f"https://news.example/{page.stem}", "response",
                                                      payload=io.BytesIO(page.read_bytes()), http_headers=http))
    store = Store(f"{bucket}/raw")
    store.fs.pipe_file(store.path("big.warc"), buf.getvalue())
    fetched = []
    real = s3fs.core.S3File._fetch_range
    monkeypatch.setattr(s3fs.core.S3File, "_fetch_range", lambda self, start, end: fetched.append(end - start) or real(self, start, end))
    monkeypatch.setattr(warc, "READ_BLOCK", 4096)

    (item,) = sources.discover(store.url())
    units = list(sources.read_pages(store.url(), item, max_bytes=1 << 20))
    assert [u.url for u in units] == [f"https://news.example/{p.stem}" for p in pages]
    assert len(buf.getvalue()) > 400_000 and max(fetched) < 64 << 10 and sum(fetched) >= len(buf.getvalue())


def test_cli_and_flow_on_object_storage(prefect_harness, bucket, local_result, tmp_path):
    """`thresher run` (the Prefect flow, a shard worker in its own process), then `report`,
    `export`, `verify` and `audit`, all on s3:// URLs."""
    from typer.testing import CliRunner

    from thresher.cli import app

    local_raw, expected = local_result
    raw, out = f"{bucket}/raw", f"{bucket}/clean"
    upload(local_raw, raw)
    cli = CliRunner()
    mistyped = cli.invoke(app, ["run", f"{bucket}/rwa", out])
    assert mistyped.exit_code == 2 and "nothing under that prefix" in mistyped.output  # not an empty run
    result = cli.invoke(app, ["run", raw, out, "--workers", "1", "--shard-size", "5", "--json"])
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout[result.stdout.index("{"):])
    assert manifest["flow_run_id"] and manifest["inputs"]["new"] == 13
    assert rows(out) == expected

    assert Store(out).isfile(f"reports/{manifest['run_id']}.html")  # the run's report, beside its manifest
    result = cli.invoke(app, ["report", out, "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["html"] == f"{out}/reports/{manifest['run_id']}.html"
    result = cli.invoke(app, ["export", out, "--columns", "doc_id,source_path"])
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == len(expected["articles"])

    result = cli.invoke(app, ["verify", out, "--all"])
    assert result.exit_code == 0 and "archive verified" in result.output, result.output
    result = cli.invoke(app, ["audit", out, "sub/river.txt"])
    assert result.exit_code == 0 and "kept in this archive and intact" in result.output, result.output

    rel = next(p for p in archive.published(out) if p.startswith("rejects/"))
    table = Store(out).read_parquet(rel)
    pq.write_table(table.slice(1), Store(out).path(rel), filesystem=Store(out).fs)  # a row dropped
    result = cli.invoke(app, ["verify", out])
    assert result.exit_code == 1 and rel in result.output
