"""thresher export: exactly the published rows, in a file downstream tools read as they are."""

from __future__ import annotations

import json
import shutil

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from archive_samples import build_archive
from thresher import archive
from thresher.cli import app
from thresher.export import export


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    raw, out, manifest = build_archive(tmp_path_factory.mktemp("export"))
    # a file no manifest lists (an interrupted run's leftovers) is not part of the archive
    stray = out / "articles" / "99991231T000000Z-dead00-00000.parquet"
    shutil.copy(out / manifest["files"][0]["path"], stray)
    return out


def test_jsonl_has_every_published_row_once(sample, tmp_path):
    dest = tmp_path / "articles.jsonl"
    assert export(sample, "jsonl", dest) == archive.read_dataset(sample, "articles").num_rows
    rows = [json.loads(line) for line in dest.read_text(encoding="utf-8").splitlines()]
    expected = archive.read_dataset(sample, "articles").to_pylist()
    assert [r["doc_id"] for r in rows] == [r["doc_id"] for r in expected]
    assert [r["text"] for r in rows] == [r["text"] for r in expected]
    dated = next(r for r in rows if r["published_at"])
    assert dated["published_at"].endswith("+00:00") and isinstance(dated["removed"], list)


def test_parquet_keeps_the_schema_and_its_descriptions(sample, tmp_path):
    dest = tmp_path / "articles.parquet"
    export(sample, "parquet", dest, columns=["doc_id", "title", "text"])
    table = pq.read_table(dest)
    assert table.column_names == ["doc_id", "title", "text"]
    assert table.to_pylist() == archive.read_dataset(sample, "articles", ["doc_id", "title", "text"]).to_pylist()
    assert table.schema.field("text").metadata[b"description"].startswith(b"cleaned article body")
    assert not list(tmp_path.glob(".*.tmp"))


def test_other_datasets_and_bad_requests(sample, tmp_path):
    assert export(sample, "jsonl", tmp_path / "r.jsonl", dataset="rejects") == 2
    snaps = tmp_path / "s.jsonl"
    export(sample, "jsonl", snaps, dataset="snapshots", columns=["raw_sha256", "content"])
    first = json.loads(snaps.read_text().splitlines()[0])
    import base64, hashlib

    assert hashlib.sha256(base64.b64decode(first["content"])).hexdigest() == first["raw_sha256"]
    for bad in ({"fmt": "csv"}, {"dataset": "nope"}, {"columns": ["nope"]}, {"fmt": "parquet", "dest": None}):
        args = {"fmt": "jsonl", "dest": tmp_path / "x", "dataset": "articles", "columns": None, **bad}
        with pytest.raises(ValueError):
            export(sample, args["fmt"], args["dest"], args["dataset"], args["columns"])
    assert not (tmp_path / "x").exists()


def test_cli_streams_jsonl_to_stdout(sample):
    res = CliRunner().invoke(app, ["export", str(sample), "--columns", "doc_id,title"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(rows) == archive.read_dataset(sample, "articles").num_rows and set(rows[0]) == {"doc_id", "title"}
    assert CliRunner().invoke(app, ["export", str(sample), "--format", "xml"]).exit_code == 2
