"""End-to-end throughput and quality on real pages: thresher's serial runner, its process pool
and its Prefect flow, datatrove's documented pipeline and trafilatura alone, on the same pages.

    python bench/throughput.py 1000 10000 --forms=files,warc        # what `make bench` runs first
    python bench/throughput.py 5000 --forms=warc1 --systems=thresher-2,thresher-flow-server
    python bench/throughput.py 10000 --systems=thresher-2,thresher-flow-server --repeat=3
    python bench/throughput.py 10000 50000 --keep=/tmp/corpora      # build the corpora once, reuse them

For each size N the corpus of N real pages (bench/corpus.py: the 2,295 dev pages, re-fetches
on the same site, syndicated copies on other sites, one page in five a flattened text dump) is
written in each form asked: ``files`` (loose files), ``warc`` (4 large WARC files, the dumps
beside them), ``warc1`` (one WARC file). Every system runs in a process of its own
(bench/systems.py says what each is and how it is measured). Printed per system: wall time,
pages per second, CPU per page and peak memory of its whole process tree, the mean busy cores
during its shard phase (the pool and the flow on a running server; for the others, CPU over
wall), then the quality of what it wrote (bench/scoring.py): extraction F1 against the gold
bodies on the test split's pages (HTML pages, text dumps) and the precision, recall and F1 of
the duplicate pairs it found against the known copies. Then the ratios the project's bars
name, and Prefect's cost: the fixed cost per run and its share while the shards run.

Sizes past ``--full-until`` (default 10,000) run only ``thresher-2`` and
``thresher-flow-server`` (the memory bar; datatrove there takes over an hour), and the peak
memory of each system at the largest size is printed against 10,000. Timings on a shared
machine are noisy: ``--repeat=R`` runs every system R times, interleaved (every other round in
reverse order), and prints medians with their range; Prefect's share is taken within each
round, from the flow's run and the pool's run of that round.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from corpus import FORMS, make_corpus  # bench/ is on sys.path when this file runs
from devsets import absent_message, devsets_root
from systems import DATATROVE_PYTHON, SYSTEMS

BIG_SYSTEMS = ["thresher-2", "thresher-flow-server"]
FORM_NAMES = {"files": "loose files", "warc": "4 WARC files (the text dumps beside them)",
              "warc1": "one WARC file (the text dumps beside it)"}


def main(argv: list[str]) -> None:
    opts = {a.split("=", 1)[0]: a.split("=", 1)[1] for a in argv if a.startswith("--") and "=" in a}
    sizes = [int(a) for a in argv if a.isdigit()] or [1000]
    systems = opts["--systems"].split(",") if "--systems" in opts else list(SYSTEMS)
    forms = opts.get("--forms", "files,warc").split(",")
    repeat, full_until = int(opts.get("--repeat", "1")), int(opts.get("--full-until", "10000"))
    unknown = [s for s in systems if s.split(":")[0] not in SYSTEMS] + [f for f in forms if f not in FORMS]
    if unknown:
        raise SystemExit(f"unknown systems or forms {unknown}; systems: {SYSTEMS}, forms: {FORMS}")
    if devsets_root() is None:
        raise SystemExit(absent_message())
    if not DATATROVE_PYTHON.exists():
        systems = [s for s in systems if not s.startswith("datatrove")]
        print(f"{DATATROVE_PYTHON} is missing (make venv-datatrove): datatrove is left out")
    keep = Path(opts["--keep"]) if "--keep" in opts else None
    peaks: dict[tuple[str, str, int], float] = {}
    for n in sizes:
        folder = keep / f"corpus-{n}" if keep else Path(tempfile.mkdtemp(prefix=f"thresher-bench-{n}-"))
        made = make_corpus(folder, n, tuple(forms))
        chosen = systems if n <= full_until else [s for s in systems if s.split(":")[0] in BIG_SYSTEMS]
        for form in forms:
            runs = _rounds(chosen, folder / form, repeat)
            _print_table(n, form, made, runs)
            for system, got in runs.items():
                peaks[system, form, n] = max(r["peak_mb"] for r in got)
        if not keep:
            shutil.rmtree(folder)
    _print_memory(peaks)


def _rounds(systems: list[str], corpus: Path, repeat: int) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {}
    for round_ in range(repeat):
        # every other round in reverse order, so that no system always runs first (a machine
        # that slows down or speeds up within a round would favour one side of every pair)
        for system in systems if round_ % 2 == 0 else systems[::-1]:
            cmd = [sys.executable, str(Path(__file__).with_name("systems.py")), system, str(corpus)]
            out = subprocess.run(cmd + (["--score"] if round_ == 0 else []), capture_output=True, text=True)
            if out.returncode:
                print(f"  {system:22} failed: {out.stderr.strip().splitlines()[-3:]}", flush=True)
                continue
            runs.setdefault(system, []).append({**json.loads(out.stdout.strip().splitlines()[-1]), "round": round_})
            print(f"    ({corpus.name} {system}, round {round_ + 1}: {runs[system][-1]['seconds']:.1f} s)",
                  file=sys.stderr, flush=True)
    return runs


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _print_table(n: int, form: str, made: dict, runs: dict[str, list[dict]]) -> None:
    print(f"\n{n} real pages as {FORM_NAMES[form]}: {made['stories']} dev pages, {made['refetch']} re-fetches, "
          f"{made['syndicated']} syndicated copies, {made['dumps']} of them text dumps"
          + (f"; medians of {max(map(len, runs.values()))} runs, [fastest-slowest]" if any(len(r) > 1 for r in runs.values()) else ""))
    print(f"  {'system':22} {'seconds':>8} {'pages/s':>8} {'CPU/page':>9} {'peak MB':>8} {'busy':>5}"
          f"   {'F1 html':>7} {'F1 dump':>7}   {'pairs P':>7} {'R':>5} {'F1':>5}")
    for system, got in runs.items():
        secs, cpu = _median(got, "seconds"), _median(got, "cpu")
        busy = [r["busy"] for r in got if r.get("busy") is not None]
        q = next((r["quality"] for r in got if "quality" in r), {})
        f = lambda k: f"{q[k]:.3f}" if q.get(k) is not None else "-"  # noqa: E731
        spread = f"   [{min(r['seconds'] for r in got):.1f}-{max(r['seconds'] for r in got):.1f} s]" if len(got) > 1 else ""
        print(f"  {system:22} {secs:8.1f} {n / secs:8.1f} {cpu / n * 1000:7.1f}ms {max(r['peak_mb'] for r in got):8.0f}"
              f" {statistics.median(busy) if busy else 0:5.2f}   {f('f1_html'):>7} {f('f1_dumps'):>7}"
              f"   {f('dedup_p'):>7} {f('dedup_r'):>5} {f('dedup_f1'):>5}{spread}", flush=True)
    _print_ratios(runs)
    _print_prefect(runs)


def _print_ratios(runs: dict[str, list[dict]]) -> None:
    rate = {k: 1 / _median(v, "seconds") for k, v in runs.items()}
    base = {k.split(":")[0]: k for k in runs}  # the first of each system (a shard budget may follow its name)
    for ours, theirs in [("thresher-2", "thresher-1"), ("thresher-flow", "datatrove-2"),
                         ("thresher-flow-server", "datatrove-2"), ("thresher-2", "datatrove-2"),
                         ("thresher-flow-server", "datatrove-2-split"), ("thresher-flow-server", "trafilatura")]:
        if ours in base and theirs in base:
            print(f"  {ours} / {theirs}: {rate[base[ours]] / rate[base[theirs]]:.2f}x pages/s")


def _print_prefect(runs: dict[str, list[dict]]) -> None:
    """Prefect's cost, from each round's flow run against the pool run of the same round: the
    whole share of the flow's wall time; with a running server (whose task runs give the shard
    phase) its fixed cost per run (before the first shard and after the last) and its variable
    share (how much longer the shards took than on the plain pool)."""
    pool = {r["round"]: r for r in runs.get("thresher-2", [])}
    for flow, what in [("thresher-flow", "temporary server, its start-up included"), ("thresher-flow-server", "server running")]:
        pairs = [(pool[r["round"]], r) for r in runs.get(flow, []) if r["round"] in pool]
        if not pairs:
            continue
        shares = [1 - p["seconds"] / f["seconds"] for p, f in pairs]
        spread = f" [{min(shares):.1%} to {max(shares):.1%}, {len(shares)} rounds]" if len(shares) > 1 else ""
        print(f"  Prefect's share of the flow's wall time ({what}): {statistics.median(shares):.1%}{spread}")
        phased = [(p["phases"], f["phases"]) for p, f in pairs if "phases" in p and "phases" in f]
        if phased:
            fixed = statistics.median((f[0] - p[0]) + (f[2] - p[2]) for p, f in phased)
            variable = [f[1] / p[1] - 1 for p, f in phased]
            print(f"    fixed cost per run: {fixed:+.2f} s (before the first shard and after the last); "
                  f"variable share while the shards run: {statistics.median(variable):+.1%}"
                  + (f" [{min(variable):+.1%} to {max(variable):+.1%}]" if len(variable) > 1 else ""))


def _print_memory(peaks: dict[tuple[str, str, int], float]) -> None:
    for (system, form, n), peak in sorted(peaks.items()):
        small = peaks.get((system, form, 10000))
        if n > 10000 and small:
            print(f"\n  peak memory of {system} ({form}) at {n} pages / at 10000: {peak:.0f} / {small:.0f} MB = {peak / small:.2f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
