"""Where a real page's time goes: CPU per page of each step of a shard, on the benchmark corpus.

    python bench/profile_pages.py [PAGES] [--form=files|warc] [--keep=DIR] [--cprofile]

Runs the run's shards one after another in this process (``thresher.run.run_shard``: read,
decode, extract, rules, rows, template paragraphs, signatures, staged Parquet) on the corpus of
PAGES real pages (bench/corpus.py, default 1,000), with each step's function wrapped by a timer
of this process's CPU time. A step's time is exclusive: what it spent less what the other
wrapped steps it called spent. Printed: milliseconds of CPU per page and the share of each
step. ``--cprofile`` prints cProfile's 40 costliest functions instead (it slows Python code
more than C code, so its shares lean towards Python; the timers do not).

The extraction steps are the functions of ``thresher.extract.html`` and ``.dumps`` that exist
(a step that is not there is left out), so the profile follows the extractor as it changes.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from corpus import make_corpus

STEPS = {  # module: functions timed, by the name the step is printed under
    "thresher.clean": {"read_pages": "read (files, WARC records)", "process_page": "rows (article/reject)",
                       "extract_page": "extract: other", "paragraph_row": "template paragraph hashes",
                       "signature_row": "dedup signatures"},
    "thresher.extract.html": {"decode_bytes": "decode", "parse_tree": "extract: parse", "read_meta": "extract: metadata",
                              "remove_hidden": "extract: hidden elements", "prose_words": "extract: prose measure",
                              "page_blocks": "extract: page blocks", "block_features": "extract: block features",
                              "trafilatura_text": "extract: trafilatura (a feature)",
                              "select_blocks": "extract: the model's choice", "repair_mojibake": "extract: mojibake repair",
                              "strip_boilerplate": "text rules", "detect_language": "language", "parse_date": "dates"},
    "thresher.extract.dumps": {"decode_bytes": "decode", "strip_boilerplate": "text rules",
                               "apply_line_model": "dumps: line model",
                               "detect_language": "language", "parse_date": "dates"},
    "thresher.archive": {"stage_shard": "Parquet (staged tables)", "memory_at": "archive memory"},
    "thresher.clean:ShardResult": {"tables": "Arrow tables"},
}


class Timers:
    """Exclusive CPU time per step: a step's time less that of the timed steps inside it."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self.stack: list[float] = []  # time spent in timed children of each open step

    def call(self, name: str, fn, *args, **kwargs):
        self.stack.append(0.0)
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            self._close(name, time.process_time() - start)

    def _close(self, name: str, elapsed: float) -> None:
        children = self.stack.pop()
        self.spent[name] += elapsed - children
        if self.stack:
            self.stack[-1] += elapsed

    def wrap(self, name: str, fn):
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen(*args, **kwargs):
                it = fn(*args, **kwargs)
                while True:
                    try:
                        item = self.call(name, next, it)
                    except StopIteration:
                        return
                    yield item
            return gen

        @functools.wraps(fn)
        def plain(*args, **kwargs):
            return self.call(name, fn, *args, **kwargs)
        return plain


def instrument(timers: Timers) -> None:
    for where, names in STEPS.items():
        module, _, cls = where.partition(":")
        target = importlib.import_module(module)
        target = getattr(target, cls) if cls else target
        for attr, step in names.items():
            fn = getattr(target, attr, None)
            if fn is not None:
                setattr(target, attr, timers.wrap(step, fn))


def main(argv: list[str]) -> None:
    opts = {a.split("=", 1)[0]: a.split("=", 1)[1] for a in argv if "=" in a}
    n = next((int(a) for a in argv if a.isdigit()), 1000)
    form = opts.get("--form", "files")
    folder = Path(opts["--keep"]) / f"corpus-{n}" if "--keep" in opts else Path(tempfile.mkdtemp(prefix="thresher-profile-"))
    make_corpus(folder, n, (form,))
    from thresher.config import Config
    from thresher.run import begin_run, end_run, run_shard

    out = Path(tempfile.mkdtemp(prefix="thresher-profile-out-"))
    plan = begin_run(folder / form / "raw", out, Config())
    timers = Timers()
    if "--cprofile" in argv:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(lambda: [run_shard(job) for job in plan.jobs])
        end_run(plan)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        return
    instrument(timers)
    start = time.process_time()
    for job in plan.jobs:
        timers.call("rest of the shard", run_shard, job)
    total = time.process_time() - start
    end_run(plan)
    pages = sum(job.pages for job in plan.jobs)
    print(f"{pages} real pages ({form}), {len(plan.jobs)} shards, one process: {total / pages * 1000:.1f} ms of CPU per page")
    for step, spent in sorted(timers.spent.items(), key=lambda kv: -kv[1]):
        print(f"  {step:32} {spent / pages * 1000:7.2f} ms/page  {spent / total:6.1%}")


if __name__ == "__main__":
    main(sys.argv[1:])
