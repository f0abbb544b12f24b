"""Stopping `thresher run` stops everything it started. SIGINT (Ctrl-C), SIGTERM (kill, a
scheduler's timeout) and SIGKILL (the OOM killer, kill -9) of the command, mid-shards: within
seconds no process it started is left (shard workers, their fork server, the temporary Prefect
server, multiprocessing's resource tracker), nothing writes into OUT_DIR any more, and the next
run archives every input exactly once and verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from conftest import run_local
from fault_tools import assert_clean_archive, make_corpus, rows


def _staged(out: Path) -> list[Path]:
    return sorted(p for p in (out / "_staging").rglob("*") if p.is_file()) if (out / "_staging").exists() else []


def _alive(procs: list[psutil.Process]) -> list[str]:
    """Those still running (a zombie has ended: it only waits to be reaped by its parent)."""
    left = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            pass
    return left


def _files(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_size for p in out.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Enough pages for many shards of 8: a signal sent when the first shard is staged finds
    the run mid-shards. Its rows without any signal are what every recovery must give."""
    base = tmp_path_factory.mktemp("shutdown")
    raw = make_corpus(base / "raw", extra=100, words=300)
    run_local(raw, base / "clean")
    return raw, rows(base / "clean")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_a_signal_stops_every_process_of_the_run(corpus, tmp_path, sig):
    raw, expected = corpus
    out = tmp_path / "clean"
    log = open(tmp_path / "run.log", "w")
    run = subprocess.Popen(["nice", "-n", "19", sys.executable, "-m", "thresher.cli", "run", str(raw), str(out),
                            "--shard-size", "8", "--workers", "2"],
                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                           env={k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"})  # its own server
    try:
        deadline = time.monotonic() + 300
        while not _staged(out):  # the first shard staged: the workers are mid-run
            assert run.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "no shard was staged within 300 s"
            time.sleep(0.02)
        family = psutil.Process(run.pid).children(recursive=True)
        assert not list((out / "runs").glob("*.json")) and run.poll() is None, "the run ended before the signal"
        names = " ".join(" ".join(p.cmdline()) for p in family)
        assert len(family) >= 4 and "uvicorn" in names and "forkserver" in names, names  # server, fork server, 2 workers

        sent = time.monotonic()
        os.kill(run.pid, sig)
        code = run.wait(timeout=30)
        ended = time.monotonic() - sent
        gone = psutil.wait_procs(family, timeout=5)[1]
        stopped = time.monotonic() - sent
        assert _alive(gone) == [], f"left running after {sig.name}: {_alive(gone)}"
        print(f"{sig.name}: exit {code} after {ended:.1f} s, every process gone {stopped:.1f} s after the signal")
        assert code != 0
        if sig == signal.SIGINT:
            assert code == 130, (tmp_path / "run.log").read_text()[-2000:]
        before = _files(out)
        time.sleep(1.0)
        assert _files(out) == before, "something still writes into OUT_DIR"
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
        log.close()

    run_local(raw, out)  # the next run takes the lock, clears what the stopped run left, archives all
    assert_clean_archive(raw, out)
    assert rows(out) == expected
