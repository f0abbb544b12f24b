"""`thresher run --dask-address` on a real local Dask cluster: a `dask scheduler` and two
`dask worker` processes started here, as docs/operations.md tells an operator to. The run must
give the rows the local process pool gives, verify, and use both workers; the cluster is torn
down whatever happens (each process in a session of its own, killed by group)."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive_samples import build_raw
from fault_tools import assert_one_row_per_input
from test_warc import write_warc
from thresher import archive

# Columns that name the run rather than the input: when and under which flow run it was made.
RUN_COLUMNS = {"processed_at", "flow_run_id"}


def _tool(name: str) -> str:
    """A console script of the venv the tests run in (the one CI builds from the dev lock)."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed; it is in requirements-dev.txt")
    return found


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process's whole group (a nanny and its worker), SIGKILL after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """``tcp://…`` of a scheduler with two single-threaded workers, as the docs start them."""
    from distributed import Client

    base = tmp_path_factory.mktemp("dask")
    info = base / "scheduler.json"
    logs = []
    started: list[subprocess.Popen] = []

    def start(*args: str, name: str) -> None:
        log = open(base / f"{name}.log", "w")
        logs.append(log)
        started.append(subprocess.Popen(["nice", "-n", "19", _tool("dask"), *args], cwd=base, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True))

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(info),
              name="scheduler")
        deadline = time.monotonic() + 60
        while not info.exists() or not info.read_text().strip():
            assert started[0].poll() is None, (base / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "the Dask scheduler did not start within 60 s"
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        for i in (1, 2):
            start("worker", address, "--nthreads", "1", "--no-dashboard", name=f"worker-{i}")
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(started):  # the workers first, the scheduler last
            _stop(process)
        for log in logs:
            log.close()


def _thresher_run(raw: Path, out: Path, *extra: str) -> dict:
    """`thresher run` as a user types it (in this process: the session's Prefect server serves
    both runs, instead of a temporary server started for each)."""
    from typer.testing import CliRunner

    from thresher.cli import app

    result = CliRunner().invoke(app, ["run", str(raw), str(out), "--shard-size", "4", "--json", *extra])
    assert result.exit_code == 0, result.output[-3000:]
    return json.loads(result.stdout[result.stdout.index("{"):])


def _rows(out: Path) -> dict[str, list[dict]]:
    """Every row of every record dataset, without the columns that name the run, by doc_id."""
    rows = {}
    for name in archive.RECORDS:
        table = archive.read_dataset(out, name)
        table = table.drop_columns([c for c in table.column_names if c in RUN_COLUMNS])
        rows[name] = sorted(table.to_pylist(), key=lambda r: (r["doc_id"], str(r.get("source_offset"))))
    return rows


def test_the_shard_argument_survives_pickling_as_a_dask_task_does():
    from prefect.utilities.annotations import quote

    from flows.archive import shipped

    job = ("a.json",)
    assert pickle.loads(pickle.dumps(quote(job))).unwrap() != job  # Prefect's own: ((('a.json',),),)
    back = pickle.loads(pickle.dumps(shipped(job)))
    assert isinstance(back, quote) and back.unwrap() == job


def test_a_run_on_a_dask_cluster_gives_the_rows_of_the_local_pool(prefect_harness, dask_cluster, tmp_path):
    from distributed import Client
    from typer.testing import CliRunner

    from thresher.cli import app

    raw = build_raw(tmp_path / "raw")
    write_warc(raw / "crawl.warc.gz")
    local = _thresher_run(raw, tmp_path / "local", "--workers", "2")
    on_dask = _thresher_run(raw, tmp_path / "dask", "--dask-address", dask_cluster)

    assert not on_dask.get("shard_errors"), on_dask["shard_errors"]
    assert on_dask["counts"] == local["counts"] and on_dask["rejects_per_reason"] == local["rejects_per_reason"]
    assert on_dask["counts"]["articles"] >= 10
    assert _rows(tmp_path / "dask") == _rows(tmp_path / "local")
    assert_one_row_per_input(raw, tmp_path / "dask")
    with Client(dask_cluster, timeout=30) as client:  # both workers cleaned shards
        assert set(client.run(lambda: "thresher.clean" in sys.modules).values()) == {True}

    result = CliRunner().invoke(app, ["verify", str(tmp_path / "dask"), "--all"])
    assert result.exit_code == 0 and "archive verified" in result.output, result.output
