"""A write that fails (a full disk, a file size limit) fails the run before it publishes and
leaves nothing a later run or dedup reads; the next run, with room again, archives every input
once. Found before the work starts where it can be: a full disk, a small ``ulimit -f``."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from conftest import run_local
from fault_tools import assert_clean_archive, assert_intact, leftovers, make_corpus, rows
from thresher import archive, preflight
from thresher.storage import Store


class Full:
    """Store writes that fail with ENOSPC from the first one ``when(rel, n)`` picks on (``n``
    counts every Parquet and manifest write), as a disk that fills up mid-run."""

    def __init__(self, monkeypatch, when) -> None:
        self.when, self.calls, self.full = when, 0, False
        real_parquet, real_atomic = Store.write_parquet, Store.write_atomic

        def parquet(store, table, rel, **kwargs):
            self._tick(rel)
            return real_parquet(store, table, rel, **kwargs)

        def atomic(store, rel, data):
            self._tick(rel)
            return real_atomic(store, rel, data)

        monkeypatch.setattr(Store, "write_parquet", parquet)
        monkeypatch.setattr(Store, "write_atomic", atomic)

    def _tick(self, rel: str) -> None:
        self.calls += 1
        self.full = self.full or self.when(rel, self.calls)
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device", rel)


# every kind of write a run makes: a shard's staged files, the dedup decisions, the dedup
# rewrite of a shard's articles (duplicates), the manifest
WHEN = {
    "first-staged-file": lambda rel, n: rel.startswith("_staging/"),
    "staged-rejects": lambda rel, n: rel.endswith("/rejects.parquet"),
    "tenth-write": lambda rel, n: n >= 10,
    "dedup-decisions": lambda rel, n: rel.endswith("/decisions.parquet"),
    "dedup-rewrite": lambda rel, n: rel.endswith("/duplicates.parquet"),
    "manifest": lambda rel, n: rel.startswith("runs/"),
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The corpus and the rows of a run that met no fault."""
    base = tmp_path_factory.mktemp("reference")
    raw = make_corpus(base / "raw", extra=20)  # 27 inputs
    run_local(raw, base / "out", shard_size=5)
    return raw, rows(base / "out")


@pytest.mark.parametrize("when", sorted(WHEN))
def test_a_disk_full_mid_run_fails_the_run_and_leaves_nothing(reference, tmp_path, monkeypatch, when):
    raw, expected = reference
    out = tmp_path / "out"
    full = Full(monkeypatch, WHEN[when])
    with pytest.raises(archive.StorageError, match="No space left"):
        run_local(raw, out, shard_size=5)
    assert full.full
    assert archive.published_runs(out) == ()
    assert leftovers(out) == [] and not (out / "_lock.json").exists()
    monkeypatch.undo()  # room again
    run_local(raw, out, shard_size=5)
    assert_clean_archive(raw, out)
    assert rows(out) == expected


def test_a_disk_full_after_a_published_run_keeps_that_run_whole(reference, tmp_path, monkeypatch):
    raw, expected = reference
    out = tmp_path / "out"
    run_local(raw, out, shard_size=5)
    (raw / "late.txt").write_text("A late story about the harbour\n\n" + "The harbour opened again on Monday. " * 20)
    Full(monkeypatch, WHEN["first-staged-file"])
    with pytest.raises(archive.StorageError):
        run_local(raw, out, shard_size=5)
    monkeypatch.undo()
    assert_intact(out)
    assert len(archive.published_runs(out)) == 1
    run_local(raw, out, shard_size=5)
    assert_clean_archive(raw, out)
    assert {k: v for k, v in rows(out).items() if k != "late.txt"} == expected
    (raw / "late.txt").unlink()


RUN = """
import resource, sys
from thresher import preflight
from thresher.config import Config
from thresher.run import archive_serial
preflight.MIN_ROOM = int(sys.argv[4])
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]), resource.RLIM_INFINITY))
try:
    archive_serial(sys.argv[1], sys.argv[2], Config(shard_size=5))
except Exception as exc:
    print(type(exc).__name__, exc, file=sys.stderr)
    sys.exit(3)
"""


def test_a_file_size_limit_hit_mid_run_fails_it_cleanly(reference, tmp_path):
    """``ulimit -f`` ("File too large"): the run used to publish ``articles: -101`` after
    dedup read signature files of failed shard attempts; a re-run then doubled 300 inputs."""
    raw, expected = reference
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", RUN, str(raw), str(out), str(6_000), "1000"], capture_output=True, text=True)
    assert done.returncode == 3 and "StorageError" in done.stderr and "File too large" in done.stderr, done.stderr
    assert archive.published_runs(out) == () and leftovers(out) == []
    run_local(raw, out, shard_size=5)
    assert_clean_archive(raw, out)
    assert rows(out) == expected


def test_a_small_file_size_limit_is_refused_before_any_work(reference, tmp_path):
    raw, _ = reference
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", RUN, str(raw), str(out), str(1 << 20), str(preflight.MIN_ROOM)],
                          capture_output=True, text=True)
    assert done.returncode == 3 and "StorageFull" in done.stderr and "ulimit -f" in done.stderr, done.stderr
    assert sorted(p.name for p in out.iterdir()) == []  # not even a staging folder


def test_a_disk_without_room_is_refused_before_any_work(reference, tmp_path, monkeypatch):
    raw, _ = reference
    monkeypatch.setattr(preflight, "MIN_ROOM", 1 << 62)
    with pytest.raises(preflight.StorageFull, match="bytes free"):
        run_local(raw, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.fixture
def small_disk(tmp_path):
    """A real size-limited file system (a 1 MiB tmpfs), where this machine lets the tests mount one."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root here; ENOSPC is injected by the other tests")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.strip()}); ENOSPC is injected by the other tests")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_real_full_disk(small_disk, tmp_path, monkeypatch):
    """A 1 MiB file system and 1.5 MB of pages: the run fails on a real ENOSPC, publishes
    nothing and leaves nothing; moved to a disk with room, the next run archives everything once."""
    raw = make_corpus(tmp_path / "raw", extra=250, words=800, noisy=True)
    out = small_disk / "out"
    with pytest.raises(preflight.StorageFull):  # 1 MiB free: found before the work
        run_local(raw, out)
    monkeypatch.setattr(preflight, "MIN_ROOM", 1000)
    with pytest.raises(archive.StorageError, match="No space left"):
        run_local(raw, out, shard_size=20)
    assert archive.published_runs(out) == () and leftovers(out) == []
    moved = tmp_path / "roomy"
    run_local(raw, moved, shard_size=20)
    assert_clean_archive(raw, moved)
