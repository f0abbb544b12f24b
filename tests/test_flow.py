"""The Prefect flow `archive_corpus` end to end on the sample corpus, on a test Prefect server."""

from __future__ import annotations

import shutil

import pytest

from conftest import ROOT
from thresher import archive


@pytest.fixture
def raw_copy(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    (raw / "empty.txt").write_bytes(b"")
    return raw


def test_archive_corpus_flow(prefect_harness, raw_copy, tmp_path):
    from flows.archive import archive_corpus

    out = tmp_path / "clean"
    manifest = archive_corpus(raw_dir=str(raw_copy), out_dir=str(out), shard_size=2)
    articles = archive.read_dataset(out, "articles")
    rejects = archive.read_dataset(out, "rejects")
    assert articles.num_rows == 5 and rejects.num_rows == 1
    assert manifest["inputs"] == {"files": 6, "seen": 6, "new": 6, "skipped": 0}
    assert manifest["flow_run_id"] and set(articles.column("flow_run_id").to_pylist()) == {manifest["flow_run_id"]}
    titles = dict(zip(articles.column("source_path").to_pylist(), articles.column("title").to_pylist()))
    assert titles["003_83df8a5228aa84f7.txt"] is None
    assert titles["000_aa7425e82f06e4cb.txt"] == "Vietnam Marks Milestone with the Hanoi Convention"

    again = archive_corpus(raw_dir=str(raw_copy), out_dir=str(out), shard_size=2)
    assert again["inputs"] == {"files": 6, "seen": 6, "new": 0, "skipped": 6}
    assert archive.read_dataset(out, "articles").num_rows == 5


def test_verify_archive_flow(prefect_harness, raw_copy, tmp_path):
    from flows.verify import verify_archive

    from conftest import run_local

    out = tmp_path / "clean"
    run_local(raw_copy, out)
    assert verify_archive(out_dir=str(out), all_records=True)["ok"]
    (out / "runs").joinpath("x.json").write_text('{"run_id": "x", "files": [{"path": "articles/gone.parquet", "rows": 1, "sha256": "0"}], '
                                                 '"counts": {"articles": 0, "rejects": 0}, "inputs": {"seen": 0, "skipped": 0}}')
    with pytest.raises(RuntimeError, match="gone.parquet"):
        verify_archive(out_dir=str(out))
