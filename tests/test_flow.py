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

    # the run's report: an HTML page in OUT_DIR, and artifacts on the flow run
    from prefect.client.orchestration import get_client

    from thresher import report

    assert "teaser_block@1" in report.report_path(out, manifest["run_id"]).read_text(encoding="utf-8")
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[manifest["flow_run_id"]])))
        # every shard is a task run of its own, with its state, though the work ran in a worker process
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[manifest["flow_run_id"]])))
    shard_runs = [t for t in task_runs if t.name.startswith("clean-shard")]
    assert len(shard_runs) == 3 and all(t.state.is_completed() for t in shard_runs)
    kinds = {a.type: a.data for a in found}
    assert {"progress", "table", "markdown"} <= set(kinds)
    assert kinds["progress"] == 100.0
    assert manifest["run_id"] in kinds["markdown"] and "| articles | 5 |" in kinds["markdown"]

    again = archive_corpus(raw_dir=str(raw_copy), out_dir=str(out), shard_size=2)
    assert again["inputs"] == {"files": 6, "seen": 6, "new": 0, "skipped": 6}
    assert archive.read_dataset(out, "articles").num_rows == 5


def test_the_flow_splits_warc_files_over_shards_as_the_serial_runner_does(prefect_harness, tmp_path):
    """The flow indexes the WARC files on its shard workers and makes the serial runner's
    shards, so the same rows."""
    from flows.archive import archive_corpus
    from test_shards import rows, write_crawl
    from thresher.config import Config
    from thresher.run import archive_serial

    raw = tmp_path / "raw"
    raw.mkdir()
    pages = write_crawl(raw / "a.warc.gz") + write_crawl(raw / "b.warc", gz=False, copies=1)
    manifest = archive_corpus(raw_dir=str(raw), out_dir=str(tmp_path / "flow"), shard_size=3)
    archive_serial(raw, tmp_path / "serial", Config(shard_size=3))
    assert manifest["inputs"]["files"] == 2 and manifest["inputs"]["seen"] == pages
    assert rows(tmp_path / "flow") == rows(tmp_path / "serial")


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


def test_a_crashing_shard_becomes_internal_error_rejects(prefect_harness, raw_copy, tmp_path, monkeypatch):
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.archive import archive_corpus
    from thresher import clean

    real = clean.clean_shard

    def flaky(raw_dir, units, *args, **kwargs):
        if any(u.item.source_path == "002_c3bde9851478618a.txt" for u in units):
            raise RuntimeError("a bug that only this shard meets")
        return real(raw_dir, units, *args, **kwargs)

    monkeypatch.setattr(clean, "clean_shard", flaky)
    out = tmp_path / "clean"
    flow = archive_corpus.with_options(task_runner=ThreadPoolTaskRunner(max_workers=1))
    manifest = flow(raw_dir=str(raw_copy), out_dir=str(out), shard_size=2)
    rejects = {r["source_path"]: r for r in archive.read_dataset(out, "rejects").to_pylist()}
    crashed = [p for p, r in rejects.items() if r["reason"] == "internal_error"]
    assert sorted(crashed) == ["002_c3bde9851478618a.txt", "003_83df8a5228aa84f7.txt"]  # the shard's two inputs
    assert "a bug that only this shard meets" in rejects["002_c3bde9851478618a.txt"]["detail"]
    assert len(manifest["shard_errors"]) == 1 and "RuntimeError" in manifest["shard_errors"][0]["traceback"]
    assert manifest["counts"]["articles"] == 3


def test_exit_code_rules():
    from thresher.cli import _run_failed

    ok = {"counts": {"articles": 3, "duplicates": 0, "rejects": 1}, "inputs": {"new": 4}, "shard_errors": []}
    assert _run_failed(ok, strict=False) is None
    assert _run_failed(ok, strict=True)
    nothing = {"counts": {"articles": 0, "duplicates": 0, "rejects": 4}, "inputs": {"new": 4}, "shard_errors": []}
    assert _run_failed(nothing, strict=False)
    unchanged = {"counts": {"articles": 0, "duplicates": 0, "rejects": 0}, "inputs": {"new": 0}, "shard_errors": []}
    assert _run_failed(unchanged, strict=True) is None


def test_thresher_run_starts_and_stops_its_own_prefect_server(raw_copy, tmp_path):
    """`thresher run` as a user runs it: without PREFECT_API_URL it launches a temporary Prefect
    server itself (while importing the flow) and its workers come from the fork server, even
    when the working directory holds folders named like thresher's packages."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    cwd = tmp_path / "elsewhere"
    for package in ("flows", "thresher"):
        (cwd / package).mkdir(parents=True)
        (cwd / package / "__init__.py").write_text("raise ImportError('a folder of the working directory')\n")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    out = tmp_path / "clean"
    done = subprocess.run([str(Path(sys.executable).parent / "thresher"), "run", str(raw_copy), str(out), "--workers", "2",
                           "--shard-size", "2", "--json"], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads(done.stdout)
    assert manifest["inputs"]["files"] == 6 and manifest["counts"]["articles"] == 5
    assert manifest["flow_run_id"] and not manifest["shard_errors"]
    assert "Traceback" not in done.stderr
