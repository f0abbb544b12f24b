"""End-to-end throughput: thresher in 1 and 2 processes and under Prefect, datatrove's pipeline
in 1 and 2 processes, and trafilatura alone, on the same pages.

    python bench/throughput.py 1000 10000 50000     # what `make bench` runs
    python bench/throughput.py 50000 --systems=thresher-1,thresher-flow   # some systems only

First the extraction quality of thresher and of datatrove's Trafilatura step on the HTML
fixtures (bench/datatrove_quality.py, bench/quality.py's scoring). Then for each size N a
corpus of N pages is generated (bench/corpus.py): distinct stories from real sentences, one
page in five a lightly edited syndicated copy of an earlier story on another site, twenty sites
each with its own chrome (navigation, share bar, caption, related news, footer), one page in
five a flattened text dump. Every system runs in its own process; printed are wall time, pages per second, CPU seconds per page
and peak memory (the largest PSS sum of the process and all its workers), what each kept, removed as
duplicates and dropped, then the ratios:

* thresher, 1 process: the library's serial runner (read, extract, rules, sign, dedup, write);
* thresher, 2 processes: the same shards on a process pool, without Prefect;
* thresher flow: ``thresher run`` (the ``archive_corpus`` flow with its shard workers)
  as a one-off command, on the temporary Prefect server it starts; the difference from the
  previous line is Prefect's own overhead, the server's start-up included;
* thresher flow, server running: the same command with ``PREFECT_API_URL`` pointing at a
  Prefect server started before the clock starts, as for scheduled deployment runs (the
  server's CPU during the run counts, its start-up does not);
* datatrove, 1 and 2 processes: its documented pipeline (reader, Trafilatura, MinHash dedup in
  its four stages, Parquet writer) in its own venv, ``.venv-datatrove``, with thresher's MinHash
  parameters; ``bench/datatrove_pipeline.py`` says how it is set up and why the comparison is
  fair. ``datatrove-2`` uses its default English word tokenizer (spaCy) for the shingles,
  ``datatrove-2-split`` a whitespace split after its own text normalisation, which is cheaper
  and closer to thresher's ``\\w+`` tokens: the stricter baseline;
* trafilatura alone: ``trafilatura.extract`` on every page, one process, no dedup, no output.

Both datatrove and the flow lines include their start-up (imports, process pools; Prefect's
temporary server). Timings on a shared 2-core machine are noisy (the same job has taken 20%
more CPU minutes later), so ``--repeat=R`` runs every system R times, interleaved (round one
runs each system once, then round two in reverse order...), and prints medians with their
range; the ratios are of medians, except Prefect's share, which is the median of each round's
share (the flow against the pool run of the same round): see :func:`_print_prefect_share`.
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

from corpus import make_corpus  # bench/ is on sys.path when this file runs

ROOT = Path(__file__).resolve().parent.parent
DATATROVE_PYTHON = ROOT / ".venv-datatrove" / "bin" / "python"


class _TreeMemory:
    """Peak memory (and CPU time) of this process and all its descendants: memory is the
    largest sum of their PSS (proportional set size: a page shared by n processes counts 1/n in
    each, so forked or preloaded workers are not counted twice). Adding ru_maxrss of
    RUSAGE_SELF and RUSAGE_CHILDREN, as this bench did before, is not a sum: CHILDREN is the
    largest single descendant, whose maxrss includes every page it shared with its parent when
    forked (even a ``git`` child forked from a 400 MB process counts 400 MB), so it doubled one
    process's figure and understated pools.

    Reading PSS walks a process's page tables (``/proc/PID/smaps``): about 5 ms for a 300 MB
    process, so sampling seven processes every 0.1 s took a quarter of a core from the 2 cores
    the run needs, and more from systems with more processes (the flow, its server, its fork
    server). Memory is therefore sampled at most :attr:`SHARE` of one core's time (never less
    often than every :attr:`LONGEST` s); CPU times, which are cheap, every 0.1 s."""

    SHARE = 0.02
    LONGEST = 1.0

    def __init__(self) -> None:
        import threading

        import psutil

        self.me, self.peak = psutil.Process(), 0
        self.cpu: dict[int, float] = {}  # pid -> its own CPU seconds when last seen
        self.sampling = 0.0  # CPU seconds this thread spent reading memory
        threading.Thread(target=self._sample, daemon=True).start()

    def _processes(self) -> list:
        import psutil

        try:
            return [self.me, *self.me.children(recursive=True)]
        except psutil.Error:
            return [self.me]

    def _sample(self) -> None:
        import psutil

        next_memory = 0.0
        while True:
            procs = self._processes()
            for p in procs:
                try:
                    times = p.cpu_times()
                    self.cpu[p.pid] = times.user + times.system
                except psutil.Error:
                    pass  # exited between listing and reading
            if time.monotonic() >= next_memory:
                start, total = time.thread_time(), 0
                for p in procs:
                    try:
                        total += p.memory_full_info().pss
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, total)
                spent = time.thread_time() - start
                self.sampling += spent
                next_memory = time.monotonic() + min(self.LONGEST, spent / self.SHARE)
            time.sleep(0.1)


_MEMORY = _TreeMemory() if sys.argv[1:2] == ["--one"] else None  # one system per process


def _usage() -> tuple[float, float]:
    """CPU seconds of this process and its descendants, and peak memory in MB (see
    :class:`_TreeMemory`), less what reading memory cost. getrusage counts only descendants that were waited for: workers
    forked by a fork server that exits after its parent are not, so the CPU seen by sampling
    (up to 0.1 s short per process) is taken when it is larger."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    if _MEMORY is None:
        return cpu, 0.0
    return max(cpu, sum(_MEMORY.cpu.values())) - _MEMORY.sampling, _MEMORY.peak / 2**20


def run_system(name: str, folder: Path) -> dict:
    """Run one system on the corpus in ``folder`` (called in a fresh process). A thresher
    system may name a shard size (``thresher-flow-server:2000``); the default is thresher's."""
    from thresher.config import Config

    raw, out = folder / "raw", folder / f"out-{name}"
    system, _, size = name.partition(":")
    config = Config(shard_size=int(size)) if size else Config()
    shutil.rmtree(out, ignore_errors=True)
    t0, wall0, span = time.perf_counter(), time.time(), None
    if system == "thresher-1":
        from thresher.run import archive_serial

        archive_serial(raw, out, config)
    elif system == "thresher-2":
        span = _thresher_pool(raw, out, 2, config)
    elif system in ("thresher-flow", "thresher-flow-server"):
        env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        server = None
        if system == "thresher-flow-server":
            server = _running_prefect_server()
            env["PREFECT_API_URL"] = server.api_url
        t0, wall0 = time.perf_counter(), time.time()
        cpu_before = _usage()[0] if server else 0.0  # the running server's start-up is not the run's
        subprocess.run([str(ROOT / ".venv/bin/thresher"), "run", str(raw), str(out), "--workers", "2",
                        "--shard-size", str(config.shard_size), "--json"],
                       check=True, capture_output=True, env=env)
    elif system.startswith("datatrove-"):
        workers, _, tokenizer = system.removeprefix("datatrove-").partition("-")
        done = subprocess.run([str(DATATROVE_PYTHON), str(ROOT / "bench" / "datatrove_pipeline.py"), str(raw), str(out),
                               "--workers", workers, "--tokenizer", tokenizer or "default"],
                              check=True, capture_output=True, text=True)
    elif system == "trafilatura":
        import trafilatura

        for page in sorted(raw.rglob("*.html")):
            trafilatura.extract(page.read_bytes(), deduplicate=False)
    elapsed = time.perf_counter() - t0
    cpu, peak = _usage()
    if system == "thresher-flow-server":
        cpu -= cpu_before
        span = _shard_span(server)
        server.stop()
    result = {"system": name, "seconds": elapsed, "cpu": cpu, "peak_mb": peak}
    if span:  # where the time went: before the first shard, the shards, after the last
        result["phases"] = (span[0] - wall0, span[1] - span[0], wall0 + elapsed - span[1])
    if system.startswith("thresher"):
        result["kept"] = _rows(out / "articles")
        result["removed"] = _rows(out / "duplicates")
        result["rejected"] = _rows(out / "rejects")
    elif system.startswith("datatrove"):
        stats = json.loads(done.stdout.strip().splitlines()[-1])
        result["kept"] = _rows(out / "documents")
        result["removed"] = stats["duplicates_removed"]
        result["rejected"] = stats["read"] - stats["written"] - stats["duplicates_removed"]
    return result


def _running_prefect_server():
    """A Prefect API server, up and answering, as a deployment's runs find it (the same server
    application ``thresher run`` would start, on a free port, stopped after the run)."""
    from flows.server import TemporaryServer  # installed with thresher, like the CLI that uses it

    server = TemporaryServer()
    server.launch()
    server.wait_ready()
    return server


def _rows(dataset: Path) -> int:
    import pyarrow.dataset as ds

    return ds.dataset(dataset, format="parquet").count_rows() if dataset.is_dir() else 0


def _thresher_pool(raw: Path, out: Path, workers: int, config) -> tuple[float, float]:
    """The flow's steps with the shards on a plain process pool (no Prefect); returns when
    (``time.time()``) the shards were handed to the pool and when the last came back."""
    from concurrent.futures import ProcessPoolExecutor

    from thresher.run import archive_serial

    marks: list[float] = []

    def mapper(fn, jobs):
        jobs = list(jobs)
        marks.append(time.time())
        shards = list(pool.map(fn, jobs))
        marks.append(time.time())
        return shards

    with ProcessPoolExecutor(workers) as pool:
        archive_serial(raw, out, config, mapper=mapper)
    return marks[0], marks[1]


def _shard_span(server) -> tuple[float, float]:
    """When (``time.time()``) the last flow run on ``server`` started its first clean-shard
    task run and when its last one ended, from the task runs Prefect recorded."""
    import asyncio

    os.environ["PREFECT_API_URL"] = server.api_url
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, TaskRunFilter, TaskRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    async def read():
        async with get_client() as client:
            run = (await client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=1))[0]
            return await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])),
                                               task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_="clean-shard")))

    shards = asyncio.run(read())
    return min(t.start_time.timestamp() for t in shards), max(t.end_time.timestamp() for t in shards)


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        print(json.dumps(run_system(argv[1], Path(argv[2]))))
        return
    systems = ["thresher-1", "thresher-2", "thresher-flow", "thresher-flow-server", "datatrove-1", "datatrove-2",
               "datatrove-2-split", "trafilatura"]
    sizes = [int(a) for a in argv if a.isdigit()] or [1000]
    chosen = next((a.split("=", 1)[1].split(",") for a in argv if a.startswith("--systems=")), None)
    repeat = int(next((a.split("=", 1)[1] for a in argv if a.startswith("--repeat=")), "1"))
    if chosen:  # e.g. --systems=thresher-1,thresher-flow for the memory bar at 50k alone, or
        # --systems=thresher-2:500,thresher-2:2000 to compare shard sizes
        unknown = [c for c in chosen if c.partition(":")[0] not in systems]
        if unknown:
            raise SystemExit(f"unknown systems {unknown}; known: {systems}")
        systems = chosen
    if DATATROVE_PYTHON.exists():
        from datatrove_quality import scores

        scores()
    else:
        systems = [s for s in systems if not s.startswith("datatrove")]
        print(f"{DATATROVE_PYTHON} is missing (make .venv-datatrove): datatrove is left out")
    for n in sizes:
        folder = Path(tempfile.mkdtemp(prefix=f"thresher-throughput-{n}-"))
        made = make_corpus(folder, n)
        print(f"\n{n} pages ({n - n // 5} HTML, {n // 5} text dumps): {made['stories']} stories, {made['copies']} syndicated copies"
              + (f"; every system run {repeat} times, interleaved: medians, [fastest-slowest]" if repeat > 1 else ""))
        print(f"  {'system':20} {'seconds':>8} {'pages/s':>8} {'CPU s/page':>11} {'peak MB':>8}"
              f" {'kept':>6} {'dups':>6} {'dropped':>7}   (peak MB: all its processes, PSS)")
        runs: dict[str, list[dict]] = {}
        for round_ in range(repeat):
            # every other round in reverse order, so that no system always runs first (a machine
            # that slows down or speeds up within a round would favour one side of every pair)
            for system in systems if round_ % 2 == 0 else systems[::-1]:
                out = subprocess.run([sys.executable, __file__, "--one", system, str(folder)], capture_output=True, text=True)
                if out.returncode:
                    print(f"  {system:20} failed: {out.stderr.strip().splitlines()[-1:]}")
                    continue
                runs.setdefault(system, []).append({**json.loads(out.stdout.strip().splitlines()[-1]), "round": round_})
                print(f"    ({system}, round {round_ + 1}: {runs[system][-1]['seconds']:.1f} s)", file=sys.stderr, flush=True)
        for system in systems:
            if system in runs:
                _print_line(system, runs[system], n)
        results = {k: _median_run(v) for k, v in runs.items()}
        _print_ratios(results, n)
        _print_prefect_share(runs)
        shutil.rmtree(folder)


def _median_run(runs: list[dict]) -> dict:
    """One line for R runs of a system: median wall time and CPU, largest peak memory."""
    import statistics

    line = dict(runs[0])
    line["seconds"] = statistics.median(r["seconds"] for r in runs)
    line["cpu"] = statistics.median(r["cpu"] for r in runs)
    line["peak_mb"] = max(r["peak_mb"] for r in runs)
    line["range"] = (min(r["seconds"] for r in runs), max(r["seconds"] for r in runs))
    return line


def _print_line(system: str, runs: list[dict], n: int) -> None:
    r = _median_run(runs)
    counts = f" {r['kept']:6d} {r['removed']:6d} {r['rejected']:7d}" if "kept" in r else ""
    spread = f"   [{r['range'][0]:.1f}-{r['range'][1]:.1f} s]" if len(runs) > 1 else ""
    print(f"  {system:20} {r['seconds']:8.1f} {n / r['seconds']:8.1f} {r['cpu'] / n * 1000:9.1f}ms"
          f" {r['peak_mb']:8.0f}{counts}{spread}", flush=True)


def _print_ratios(results: dict[str, dict], n: int) -> None:
    rate = {k: n / v["seconds"] for k, v in results.items()}
    cpu = {k: v["cpu"] for k, v in results.items()}
    if "thresher-1" in rate and "thresher-2" in rate:
        print(f"  thresher 2 processes / 1 process: {rate['thresher-2'] / rate['thresher-1']:.2f}x")
    for ours, theirs in [("thresher-1", "datatrove-1"), ("thresher-2", "datatrove-2"), ("thresher-flow", "datatrove-2"),
                         ("thresher-flow-server", "datatrove-2"), ("thresher-2", "datatrove-2-split"),
                         ("thresher-flow", "datatrove-2-split"), ("thresher-flow-server", "datatrove-2-split")]:
        if ours in rate and theirs in rate:
            print(f"  {ours} / {theirs}: {rate[ours] / rate[theirs]:.2f}x pages/s, "
                  f"{cpu[theirs] / cpu[ours]:.2f}x less CPU per page")
    if "trafilatura" in rate and "thresher-flow" in rate:
        print(f"  thresher flow (2 processes, dedup, Parquet) / trafilatura alone (1 process, extraction only): "
              f"{rate['thresher-flow'] / rate['trafilatura']:.2f}x pages/s")


def _print_prefect_share(runs: dict[str, list[dict]]) -> None:
    """Prefect's share of the flow's wall time: 1 - pool / flow, for each round from the two
    runs of that round (machine speed drifts between rounds more than Prefect costs), the
    median and range of rounds printed. With the server running, the time is split where the
    shards start and end (from the task runs the server recorded), against the pool's."""
    import statistics

    pool = {r["round"]: r for r in runs.get("thresher-2", [])}
    for flow, what in [("thresher-flow", "temporary server, its start-up included"),
                       ("thresher-flow-server", "server already running")]:
        pairs = [(pool[r["round"]], r) for r in runs.get(flow, []) if r["round"] in pool]
        if not pairs:
            continue
        shares = [1 - p["seconds"] / f["seconds"] for p, f in pairs]
        spread = f" [{min(shares):.1%} to {max(shares):.1%}, {len(shares)} rounds]" if len(shares) > 1 else ""
        print(f"  Prefect's share of the flow's wall time ({what}): {statistics.median(shares):.1%}{spread}")
        phased = [(p["phases"], f["phases"]) for p, f in pairs if "phases" in p and "phases" in f]
        if phased:
            extra = [statistics.median(f[i] - p[i] for p, f in phased) for i in range(3)]
            print(f"    flow minus pool: {extra[0]:+.2f} s before the first shard, {extra[1]:+.2f} s while the shards run,"
                  f" {extra[2]:+.2f} s after the last (medians)")


if __name__ == "__main__":
    main(sys.argv[1:])
