"""prefect.yaml against a real `prefect server start`, as the recipe in docs/operations.md runs it.

One test, end to end: a server on a free port with its own PREFECT_HOME, the `thresher` work
pool, `prefect deploy --all` and `prefect deployment ls` from the repository, both deployments
read back (schedules, parameters, work pool), a process worker, `archive-corpus` run through it
on the sample pages, and the scheduled runs the server makes from both cron schedules; the
check `thresher verify --all` runs must pass on what the run wrote. The pool, the flow run and
the check go through the API and the library rather than the CLI: each `prefect` command costs
seconds of imports. Every process it starts is stopped at the end (worker before server: a
worker whose server is gone retries for a while).

It exists because `prefect deploy --all` and `prefect deployment ls` failed with HTTP 422 on a
standalone server with fastapi 0.151 to 0.154 (an explicit JSON null in a body field is no
longer replaced by the field's default; Prefect 3.8.8's client sends `"limit": null`), and
because with SQLAlchemy 2.1 the server's scheduler made no runs from the schedules.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT

BIN = Path(sys.executable).parent
PREFECT = str(BIN / "prefect")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(url: str, path: str, body: dict | None = None):
    """One call to the server's REST API. A busy SQLite database makes the server answer 503;
    Prefect's own client retries those, and so does this."""
    data = None if body is None else json.dumps(body).encode()
    for attempt in range(5):
        request = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code != 503 or attempt == 4:
                raise
            time.sleep(1 + attempt)


def stop(proc: subprocess.Popen, log) -> None:
    """Stop a process this test started, and its children (it leads its own session)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    log.close()


@pytest.fixture
def server(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_API_URL=url,
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_LOGGING_EXTRA_LOGGERS="thresher",
               PREFECT_WORKER_QUERY_SECONDS="1", PWD=str(ROOT))  # prefect.yaml's pull step reads $PWD
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if api(url, "/health") is True:
                    break
            except OSError:
                pass
            assert proc.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "server not healthy after 120 s"
            time.sleep(0.5)
        yield url, env
    finally:
        stop(proc, log)


def prefect(env, *args, timeout=120):
    done = subprocess.run([PREFECT, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"prefect {' '.join(args)}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done.stdout


def test_deploy_all_and_run_through_a_worker(server, tmp_path):
    url, env = server
    api(url, "/work_pools/", {"name": "thresher", "type": "process"})  # = prefect work-pool create thresher --type process
    log = open(tmp_path / "worker.log", "w")
    worker = subprocess.Popen([PREFECT, "worker", "start", "--pool", "thresher"], env=env, cwd=tmp_path,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        prefect(env, "--no-prompt", "deploy", "--all")
        listed = prefect(env, "deployment", "ls")
        assert "archive_corpus/archive-corpus" in listed and "verify_archive/verify-archive" in listed

        # the request that failed with 422: the client's defaults, nulls included
        body = {"limit": None, "offset": 0, "sort": None, "flows": None, "deployments": None}
        deployments = {d["name"]: d for d in api(url, "/deployments/filter", body)}
        assert set(deployments) == {"archive-corpus", "verify-archive"}
        archive, verify = deployments["archive-corpus"], deployments["verify-archive"]
        assert archive["entrypoint"] == "flows/archive.py:archive_corpus"
        assert archive["parameters"] == {"raw_dir": "raw", "out_dir": "clean", "shard_size": 1000}
        assert [s["schedule"]["cron"] for s in archive["schedules"]] == ["30 2 * * *"]
        assert verify["entrypoint"] == "flows/verify.py:verify_archive"
        assert verify["parameters"] == {"out_dir": "clean", "all_records": False, "sample": 500}
        assert [s["schedule"]["cron"] for s in verify["schedules"]] == ["0 4 * * 0"]
        for d in (archive, verify):
            assert d["work_pool_name"] == "thresher"
            assert d["schedules"][0]["schedule"]["timezone"] == "UTC" and d["schedules"][0]["active"]
            assert d["pull_steps"] == [{"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}]

        # = prefect deployment run archive_corpus/archive-corpus --param raw_dir=... --param out_dir=...
        out = tmp_path / "clean"
        params = {"raw_dir": str(ROOT / "raw"), "out_dir": str(out)}
        run = api(url, f"/deployments/{archive['id']}/create_flow_run", {"parameters": params})
        deadline = time.monotonic() + 150
        while run["state_type"] not in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            assert worker.poll() is None and time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(1)
            run = api(url, f"/flow_runs/{run['id']}")
    finally:
        stop(worker, log)
    assert run["state_type"] == "COMPLETED", (tmp_path / "worker.log").read_text()[-3000:]
    assert run["parameters"] == {"raw_dir": str(ROOT / "raw"), "out_dir": str(out), "shard_size": 1000}

    # the scheduler service turns both cron schedules into scheduled runs (it did not with
    # SQLAlchemy 2.1: "Can't evaluate bulk DML statement", and no schedule ever fired)
    deadline = time.monotonic() + 60
    while True:
        scheduled = api(url, "/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}})
        if {r["deployment_id"] for r in scheduled} == {archive["id"], verify["id"]}:
            break
        assert time.monotonic() < deadline, f"no scheduled runs after 60 s: {scheduled}"
        time.sleep(1)
    times = {(r["deployment_id"], r["expected_start_time"][11:16]) for r in scheduled}
    assert times == {(archive["id"], "02:30"), (verify["id"], "04:00")}

    from thresher.audit import verify as verify_archive  # what `thresher verify OUT --all` runs

    report = verify_archive(out, all_records=True)
    assert report.ok, report.errors
    assert report.checked["records"] == 5 and report.checked["records_rederived"] == 5
