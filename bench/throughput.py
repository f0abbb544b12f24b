"""End-to-end throughput: thresher in 1 and 2 processes, under Prefect, and trafilatura alone.

    python bench/throughput.py 1000 10000 50000     # what `make bench` runs

For each size N a corpus of N HTML pages is generated (the fixture pages, each made unique
by sentences of its own, so dedup has real work but not everything is a copy). Every system
runs in its own process; printed are wall time, pages per second, CPU seconds per page and
peak memory (max RSS of the process and its workers), then the ratios:

* thresher, 1 process: the library's serial runner (read, extract, rules, sign, dedup, write);
* thresher, 2 processes: the same shards on a process pool, without Prefect;
* thresher flow: ``archive_corpus`` on the embedded Prefect with its process task runner;
  the difference from the previous line is Prefect's own overhead;
* trafilatura alone: ``trafilatura.extract`` on every page, one process, no dedup, no output.

The comparison with datatrove's pipeline that issue 6 asks for is not here yet: its MinHash
stages failed on this corpus in the time this session had (see the issue's note).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "tests" / "fixtures" / "html"


def make_corpus(folder: Path, n: int) -> None:
    """n unique HTML pages in 20 site folders under ``folder/raw``."""
    import random

    rng = random.Random(n)
    pages = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(HTML.glob("*.html"))]
    words = " ".join(pages).split()
    raw = folder / "raw"
    for i in range(n):
        html = pages[i % len(pages)]
        extra = " ".join(rng.choice(words[:5000]) for _ in range(60)).replace("<", " ").replace(">", " ")
        para = f"<p>Edition {i}: {extra}.</p>"
        html = html.replace("</p>", "</p>" + para, 1) if "</p>" in html else html + para
        site = raw / f"site{i % 20:02d}"
        site.mkdir(parents=True, exist_ok=True)
        (site / f"page{i:06d}.html").write_text(html, encoding="utf-8")


class _TreeMemory:
    """Peak memory (and CPU time) of this process and all its descendants, sampled every 0.1 s:
    memory is the largest sum of their PSS (proportional set size: a page shared by n processes
    counts 1/n in each, so forked or preloaded workers are not counted twice). Adding ru_maxrss of RUSAGE_SELF and
    RUSAGE_CHILDREN, as this bench did before, is not a sum: CHILDREN is the largest single
    descendant, whose maxrss includes every page it shared with its parent when forked (even a
    ``git`` child forked from a 400 MB process counts 400 MB), so it doubled one process's figure
    and understated pools."""

    def __init__(self) -> None:
        import threading

        import psutil

        self.me, self.peak = psutil.Process(), 0
        self.cpu: dict[int, float] = {}  # pid -> its own CPU seconds when last seen
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        import psutil

        while True:
            total = 0
            try:
                procs = [self.me, *self.me.children(recursive=True)]
            except psutil.Error:
                procs = [self.me]
            for p in procs:
                try:
                    total += p.memory_full_info().pss
                    times = p.cpu_times()
                    self.cpu[p.pid] = times.user + times.system
                except psutil.Error:
                    pass  # exited between listing and reading
            self.peak = max(self.peak, total)
            time.sleep(0.1)


_MEMORY = _TreeMemory() if sys.argv[1:2] == ["--one"] else None  # one system per process


def _usage() -> tuple[float, float]:
    """CPU seconds of this process and its descendants, and peak memory in MB (see
    :class:`_TreeMemory`). getrusage counts only descendants that were waited for: workers
    forked by a fork server that exits after its parent are not, so the CPU seen by sampling
    (up to 0.1 s short per process) is taken when it is larger."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    if _MEMORY is None:
        return cpu, 0.0
    return max(cpu, sum(_MEMORY.cpu.values())), _MEMORY.peak / 2**20


def run_system(system: str, folder: Path) -> dict:
    """Run one system on the corpus in ``folder`` (called in a fresh process)."""
    raw, out = folder / "raw", folder / f"out-{system}"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    if system == "thresher-1":
        from thresher.config import Config
        from thresher.runner import archive_serial

        archive_serial(raw, out, Config())
    elif system == "thresher-2":
        _thresher_pool(raw, out, 2)
    elif system == "thresher-flow":
        env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        t_start = time.perf_counter()
        subprocess.run([str(ROOT / ".venv/bin/thresher"), "run", str(raw), str(out), "--workers", "2", "--json"],
                       check=True, capture_output=True, env=env)
        t0 = t_start
    elif system == "trafilatura":
        import trafilatura

        for page in sorted(raw.rglob("*.html")):
            trafilatura.extract(page.read_bytes(), deduplicate=False)
    elapsed = time.perf_counter() - t0
    cpu, peak = _usage()
    return {"system": system, "seconds": elapsed, "cpu": cpu, "peak_mb": peak}


def _thresher_pool(raw: Path, out: Path, workers: int) -> None:
    """The flow's steps with the shards on a plain process pool (no Prefect)."""
    from concurrent.futures import ProcessPoolExecutor

    from thresher.config import Config
    from thresher.runner import archive_serial

    with ProcessPoolExecutor(workers) as pool:
        archive_serial(raw, out, Config(), mapper=pool.map)


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        print(json.dumps(run_system(argv[1], Path(argv[2]))))
        return
    systems = ["thresher-1", "thresher-2", "thresher-flow", "trafilatura"]
    sizes = [int(a) for a in argv if a.isdigit()] or [1000]
    for n in sizes:
        folder = Path(tempfile.mkdtemp(prefix=f"thresher-throughput-{n}-"))
        make_corpus(folder, n)
        results = {}
        print(f"\n{n} HTML pages")
        print(f"  {'system':16} {'seconds':>8} {'pages/s':>8} {'CPU s/page':>11} {'peak MB':>8}   (peak MB: all its processes, PSS)")
        for system in systems:
            out = subprocess.run([sys.executable, __file__, "--one", system, str(folder)], capture_output=True, text=True)
            if out.returncode:
                print(f"  {system:16} failed: {out.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            results[system] = r
            print(f"  {system:16} {r['seconds']:8.1f} {n / r['seconds']:8.1f} {r['cpu'] / n * 1000:9.1f}ms {r['peak_mb']:8.0f}", flush=True)
        rate = {k: n / v["seconds"] for k, v in results.items()}
        if "thresher-1" in rate and "thresher-2" in rate:
            print(f"  thresher 2 processes / 1 process: {rate['thresher-2'] / rate['thresher-1']:.2f}x")
        if "thresher-flow" in rate and "thresher-2" in rate:
            overhead = 1 - results["thresher-2"]["seconds"] / results["thresher-flow"]["seconds"]
            print(f"  Prefect's share of the flow's wall time (start-up included): {overhead:.1%}")
        if "trafilatura" in rate and "thresher-flow" in rate:
            print(f"  thresher flow (2 processes, dedup, Parquet) / trafilatura alone (1 process, extraction only): "
                  f"{rate['thresher-flow'] / rate['trafilatura']:.2f}x pages/s")
        shutil.rmtree(folder)


if __name__ == "__main__":
    main(sys.argv[1:])
