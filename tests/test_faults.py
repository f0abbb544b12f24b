"""The fault-injection suite: concurrent runs, kills at named steps and at random moments (a
publish included), a full disk, exceptions in random inputs, object-store errors.

After each fault, and after the normal run that follows it: ``verify --all`` passes, every input
is in exactly one row (articles + duplicates + rejects, counted by input path and record), and
the rows are those of a run that met no fault. Runs that are killed or paused are the library's
serial runner in a process of its own (``tests/fault_runner.py``), with the fault injected at a
named step; the others run in this process.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from conftest import run_local
from fault_tools import assert_clean_archive, assert_one_row_per_input, fail_on, make_corpus, rows
from thresher import archive, audit, clean, sources

RUNNER = Path(__file__).with_name("fault_runner.py")

# Named steps of a run, in order: (target, match, nth, before/after the call). See fault_runner.
STEPS = {
    "after-discovery": ("thresher.sources:discover", "", 1, "after"),
    "first-staged-file": ("write_parquet", "_staging/", 1, "before"),
    "mid-staging": ("write_parquet", "_staging/", 12, "before"),
    "dedup-decisions": ("write_parquet", "decisions.parquet", 1, "before"),
    "publish-rewrite": ("thresher.archive.commit:_final_files", "", 1, "before"),
    "publish-first-move": ("move", "", 1, "before"),
    "publish-second-move": ("move", "", 2, "before"),
    "publish-mid-move": ("move", "", 6, "before"),
    "publish-all-moved": ("write_atomic", "configs/", 1, "before"),
    "before-manifest": ("write_atomic", "runs/", 1, "before"),
    "after-manifest": ("write_atomic", "runs/", 1, "after"),
    "report": ("write_atomic", "reports/", 1, "before"),
}


def _warc(path: Path, pages: int) -> None:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for i in range(pages):
        body = f"<html><head><title>Record {i}</title></head><body><article><h1>Record {i}</h1>" + \
               f"<p>{'The ferry to the island ran again on day %d after the storm, the operator said. ' % i * 6}</p></article></body></html>"
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(f"https://ferry.example/{i}", "response",
                                                      payload=io.BytesIO(body.encode()), http_headers=http))
    path.write_bytes(buf.getvalue())


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A corpus (text pages, a duplicate, an empty file, a WARC of three records) and the rows
    and record keys of a run that met no fault, made by the runner in a process of its own."""
    base = tmp_path_factory.mktemp("faults")
    raw = make_corpus(base / "raw", extra=20)
    _warc(raw / "ferry.warc.gz", 3)
    started = time.monotonic()
    code, err = _runner(raw, base / "out", {})
    assert code == 0, err
    return raw, rows(base / "out"), time.monotonic() - started


def _runner(raw, out, spec: dict, wait: bool = True):
    args = [sys.executable, str(RUNNER), str(raw), str(out), json.dumps(spec)]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    if not wait:
        return proc
    _, err = proc.communicate(timeout=600)
    return proc.returncode, err


def _readers_see_a_sound_archive(out) -> None:
    """Right after a fault (before any recovery): what readers see verifies."""
    if archive.published_runs(out):
        report = audit.verify(out, all_records=True)
        assert report.ok, report.errors


def _recovered(raw, out, expected, either: frozenset[str] = frozenset()) -> dict:
    """The normal run after a fault: everything archived once, as a run without the fault.
    ``either``: a page and its copy, of which the one archived first is the article."""
    manifest = run_local(raw, out, shard_size=5)
    assert_clean_archive(raw, out)
    got = rows(out)
    assert {p: got[p] for p in set(got) - either} == {p: expected[p] for p in set(expected) - either}
    assert sorted(got[p][0] for p in either) == sorted(expected[p][0] for p in either)
    assert {p: got[p][1:] for p in either} == {p: expected[p][1:] for p in either}
    return manifest


# -- (b) kills -----------------------------------------------------------------------------


@pytest.mark.parametrize("step", [s for s in STEPS if s not in ("publish-second-move", "first-staged-file", "publish-first-move")])
def test_a_run_killed_at_each_step(reference, tmp_path, step):
    raw, expected, _ = reference
    out = tmp_path / "out"
    code, err = _runner(raw, out, {"act": "kill", "at": STEPS[step]})
    assert code == -signal.SIGKILL, (code, err)
    published = archive.published_runs(out)
    assert len(published) == (1 if step in ("after-manifest", "report") else 0)
    _readers_see_a_sound_archive(out)
    manifest = _recovered(raw, out, expected)
    if published:  # the next run skipped everything
        assert manifest["inputs"]["new"] == 0
    if step not in ("after-discovery", "first-staged-file", "report"):  # what the dead run left: staging, moved files
        assert manifest["recovered_from_interrupted_runs"]


@pytest.mark.parametrize("step", ["publish-second-move", "before-manifest"])
def test_a_run_killed_during_publish_over_a_published_archive(reference, tmp_path, step):
    """The second run (new pages and a retried one) is killed mid-publish: readers still see
    the first run alone, whole; the run after archives the new pages once."""
    raw0, expected, _ = reference
    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(raw0, raw)
    moved_aside = tmp_path / "later.txt"
    shutil.move(raw / "page_007.txt", moved_aside)
    run_local(raw, out, shard_size=5)
    before = rows(out)
    shutil.move(moved_aside, raw / "page_007.txt")
    code, err = _runner(raw, out, {"act": "kill", "at": STEPS[step]})
    assert code == -signal.SIGKILL, (code, err)
    assert rows(out) == before
    _readers_see_a_sound_archive(out)
    _recovered(raw, out, {**before, "page_007.txt": expected["page_007.txt"]})


@pytest.mark.parametrize("seed", [1, 2])
def test_a_run_killed_at_a_random_moment(reference, tmp_path, seed):
    """SIGKILL after a seeded random delay within a normal run's duration."""
    raw, expected, duration = reference
    out = tmp_path / "out"
    delay = random.Random(seed).uniform(0.2, 1.0) * duration
    proc = _runner(raw, out, {}, wait=False)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    _readers_see_a_sound_archive(out)
    _recovered(raw, out, expected)


# -- (a) concurrent runs ---------------------------------------------------------------------


@pytest.mark.parametrize("step", ["mid-staging", "publish-mid-move", "before-manifest"])
def test_a_second_run_while_the_first_is_at_each_step_is_refused(reference, tmp_path, step):
    raw, expected, _ = reference
    out, ready, go = tmp_path / "out", tmp_path / "ready", tmp_path / "go"
    first = _runner(raw, out, {"act": "pause", "at": STEPS[step], "ready": str(ready), "go": str(go)}, wait=False)
    try:
        deadline = time.monotonic() + 300
        while not ready.exists():
            assert first.poll() is None, first.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.02)
        code, err = _runner(raw, out, {})
        assert code == 75 and "one writer at a time" in err, (code, err)
    finally:
        go.touch()
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    assert_clean_archive(raw, out)
    assert rows(out) == expected


# -- (c) a full disk -------------------------------------------------------------------------


FULL_AT = {
    "first-staged-file": {"at": STEPS["first-staged-file"]},
    "publish-rewrite": {"at": ("write_parquet", "_staging/", 1, "before"), "armed_by": "thresher.archive.commit:_final_files"},
    "publish-config": {"at": STEPS["publish-all-moved"]},
    "chain-head": {"at": ("write_atomic", "runs/HEAD", 1, "before")},
    "report": {"at": STEPS["report"]},
}


@pytest.mark.parametrize("step", list(FULL_AT))
def test_a_disk_that_fills_up_at_each_write(reference, tmp_path, step):
    """ENOSPC from a named write on (every later write fails too): before the manifest, the
    run fails with exit 1's error and nothing published; after it (the chain's head, the
    report), the run is published, and the next run catches up either way."""
    raw, expected, _ = reference
    out = tmp_path / "out"
    code, err = _runner(raw, out, {"act": "full", **FULL_AT[step]})
    if step in ("chain-head", "report"):
        assert code == 0, err
        assert len(archive.published_runs(out)) == 1
    else:
        assert code == 3 and "No space left on device" in err, (code, err)
        assert archive.published_runs(out) == ()
    _readers_see_a_sound_archive(out)
    _recovered(raw, out, expected)


# -- (d) exceptions in random inputs ---------------------------------------------------------


@pytest.mark.parametrize("seed", [7, 8])
def test_exceptions_in_random_inputs(reference, tmp_path, monkeypatch, seed):
    raw, expected, _ = reference
    rng = random.Random(seed)
    inputs = sorted(i.source_path for i in sources.discover(raw))
    bad = {site: set(rng.sample(inputs, 2)) for site in ("read_pages", "extract_page", "article_row")}
    for site, paths in bad.items():
        fail_on(monkeypatch, clean, site, paths)
    out = tmp_path / "out"
    manifest = run_local(raw, out, shard_size=5)
    assert not manifest["shard_errors"]
    hit = set().union(*bad.values())
    failing = bad["read_pages"] | bad["extract_page"] | {p for p in bad["article_row"] if expected[p][0] != "rejects"}
    got = rows(out)
    assert {p for p, r in got.items() if r[2] == "internal_error"} == failing
    pair = {"001_3c8e0fc09b8af7fa.txt", "copy_of_001.txt"}  # which of the two is the duplicate depends on both
    same = set(expected) - hit - (pair if pair & hit else set())
    assert {p: got[p] for p in same} == {p: expected[p] for p in same}
    assert_clean_archive(raw, out)
    monkeypatch.undo()
    _recovered(raw, out, expected, frozenset(pair) if pair & hit else frozenset())


# -- (e) object-store errors -----------------------------------------------------------------


class StoreErrors:
    """s3fs's requests to moto answered by an S3 ``InternalError`` (HTTP 500) from the ``nth``
    request of ``methods`` whose key holds ``match`` on: raised inside s3fs's own error
    handling, so s3fs retries and translates it as it would a real one."""

    def __init__(self, monkeypatch, methods: set[str], match: str, nth: int) -> None:
        import s3fs.core
        from botocore.exceptions import ClientError

        real = s3fs.core._error_wrapper
        self.count, self.failed = 0, 0

        async def wrapper(func, *, args=(), kwargs=None, retries):
            key = str((kwargs or {}).get("Key", ""))
            if getattr(func, "__name__", "") in methods and match in key:
                self.count += 1
                if self.count >= nth:
                    self.failed += 1

                    async def refused(*a, **k):
                        raise ClientError({"Error": {"Code": "InternalError", "Message": "injected: internal error"}},
                                          func.__name__)

                    return await real(refused, args=args, kwargs=kwargs, retries=retries)
            return await real(func, args=args, kwargs=kwargs, retries=retries)

        monkeypatch.setattr(s3fs.core, "_error_wrapper", wrapper)


@pytest.mark.parametrize("where", ["publish-copy", "raw-get"])
def test_object_store_errors(reference, bucket, tmp_path, monkeypatch, where):
    """A local S3 server (moto) behind s3fs; from one request on, the store answers 500."""
    import fsspec

    raw, expected, _ = reference
    out = f"{bucket}/clean"
    src = raw
    if where == "raw-get":
        src = f"{bucket}/raw"
        fsspec.filesystem("s3").put(str(raw) + "/", src, recursive=True)
    methods, match, nth = {
        "publish-copy": ({"copy_object", "upload_part_copy"}, "", 3),
        "raw-get": ({"get_object"}, "raw/page_01", 1),
    }[where]
    errors = StoreErrors(monkeypatch, methods, match, nth)
    if where == "raw-get":  # reading the raw side fails: those inputs' rows say so, retried later
        run_local(src, out, shard_size=5)
        failed = {p for p, r in rows(out).items() if r[0] == "rejects" and r[2] == "storage_error"}
        assert failed == {f"page_{i:03d}.txt" for i in range(10, 20)}, failed
    else:
        with pytest.raises(archive.StorageError, match="internal error"):
            run_local(src, out, shard_size=5)
        assert archive.published_runs(out) == ()
    assert errors.failed
    monkeypatch.undo()
    _readers_see_a_sound_archive(out)
    run_local(src, out, shard_size=5)
    assert_one_row_per_input(src, out)
    report = audit.verify(out, all_records=True)
    assert report.ok, report.errors
    assert rows(out) == expected
