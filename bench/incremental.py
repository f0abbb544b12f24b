"""Incremental runs: a second run over an unchanged raw folder, and one with a few new pages.

    python bench/incremental.py [PAGES]      # default 1000

Makes PAGES distinct pages (fixture dumps and HTML pages, each varied so no two are equal),
archives them, archives the unchanged folder again, then adds 10 pages and runs once more.
Prints each run's wall time and the ratios. Runs the library's serial runner (the flow's steps
in one process), so the figures are thresher's work, without Prefect's start-up.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from thresher.run import archive_serial

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"


def make_corpus(raw: Path, pages: int, start: int = 0) -> None:
    sources = [p for d in ("dumps", "dumps_intl", "dumps_holdout", "html") for p in sorted((FIX / d).glob("*"))
               if p.suffix in {".txt", ".html"} and not p.name.endswith(".expected.txt")]
    for i in range(start, start + pages):
        src = sources[i % len(sources)]
        text = src.read_text(encoding="utf-8", errors="replace")
        marker = f"Edition {i}: the council met again on day {i} of the session, officials said."
        if src.suffix == ".html":
            text = text.replace("<body>", f"<body><p>{marker}</p>", 1) if "<body>" in text else text + marker
        else:
            text = text + "\n" + marker + "\n"
        (raw / f"site{i % 17}").mkdir(exist_ok=True)
        (raw / f"site{i % 17}" / f"page{i:05d}{src.suffix}").write_text(text, encoding="utf-8")


def main(pages: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="thresher-bench-"))
    raw, out = work / "raw", work / "clean"
    raw.mkdir()
    make_corpus(raw, pages)
    timings = []
    for label in ("first run", "unchanged re-run"):
        t0 = time.perf_counter()
        m = archive_serial(raw, out)
        timings.append(time.perf_counter() - t0)
        print(f"{label:18} {timings[-1]:7.2f} s   new {m['inputs']['new']:5}  skipped {m['inputs']['skipped']:5}  {m['counts']}")
    make_corpus(raw, 10, start=pages)
    t0 = time.perf_counter()
    m = archive_serial(raw, out)
    added = time.perf_counter() - t0
    print(f"{'10 pages added':18} {added:7.2f} s   new {m['inputs']['new']:5}  skipped {m['inputs']['skipped']:5}  {m['counts']}")
    print(f"unchanged re-run / first run: {timings[1] / timings[0]:.1%}; 10 new pages / first run: {added / timings[0]:.1%}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
