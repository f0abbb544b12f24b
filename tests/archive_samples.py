"""A small archive with every kind of outcome, shared by the report, search and export tests:
the seeds (text dumps), HTML pages from the fixture set (sites, dates, languages), a copy of
a seed under another site folder (a duplicate) and bad files (rejects, one with a sidecar site)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import FIXTURES, ROOT, run_local

HTML_PAGES = ("a_de_hallenbad", "a_business_pagination", "a_cp1252_opinion")


def build_raw(raw: Path) -> Path:
    shutil.copytree(ROOT / "raw", raw)
    for name in HTML_PAGES:
        shutil.copy(FIXTURES / "html" / f"{name}.html", raw / f"{name}.html")
    (raw / "mirror").mkdir()
    shutil.copy(ROOT / "raw" / "001_3c8e0fc09b8af7fa.txt", raw / "mirror" / "copy_of_001.txt")
    (raw / "mirror" / "copy_of_001.json").write_text(json.dumps({"site": "mirror.example"}))
    (raw / "broken").mkdir()
    (raw / "broken" / "empty.txt").write_bytes(b"")
    (raw / "broken" / "binary.html").write_bytes(bytes(range(256)) * 8)
    (raw / "broken" / "binary.json").write_text(json.dumps({"url": "https://junk.example/a", "site": "junk.example"}))
    return raw


def build_archive(tmp: Path) -> tuple[Path, Path, dict]:
    raw = build_raw(tmp / "raw")
    out = tmp / "clean"
    return raw, out, run_local(raw, out)
