"""The run sequence, written once: begin, run each shard, finish.

Both ways of running thresher use it: :func:`archive_serial` (one process, or a process pool's
``map``: for library users, tests and benchmarks) and the Prefect flow ``flows/archive.py``,
which makes each step a task and runs the shards in parallel or on a cluster. Steps:

1. :func:`begin_run`: a new run context (a bad config fails here, before any work), the
   folders checked (:mod:`thresher.preflight`), the archive's lock taken (one writer at a
   time), what interrupted runs left cleared, inputs discovered, WARC files indexed, all cut
   into shards of bounded pages and bytes;
2. :func:`run_shard` per shard, anywhere (it reads the archive's memory itself): clean, stage;
   a shard that keeps crashing becomes :func:`shard_failed`, its inputs ``internal_error``
   rejects, so the run can still publish with nothing lost or hidden;
3. :func:`finish_run`: dedup against the archive, stories (archive-wide, incremental), publish
   (manifest last, chained to the previous run and signed with the operator's key when
   ``THRESHER_SIGNING_KEY`` names one), lock released;
4. :func:`report_run`: the run's report, which must not make a published run look failed.

A run that fails anywhere after :func:`begin_run` ends with :func:`end_run`: its lock is
released and its staging removed, so it leaves nothing behind but its log.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial

from thresher import archive, clean, preflight, report, sources
from thresher.archive.lock import Lock
from thresher.archive.chain import signing_key_from_env
from thresher.config import Config
from thresher.provenance import RunContext, new_run
from thresher.records import Reject
from thresher.sources import WorkUnit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShardJob:
    """One shard's work, self-contained so it can be pickled to a worker or a cluster:
    ``runs`` names the published runs the archive's memory is read from (see
    :func:`thresher.archive.memory_at`), not the memory itself, which can be huge."""

    raw_dir: str
    out_dir: str
    units: list[WorkUnit]
    ctx: RunContext
    index: int
    runs: tuple[str, ...]
    replaces: tuple[tuple[str, str], ...] = ()  # (file, doc_id): retryable rejects of its inputs

    @property
    def pages(self) -> int:
        """The pages this shard reads (as the WARC indexes counted them): what progress counts."""
        return sum(u.pages for u in self.units)


@dataclass(frozen=True)
class RunPlan:
    """A begun run: its context, what recovery cleared, its shards, and the archive's lock it
    holds (in this process: a plan is not sent to workers, its jobs are)."""

    raw_dir: str
    out_dir: str
    ctx: RunContext
    files: int
    jobs: list[ShardJob]
    recovered: list[str]
    lock: Lock | None = None


def begin_run(raw_dir: str | os.PathLike, out_dir: str | os.PathLike, config: Config,
              flow_run_id: str | None = None, mapper: Callable = map) -> RunPlan:
    """Start a run: context first (it validates the config), the folders checked, the archive's
    lock taken, then recovery, discovery, the WARC files' record indexes (through ``mapper``: a
    process pool's ``map`` indexes several files at once), shards. Raises
    :class:`~thresher.preflight.UsageError` for an operator's error and
    :class:`~thresher.archive.ArchiveBusy` when another run writes OUT_DIR, both before any work."""
    ctx = new_run(config, flow_run_id)
    signing_key_from_env()  # a key that does not load fails here, before any work
    raw, out = str(raw_dir), str(out_dir)
    preflight.check_locations(raw, out)
    try:
        lock = archive.acquire(out, ctx.run_id)
    except OSError as exc:
        raise preflight.UsageError(f"OUT_DIR {out} cannot be written: {exc.strerror or exc}") from exc
    try:
        preflight.check_room(out)
        recovered = archive.recover(out)
        if recovered:
            log.warning("cleared what an interrupted run left: %s", recovered)
        items = sources.discover(raw)
        if not items:
            raise preflight.UsageError(preflight.empty_message(raw))
        runs = archive.published_runs(out)
        retry = archive.retryable_rejects(out) if runs else {}
        started = time.perf_counter()
        indexes = sources.index_warcs(items, partial(sources.index_warc, raw), mapper)
        if indexes:
            log.info("indexed %d WARC files (%d records) in %.2f s", len(indexes), sum(map(len, indexes.values())),
                     time.perf_counter() - started)
    except BaseException:
        lock.release()
        raise
    batches = sources.cut(items, indexes, config.shard_size, config.shard_bytes, config.max_warc_records)
    jobs = [ShardJob(raw, out, batch, ctx, i, runs, _replaced_by(batch, retry)) for i, batch in enumerate(batches)]
    log.info("run %s: %d inputs, %d pages, in %d shards", ctx.run_id, len(items), sum(j.pages for j in jobs), len(jobs))
    return RunPlan(raw, out, ctx, len(items), jobs, recovered, lock)


def _replaced_by(units: list[WorkUnit], retry: dict[str, tuple[tuple[str, str], ...]]) -> tuple[tuple[str, str], ...]:
    """The retryable rejects (file, doc_id) of the inputs whose first part is in ``units``: the
    rows this run makes of those inputs replace them."""
    return tuple(pair for u in units if u.counts_file for pair in retry.get(clean.printable_path(u.item.source_path), ()))


def run_shard(job: ShardJob, on_input: Callable[[int], None] | None = None,
              poisoned: dict[int, tuple[str, str, bool]] | None = None) -> dict:
    """Clean and stage one shard; its summary for the manifest. Top-level, so that process
    pools can pickle it; the archive's memory is read here, once per process and run.

    For a shard whose worker died (see :meth:`flows.shardpool.ShardPool.compute`): ``on_input(i)``
    is called as input ``i`` starts, so a supervising process knows which input killed it, and
    ``poisoned`` maps those inputs to ``(reason, detail, read its bytes?)``: their reject, given
    without processing them again."""
    known, snapshots = archive.memory_at(job.out_dir, job.runs)
    marks = {i: (Reject(reason, detail), read) for i, (reason, detail, read) in (poisoned or {}).items()}
    result = clean.clean_shard(job.raw_dir, job.units, job.ctx, known, snapshots, on_input=on_input, poisoned=marks)
    return _stage(job, result)


def _stage(job: ShardJob, result: clean.ShardResult) -> dict:
    """Stage a shard's rows; its summary names the earlier rejects its inputs' rows replace."""
    summary = {**result.summary(job.index), "replaces": [list(pair) for pair in job.replaces]}
    return archive.stage_shard(job.out_dir, job.ctx.run_id, summary, result.tables())


def shard_failed(job: ShardJob, error: str) -> dict:
    """The summary of a shard that kept crashing (a bug, after retries): every input in it is
    an ``internal_error`` reject, and the traceback goes into the manifest."""
    log.error("shard %d failed; its %d inputs are rejected: %s", job.index, len(job.units),
              error.strip().splitlines()[-1] if error.strip() else "no traceback")
    result = clean.crashed_shard(job.raw_dir, job.units, job.ctx, error)
    return _stage(job, result)


def finish_run(plan: RunPlan, shards: list[dict]) -> dict:
    """Dedup the run against the archive, place its articles in stories, publish it; return
    the manifest. The lock is checked just before the manifest is written and released once it is."""
    archive.forget_memory()  # this process's copy, if shards ran here: not kept past the run
    # in shard order, whatever order they finished in (the flow hands them over as they end):
    # dedup pairs each LSH bucket with its first row, so the rows' order must be the inputs'
    shards = sorted(shards, key=lambda s: s["shard"])
    log.info("dedup: %s", archive.deduplicate(plan.out_dir, plan.ctx.run_id, shards))
    stories = archive.decide_stories(plan.out_dir, plan.ctx.run_id, shards)
    log.info("stories: %s", {k: v for k, v in stories.items() if k != "largest"})
    finished = datetime.now(timezone.utc).isoformat()
    manifest = archive.publish(plan.out_dir, plan.ctx, plan.raw_dir, plan.files, shards, finished, plan.recovered,
                               commit_check=plan.lock.check if plan.lock else None, signing_key=signing_key_from_env(),
                               story_counts=stories)
    if plan.lock:
        plan.lock.release()
    log.info("run %s published: %s, %s", plan.ctx.run_id, manifest["inputs"], manifest["counts"])
    return manifest


def end_run(plan: RunPlan) -> None:
    """After a run, published or failed: its lock released (if :func:`finish_run` has not) and,
    unless it published, its staging removed. Safe to call twice."""
    if plan.lock is None or plan.lock.released:
        return
    try:
        archive.discard(plan.out_dir, plan.ctx.run_id)
    finally:
        plan.lock.release()


def report_run(out_dir: str, run_id: str) -> tuple[str, dict] | None:
    """Write the run's report; None when it fails: the run is published, and ``thresher
    report`` can write it again."""
    try:
        path, data = report.write_report(out_dir, run_id)
    except Exception:
        log.exception("the run is published, but its report could not be written; `thresher report` retries it")
        return None
    return str(path), data


def _shard_or_rejects(job: ShardJob) -> dict:
    try:
        return run_shard(job)
    except archive.StorageError:  # OUT_DIR cannot be written: the run fails, nothing is rejected
        raise
    except Exception:
        return shard_failed(job, traceback.format_exc())


def archive_serial(
    raw_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    config: Config | None = None,
    mapper: Callable[[Callable[[ShardJob], dict], Iterable[ShardJob]], Iterable[dict]] = map,
) -> dict:
    """Archive every new page of ``raw_dir`` into ``out_dir`` without Prefect; return the run
    manifest. ``mapper`` lets a caller run the shards elsewhere (a process pool's ``map``)."""
    plan = begin_run(raw_dir, out_dir, config or Config())
    try:
        shards = list(mapper(_shard_or_rejects, plan.jobs))
        manifest = finish_run(plan, shards)
    finally:
        end_run(plan)
    report_run(plan.out_dir, plan.ctx.run_id)
    return manifest
