"""The flow's local task runner: shard work in worker processes, task runs on threads."""

from __future__ import annotations

import logging
import os
import sys
from concurrent.futures.process import BrokenProcessPool

import pytest

# flows.shardpool (and Prefect) is imported inside the tests: workers import this module to
# find the functions below, and must not get Prefect from it.


def _pid(_: object) -> int:
    return os.getpid()


def _die(_: object) -> None:
    os._exit(3)  # what the OOM killer or a crash in a C library looks like to the pool


def _shard(items: list[str], on_input=None, poisoned=None) -> list[str]:
    """A shard as :func:`thresher.run.run_shard` takes it: each input announced, the poisoned
    ones given their reject, and a worker that dies on every input named "die..."."""
    out = []
    for i, item in enumerate(items):
        if on_input:
            on_input(i)
        if poisoned and i in poisoned:
            out.append(f"{poisoned[i][0]}: {poisoned[i][1]}")
        elif item.startswith("die"):
            os._exit(7)
        else:
            out.append(item)
    return out


def _warn(what: str) -> str:
    logging.getLogger("thresher.sources").warning("ignoring unreadable sidecar %s", what)
    return what


def _prefect_loaded(_: object) -> bool:
    return "prefect" in sys.modules


def _environment(name: str) -> str | None:
    return os.environ.get(name)


def _fsspec_s3_options(_: object) -> dict:
    import fsspec.config

    return fsspec.config.conf.get("s3", {})


def test_work_runs_in_worker_processes_that_never_import_prefect(tmp_path, monkeypatch):
    from flows.shardpool import ShardPool

    monkeypatch.chdir(tmp_path)
    with ShardPool(2) as pool:
        assert pool.compute(_pid, None) != os.getpid()
        assert pool.compute(os.path.abspath, "raw") == str(tmp_path / "raw")  # relative folders mean the same
        assert pool.compute(_prefect_loaded, None) is False


def test_workers_see_the_environment_of_the_flow_process_as_it_is_when_the_pool_starts(monkeypatch):
    """Workers come from a fork server started earlier; what was set since (credentials, an
    endpoint, fsspec options) must reach them as it would reach a spawned process."""
    from flows.forkserver import start_fork_server
    from flows.shardpool import ShardPool

    start_fork_server()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "set-after-the-fork-server")
    monkeypatch.setenv("FSSPEC_S3_ENDPOINT_URL", "http://127.0.0.1:9")
    with ShardPool(1) as pool:
        assert pool.compute(_environment, "AWS_ACCESS_KEY_ID") == "set-after-the-fork-server"
        assert pool.compute(_fsspec_s3_options, None).get("endpoint_url") == "http://127.0.0.1:9"


def test_a_dead_worker_fails_its_shard_and_the_next_shards_get_a_new_pool():
    from flows.shardpool import ShardPool

    with ShardPool(2) as pool:
        before = {pool.compute(_pid, None) for _ in range(4)}
        with pytest.raises(BrokenProcessPool):
            pool.compute(_die, None)
        after = pool.compute(_pid, None)  # the shard's Prefect retry lands here
        assert after not in before


def test_a_shard_whose_worker_dies_is_run_again_in_fresh_processes_and_only_its_poison_inputs_fail():
    from flows.shardpool import ShardPool

    with ShardPool(2) as pool:
        got = pool.compute(_shard, ["a", "die", "b", "die too", "c"], watched=True)
        assert pool.compute(_shard, ["d"]) == ["d"]  # the pool itself was replaced
    crashed = "worker_crashed: a fresh worker process that ran the shard again died on this input (exit code 7)"
    assert got == ["a", crashed, "b", crashed, "c"]


def test_the_library_logs_of_a_worker_are_logged_in_the_flow_process(caplog):
    from flows.shardpool import ShardPool

    with caplog.at_level(logging.INFO, logger="thresher"), ShardPool(1) as pool:
        assert pool.compute(_warn, "site.json") == "site.json"
    [record] = [r for r in caplog.records if r.name == "thresher.sources"]
    assert record.process == os.getpid() and record.levelno == logging.WARNING
    assert record.getMessage() == "ignoring unreadable sidecar site.json"


def test_outside_a_shard_pool_flow_the_work_runs_in_place():
    """On Dask, or in a flow on another task runner, a task computes its shard itself."""
    from flows.shardpool import ShardPool, compute

    assert compute(_pid, None) == os.getpid()
    pool = ShardPool(1)  # not started: a copy of the runner, as a Dask worker would get
    assert not pool.running_here
