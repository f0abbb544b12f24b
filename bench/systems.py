"""One system of ``make bench`` run once on one form of the corpus, in a process of its own,
measured: wall time, CPU of the whole process tree, peak memory of the tree, when the shard
phase ran and how many cores were busy during it, then the quality of what it wrote.

    python bench/systems.py SYSTEM FOLDER/FORM [--score]     # prints one JSON line

Systems: ``thresher-1`` (the serial runner), ``thresher-2`` (the same shards on a plain process
pool of 2, no Prefect), ``thresher-flow`` (``thresher run --workers 2``, the Prefect flow on its
temporary server), ``thresher-flow-server`` (the same against a Prefect server started before
the clock, as scheduled deployment runs find it), ``datatrove-1``, ``datatrove-2`` (its
documented pipeline, bench/datatrove_pipeline.py, on 1 or 2 workers), ``datatrove-2-split``
(the same with a whitespace tokenizer), ``trafilatura`` (``trafilatura.extract`` on every HTML
page, one process, nothing else). A thresher system may name its shard budget
(``thresher-2:500`` pages, ``thresher-2:500:16`` pages and MiB).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from bisect import bisect_left
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATATROVE_PYTHON = ROOT / ".venv-datatrove" / "bin" / "python"
SYSTEMS = ["thresher-1", "thresher-2", "thresher-flow", "thresher-flow-server", "datatrove-1", "datatrove-2",
           "datatrove-2-split", "trafilatura"]


class TreeSampler:
    """Peak memory and CPU time of this process and all its descendants. Memory is the largest
    sum of their PSS (a page shared by n processes counts 1/n in each, so forked workers are not
    counted twice); reading it walks each process's page tables, so it is sampled at most
    :attr:`SHARE` of one core's time (never less often than every :attr:`LONGEST` s). CPU times
    are cheap: every 0.1 s, kept as a series so the busy cores of any span can be read."""

    SHARE = 0.02
    LONGEST = 1.0

    def __init__(self) -> None:
        import psutil

        self.me, self.peak = psutil.Process(), 0
        self.cpu: dict[int, float] = {}  # pid -> its CPU seconds when last seen
        self.series: list[tuple[float, float]] = []  # (time.time(), CPU seconds of the tree)
        self.sampling = 0.0  # CPU seconds this thread spent reading memory
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        import psutil

        next_memory = 0.0
        while True:
            try:
                procs = [self.me, *self.me.children(recursive=True)]
            except psutil.Error:
                procs = [self.me]
            for p in procs:
                try:
                    times = p.cpu_times()
                    self.cpu[p.pid] = times.user + times.system
                except psutil.Error:
                    pass  # exited between listing and reading
            self.series.append((time.time(), sum(self.cpu.values()) - self.sampling))
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

    def busy(self, start: float, end: float) -> float | None:
        """Mean busy cores of the tree between two ``time.time()`` marks."""
        series = list(self.series)
        times = [t for t, _ in series]
        i, j = bisect_left(times, start), min(bisect_left(times, end), len(series) - 1)
        if j <= i:
            return None
        return (series[j][1] - series[i][1]) / (series[j][0] - series[i][0])

    def usage(self) -> tuple[float, float]:
        """CPU seconds of the tree less the sampling's own, and peak memory in MB. getrusage
        counts only descendants that were waited for (not workers of a fork server that exits
        after its parent), so the sampled CPU is taken when it is larger."""
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
        return max(cpu, sum(self.cpu.values())) - self.sampling, self.peak / 2**20


def run_system(name: str, corpus: Path, score: bool) -> dict:
    """Run ``name`` on ``corpus`` (a form's folder, holding ``raw/``), measured."""
    from thresher.config import Config

    sampler = TreeSampler()
    raw, out = corpus / "raw", corpus / f"out-{name.replace(':', '_')}"
    system, *budget = name.split(":")
    config = Config(**{k: int(v) * m for (k, m), v in zip((("shard_size", 1), ("shard_bytes", 2**20)), budget)})
    shutil.rmtree(out, ignore_errors=True)
    t0, wall0, span, server, done = time.perf_counter(), time.time(), None, None, None
    if system == "thresher-1":
        from thresher.run import archive_serial

        archive_serial(raw, out, config)
    elif system == "thresher-2":
        span = _thresher_pool(raw, out, 2, config)
    elif system in ("thresher-flow", "thresher-flow-server"):
        env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        if system == "thresher-flow-server":
            server = _running_prefect_server()
            env["PREFECT_API_URL"] = server.api_url
        t0, wall0 = time.perf_counter(), time.time()
        cpu_before = sampler.usage()[0] if server else 0.0  # the running server's start-up is not the run's
        done = subprocess.run([str(ROOT / ".venv/bin/thresher"), "run", str(raw), str(out), "--workers", "2",
                               "--shard-size", str(config.shard_size), "--shard-bytes", str(config.shard_bytes), "--json"],
                              check=True, capture_output=True, env=env, text=True)
    elif system.startswith("datatrove-"):
        workers, _, tokenizer = system.removeprefix("datatrove-").partition("-")
        done = subprocess.run([str(DATATROVE_PYTHON), str(ROOT / "bench" / "datatrove_pipeline.py"), str(raw), str(out),
                               "--workers", workers, "--tokenizer", tokenizer or "default"],
                              check=True, capture_output=True, text=True)
    elif system == "trafilatura":
        _trafilatura_alone(raw, out)
    else:
        raise SystemExit(f"unknown system {name}; known: {SYSTEMS}")
    elapsed = time.perf_counter() - t0
    cpu, peak = sampler.usage()
    if server is not None:
        cpu -= cpu_before
        span = _shard_span(server, _shards_of(json.loads(done.stdout)))
        server.stop()
    result = {"system": name, "seconds": elapsed, "cpu": cpu, "peak_mb": peak, "busy": cpu / elapsed}
    if span:  # the phases: before the first shard, the shards, after the last; busy cores in the shards
        result["phases"] = (span[0] - wall0, span[1] - span[0], wall0 + elapsed - span[1])
        result["busy"] = sampler.busy(*span)
    if system.startswith("thresher"):
        result["kept"], result["removed"], result["rejected"] = (_rows(out / d) for d in ("articles", "duplicates", "rejects"))
    elif system.startswith("datatrove"):
        stats = json.loads(done.stdout.strip().splitlines()[-1])
        result["kept"], result["removed"] = _rows(out / "documents"), stats["duplicates_removed"]
        result["rejected"] = stats["read"] - stats["written"] - stats["duplicates_removed"]
    if score:
        result["quality"] = _quality(system, corpus, out)
    return result


def _quality(system: str, corpus: Path, out: Path) -> dict:
    import scoring

    truth = scoring.Truth(json.loads((corpus.parent / "truth.json").read_text()))
    if system.startswith("thresher"):
        outputs = scoring.outputs_thresher(out)
    elif system.startswith("datatrove"):
        outputs = scoring.outputs_datatrove(out)
    else:
        outputs = scoring.outputs_jsonl(out / "texts.jsonl")
    alone = system == "trafilatura"  # extraction of the HTML pages only: no dumps, no dedup
    return truth.quality(outputs, corpus.name, dedup=not alone, dumps=not alone)


def _trafilatura_alone(raw: Path, out: Path) -> None:
    """trafilatura.extract on every HTML page (loose files, or the response records of the WARC
    files), one process; the texts are kept for scoring only after the clock stops."""
    import trafilatura
    from warcio.archiveiterator import ArchiveIterator

    texts = []
    for path in sorted(raw.rglob("*.html")):
        texts.append((str(path.relative_to(raw)), trafilatura.extract(path.read_bytes(), deduplicate=False)))
    for path in sorted(raw.rglob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response":
                    html = record.content_stream().read()
                    texts.append((record.rec_headers.get_header("WARC-Record-ID"), trafilatura.extract(html, deduplicate=False)))
    out.mkdir(parents=True, exist_ok=True)
    (out / "texts.jsonl").write_text("".join(json.dumps({"id": k, "text": t}) + "\n" for k, t in texts), encoding="utf-8")


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


def _shards_of(manifest: dict) -> int:
    """How many shards a run had: every shard writes rows, into files named ``RUN-SHARD.parquet``."""
    return len({f["path"].rsplit("-", 1)[-1] for f in manifest["files"] if f["path"].endswith(".parquet")
                and f["path"].split("/")[0] in ("articles", "duplicates", "rejects")})


def _shard_span(server, shards: int) -> tuple[float, float]:
    """When (``time.time()``) the last flow run on ``server`` started its first clean-shard
    task run and when its last one ended, from the task runs Prefect recorded. Prefect 3 sends
    task run states as events, which the server may store a while after the flow returns: the
    runs are read again until all ``shards`` of them have ended (at most 60 s)."""
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

    for _ in range(120):
        ended = [t for t in asyncio.run(read()) if t.start_time and t.end_time]
        if len(ended) >= shards:
            break
        time.sleep(0.5)
    else:
        raise RuntimeError(f"the Prefect server recorded {len(ended)} of the run's {shards} shard task runs")
    return min(t.start_time.timestamp() for t in ended), max(t.end_time.timestamp() for t in ended)


if __name__ == "__main__":
    print(json.dumps(run_system(sys.argv[1], Path(sys.argv[2]), "--score" in sys.argv)))
