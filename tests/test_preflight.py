"""An operator's error costs one clear line and exit code 2, before any work; a busy archive,
one line and exit code 75. Before, an OUT_DIR inside RAW_DIR was accepted (a run archived its
own report), an OUT_DIR that is a file gave a 24-line traceback with exit 1, an empty RAW_DIR
exited 0 in silence, and a read-only OUT_DIR was found only after all the work."""

from __future__ import annotations

import os
import shutil

import pytest
from typer.testing import CliRunner

from conftest import ROOT, run_local
from thresher import archive, preflight
from thresher.cli import app


def _run(*args: str):
    result = CliRunner().invoke(app, ["run", *map(str, args)])
    text = (result.stdout or "") + (getattr(result, "stderr", "") or "")
    return result.exit_code, text


@pytest.fixture
def raw(tmp_path):
    shutil.copytree(ROOT / "raw", tmp_path / "raw")
    return tmp_path / "raw"


def _refused(code: int, text: str, words: str, expected: int = 2) -> None:
    assert code == expected, text
    assert "Traceback" not in text
    assert len(text.strip().splitlines()) == 1, text
    assert words in text, text


def test_out_dir_inside_raw_dir(raw):
    code, text = _run(raw, raw / "clean")
    _refused(code, text, "is inside RAW_DIR")
    assert not (raw / "clean").exists()
    with pytest.raises(preflight.UsageError):
        run_local(raw, raw / "clean")


def test_raw_dir_inside_out_dir_and_the_same_folder(raw, tmp_path):
    nested = tmp_path / "archive"
    shutil.copytree(raw, nested / "raw")
    _refused(*_run(nested / "raw", nested), "is inside OUT_DIR")
    _refused(*_run(raw, raw), "is inside RAW_DIR")
    _refused(*_run(raw, str(raw) + "/sub/.."), "is inside RAW_DIR")  # spelled otherwise, the same folder


def test_out_dir_that_is_a_file(raw, tmp_path):
    (tmp_path / "clean").write_text("not a folder")
    _refused(*_run(raw, tmp_path / "clean"), "is not a folder")


def test_out_dir_that_cannot_be_written(raw, tmp_path):
    if os.geteuid() == 0:  # root writes through permissions: a file system that refuses everyone
        out = "/sys/thresher-test-out"
        if os.path.exists(out) or not os.path.isdir("/sys"):
            pytest.skip("no /sys to stand for a read-only file system")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        out = locked / "clean"
    _refused(*_run(raw, out), "cannot be written")


def test_empty_raw_dir(tmp_path):
    (tmp_path / "raw" / "sub").mkdir(parents=True)
    (tmp_path / "raw" / "notes.md").write_text("not an input")
    _refused(*_run(tmp_path / "raw", tmp_path / "clean"), "holds no input files")
    with pytest.raises(preflight.UsageError, match="holds no input files"):
        run_local(tmp_path / "raw", tmp_path / "clean")


def test_missing_raw_dir(tmp_path):
    _refused(*_run(tmp_path / "nowhere", tmp_path / "clean"), "does not exist")


def test_a_busy_archive_is_refused_with_exit_75_and_its_holder(raw, tmp_path):
    held = archive.acquire(tmp_path / "clean", "the-other-run")
    try:
        code, text = _run(raw, tmp_path / "clean")
    finally:
        held.release()
    _refused(code, text, "the-other-run", expected=75)
    assert f"pid {os.getpid()}" in text and "one writer at a time" in text
