"""A poison input (one that kills its worker process: a segfault in a C library, the OOM
killer) costs only itself: its shard is run again in fresh processes that report which input
they are on, the input each one dies on becomes a ``worker_crashed`` reject, and every other
input of the shard gets the row it gets in a run without the fault. The crash is injected
through ``tests/crash_hook.py``, a module the test adds to the workers' preload."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT, run_local
from fault_tools import assert_clean_archive, make_corpus, rows

POISON = {"page_003.txt": "segv", "page_005.txt": "exit"}  # the same shard of 6
RUN = """
import sys
from flows import forkserver
forkserver.WORKER_PRELOAD.append("crash_hook")  # before thresher run starts its fork server
from thresher.cli import app
app(sys.argv[1:])
"""


def test_a_poison_input_is_rejected_alone_and_its_shard_keeps_every_other_row(tmp_path):
    raw = make_corpus(tmp_path / "raw", extra=20)
    run_local(raw, tmp_path / "baseline")
    expected = rows(tmp_path / "baseline")
    out = tmp_path / "clean"
    env = {**{k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}, "THRESHER_TEST_CRASH": ",".join(f"{k}={v}" for k, v in POISON.items()),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(["nice", "-n", "19", sys.executable, "-c", RUN, "run", str(raw), str(out), "--shard-size", "6",
                           "--workers", "2", "--json"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads(done.stdout[done.stdout.index("{"):])
    assert not manifest["shard_errors"] and manifest["rejects_per_reason"].get("worker_crashed") == 2, manifest

    got = rows(out)
    assert {k: v for k, v in got.items() if k not in POISON} == {k: v for k, v in expected.items() if k not in POISON}
    for path, how in POISON.items():
        dataset, doc_id, reason = got[path]
        assert (dataset, doc_id, reason) == ("rejects", expected[path][1], "worker_crashed")  # its bytes' id
    details = {r["source_path"]: r["detail"] for r in _rejects(out) if r["reason"] == "worker_crashed"}
    assert "killed by signal SIGSEGV" in details["page_003.txt"] and "exit code 70" in details["page_005.txt"]
    assert_clean_archive(raw, out)

    run_local(raw, out)  # the fault gone: the next run replaces both rejects by the pages' rows
    assert rows(out) == expected
    assert_clean_archive(raw, out)


def _rejects(out) -> list[dict]:
    from thresher import archive

    return archive.read_dataset(out, "rejects", ["source_path", "reason", "detail"]).to_pylist()
