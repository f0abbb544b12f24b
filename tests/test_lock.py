"""One writer per archive: the lock a run holds from begin to publish, locally and on S3.

Each case here lost, doubled or corrupted data before the lock: two runs publishing the same
inputs, a second run's recovery deleting the live run's staging, and a recovery between the
last file move and the manifest write publishing a manifest of deleted files."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from conftest import ROOT, run_local
from thresher import archive, audit, sources
from thresher.archive import ArchiveBusy, lock as archive_lock
from thresher.config import Config
from thresher.run import archive_serial
from thresher.storage import Store


def one_row_per_input(raw, out) -> None:
    """Every discovered input is in exactly one row of articles, duplicates or rejects."""
    paths = [p for name in archive.RECORDS for p in archive.read_dataset(out, name, ["source_path"]).column("source_path").to_pylist()]
    assert sorted(paths) == sorted(i.source_path for i in sources.discover(raw))


def test_a_second_writer_is_refused_with_the_holders_details(tmp_path):
    held = archive.acquire(tmp_path / "out", "run-one")
    try:
        with pytest.raises(ArchiveBusy) as refused:
            archive.acquire(tmp_path / "out", "run-two")
        holder = refused.value.holder
        assert holder["run_id"] == "run-one" and holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
        assert holder["started_at"] and holder["user"]
        assert f"pid {os.getpid()}" in str(refused.value) and "run-one" in str(refused.value)
        assert archive_lock.peek(tmp_path / "out")["run_id"] == "run-one"
    finally:
        held.release()
    assert archive_lock.peek(tmp_path / "out") is None
    assert not (tmp_path / "out" / archive_lock.LOCK).exists()
    archive.acquire(tmp_path / "out", "run-two").release()  # free again


def test_the_lock_of_a_killed_run_is_taken_over_at_once(tmp_path):
    """The kernel releases a dead process's lock: no waiting, no manual clean-up; the next run
    says whose lock it took."""
    out = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from thresher.archive import acquire; acquire(sys.argv[1], 'doomed'); "
        "print('held', flush=True); time.sleep(60)"), str(out)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "held"
    with pytest.raises(ArchiveBusy):
        archive.acquire(out, "too-early")
    child.send_signal(signal.SIGKILL)
    child.wait()
    lock = archive.acquire(out, "next")
    try:
        assert lock.previous["run_id"] == "doomed" and lock.previous["pid"] == child.pid
        assert json.loads((out / archive_lock.LOCK).read_text())["run_id"] == "next"
    finally:
        lock.release()


def _blocking_mapper(entered: threading.Event, go: threading.Event):
    def mapper(fn, jobs):
        entered.set()
        assert go.wait(120)
        return map(fn, jobs)
    return mapper


def test_a_run_started_while_another_works_is_refused_and_touches_nothing(tmp_path):
    """The second run is refused before its recovery: the live run's staging survives, and the
    archive holds each input once."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    import shutil

    shutil.copytree(ROOT / "raw", raw)
    entered, go = threading.Event(), threading.Event()
    result: dict = {}
    first = threading.Thread(target=lambda: result.update(m=archive_serial(raw, out, Config(shard_size=2), _blocking_mapper(entered, go))))
    first.start()
    try:
        assert entered.wait(120)
        (out / "_staging" / "live-marker").mkdir(parents=True)  # what the live run is writing
        with pytest.raises(ArchiveBusy):
            run_local(raw, out)
        assert (out / "_staging" / "live-marker").is_dir()
    finally:
        go.set()
        first.join()
    assert result["m"]["counts"]["articles"] == 5
    assert run_local(raw, out)["inputs"]["new"] == 0  # once the first is done, the next run goes ahead
    one_row_per_input(raw, out)
    assert audit.verify(out, all_records=True).ok


def test_no_recovery_can_run_between_the_last_move_and_the_manifest(tmp_path, monkeypatch):
    """A second run starting at the worst moment (the files moved, the manifest not yet
    written) used to delete the moved files, leaving a manifest of missing files."""
    import shutil

    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(ROOT / "raw", raw)
    real_atomic = Store.write_atomic
    refused = []

    def second_run_first(self, rel, data):
        if rel.startswith("runs/") and not refused:
            with pytest.raises(ArchiveBusy):
                run_local(raw, out)
            refused.append(rel)
        return real_atomic(self, rel, data)

    monkeypatch.setattr(Store, "write_atomic", second_run_first)
    run_local(raw, out)
    assert refused
    assert audit.verify(out, all_records=True).ok
    one_row_per_input(raw, out)


def test_concurrent_runs_in_two_processes_publish_each_input_once(tmp_path):
    """Two runs started together on one OUT_DIR (a cron run overlapping a manual one): one
    publishes, the other is refused with exit code 75 (or, when it starts after the first
    ended, skips everything); never two rows for one input."""
    import shutil

    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(ROOT / "raw", raw)
    for i in range(40):
        (raw / f"extra_{i:02d}.txt").write_text(f"Story {i} headline\n" + f"Sentence {i} about the river and the town. " * 30)
    go = tmp_path / "go"
    script = ("import os, sys, time\n"
              "from thresher.archive import ArchiveBusy\n"
              "from thresher.config import Config\n"
              "from thresher.run import archive_serial\n"
              "while not os.path.exists(sys.argv[3]): time.sleep(0.01)\n"
              "try:\n"
              "    archive_serial(sys.argv[1], sys.argv[2], Config(shard_size=5))\n"
              "except ArchiveBusy as exc:\n"
              "    print(exc, file=sys.stderr); sys.exit(75)\n")
    runs = [subprocess.Popen([sys.executable, "-c", script, str(raw), str(out), str(go)], stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    time.sleep(1.0)  # both waiting at the start line
    go.touch()
    codes = sorted(p.wait(300) for p in runs)
    errors = [p.stderr.read() for p in runs]
    assert codes[0] == 0 and codes[1] in (0, 75), errors
    if codes[1] == 75:
        assert any("one writer at a time" in e for e in errors)
    one_row_per_input(raw, out)
    assert audit.verify(out, all_records=True).ok


# -- object storage -------------------------------------------------------------------------


def test_the_lock_on_object_storage_is_a_conditional_create(bucket):
    out = f"{bucket}/clean"
    held = archive.acquire(out, "run-one")
    try:
        with pytest.raises(ArchiveBusy) as refused:
            archive.acquire(out, "run-two")
        assert refused.value.holder["run_id"] == "run-one" and refused.value.holder["pid"] == os.getpid()
        held.check()
    finally:
        held.release()
    assert not Store(out).isfile(archive_lock.LOCK)
    archive.acquire(out, "run-three").release()


def test_a_stale_lock_on_object_storage_is_taken_over(bucket, monkeypatch):
    """A holder that is a dead process of this host is stale at once; one on another host is
    stale once its heartbeat is older than STALE_AFTER."""
    out = f"{bucket}/clean"
    store = Store(out)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    holder = {"run_id": "killed", "pid": int(dead.stdout), "host": socket.gethostname(), "started_at": "x",
              "heartbeat_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())}
    store.fs.pipe_file(store.path(archive_lock.LOCK), json.dumps(holder).encode())
    lock = archive.acquire(out, "next")
    assert lock.previous["run_id"] == "killed"
    lock.release()
    elsewhere = {**holder, "host": "another-host", "run_id": "far-away"}
    store.fs.pipe_file(store.path(archive_lock.LOCK), json.dumps(elsewhere).encode())
    with pytest.raises(ArchiveBusy):  # its heartbeat is fresh: it may be working
        archive.acquire(out, "next")
    elsewhere["heartbeat_at"] = "2020-01-01T00:00:00+00:00"
    store.fs.pipe_file(store.path(archive_lock.LOCK), json.dumps(elsewhere).encode())
    lock = archive.acquire(out, "next")
    assert lock.previous["run_id"] == "far-away"
    lock.release()


def test_a_run_whose_lock_was_taken_over_does_not_publish(bucket, tmp_path, monkeypatch):
    """A holder whose heartbeat stopped (a frozen VM) and whose lock another run took must not
    publish on top of it."""
    import shutil

    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    out = f"{bucket}/clean"
    monkeypatch.setattr(archive_lock, "HEARTBEAT", 0.05)
    real_publish = archive.publish

    def stolen(*args, **kwargs):
        store = Store(out)
        taken = json.loads(store.read_bytes(archive_lock.LOCK)) | {"run_id": "thief", "pid": 1, "host": "elsewhere"}
        store.fs.pipe_file(store.path(archive_lock.LOCK), json.dumps(taken).encode())  # its ETag changes
        time.sleep(0.5)  # the heartbeat notices
        return real_publish(*args, **kwargs)

    monkeypatch.setattr(archive, "publish", stolen)
    with pytest.raises(archive.LockLost):
        run_local(raw, out)
    assert archive.published_runs(out) == ()
