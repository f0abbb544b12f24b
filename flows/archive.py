"""``archive_corpus``: raw pages in RAW_DIR to a published run in OUT_DIR.

Reads like the data flow in DESIGN.md, one task per step of :mod:`thresher.run`: begin the run
(config checked, interrupted runs cleared, inputs discovered and sharded) → clean every shard
(read, decode, extract, strip, sign for dedup, staged Parquet), in parallel → finish (dedup
against the archive, publish, manifest last) → report. A task run costs milliseconds of
orchestration, so tasks work on shards of hundreds to thousands of pages, never on one page.
"""

from __future__ import annotations

import traceback

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from thresher import archive, progress, report, run
from thresher.config import Config
from thresher.run import RunPlan, ShardJob

from flows.prefect_private import current_task_runner
from flows.shardpool import ShardPool, compute, compute_all

SHARD_BYTES = Config().shard_bytes


class shipped(quote):
    """Prefect's :class:`~prefect.utilities.annotations.quote` that survives pickling. Prefect
    3.8.8's ``quote`` is a one-element tuple whose ``__new__`` wraps its argument, so a pickle
    round trip (a task sent to a Dask worker) rebuilds ``quote((value,))``: the task received
    ``(job,)`` instead of the job and every shard failed on Dask. Same meaning otherwise (not
    traversed, unwrapped by the task engine), checked by ``tests/test_dask.py``."""

    __slots__ = ()

    def __reduce__(self):
        return type(self), (self.unwrap(),)


@task(name="begin-run", cache_policy=NO_CACHE)
def begin(raw_dir: str, out_dir: str, shard_size: int, shard_bytes: int, flow_run_id: str | None) -> RunPlan:
    """Discovery and shards; the WARC files are indexed on the shard workers, several at once."""
    config = Config(shard_size=shard_size, shard_bytes=shard_bytes)
    return run.begin_run(raw_dir, out_dir, config, flow_run_id, mapper=compute_all)


@task(name="clean-shard", cache_policy=NO_CACHE, retries=1)
def clean_shard(job: ShardJob) -> dict:
    """One shard, computed in a worker process of the flow's :class:`~flows.shardpool.ShardPool`
    (or here, on Dask); the archive's memory (what to skip) is read in the worker, once per
    process, from the published runs the job names: it is too big to send with every task."""
    return compute(run.run_shard, job, watched=True)  # a worker that dies: see ShardPool.compute


@task(name="finish-run", cache_policy=NO_CACHE)
def finish(plan: RunPlan, shards: list[dict]) -> dict:
    return run.finish_run(plan, shards)


@task(name="write-report", cache_policy=NO_CACHE)
def write_report(out_dir: str, run_id: str) -> tuple[str, dict] | None:
    return run.report_run(out_dir, run_id)


def publish_artifacts(path: str, data: dict) -> None:
    """The run's report where Prefect users look: a table of outcomes and rules, a table of
    its largest stories, and a summary that points at the full HTML report."""
    create_table_artifact(
        key="thresher-run-outcomes",
        table=[{"outcome": k, "pages": v} for k, v in data["outcomes"]]
        + [{"outcome": f"removed by {r['rule']}", "pages": f"{r['spans']} spans, {r['chars']} chars"} for r in data["rules"]],
        description=f"thresher run {data['run_id']}: pages per outcome and what each rule removed",
    )
    create_table_artifact(
        key="thresher-run-stories",
        table=[{"story": x["story_id"], "articles": x["articles"], "copies": x["duplicates"], "sites": x["sites"],
                "headline": x["headline"] or ""} for x in data.get("stories", [])],
        description=f"thresher run {data['run_id']}: the largest stories it started or extended",
    )
    create_markdown_artifact(key="thresher-run-report", markdown=report.render_markdown(data, path),
                             description=f"thresher run {data['run_id']}")


def clean_all_shards(plan: RunPlan) -> list[dict]:
    """Submit every shard, collect them as they finish, and report progress as they do. A shard
    that still fails after its retry (a bug, not bad input) becomes ``internal_error`` rejects."""
    total = sum(job.pages for job in plan.jobs)
    artifact = create_progress_artifact(0.0, description=f"pages of run {plan.ctx.run_id}")
    # quote(): Prefect walks every task argument, element by element, for futures to resolve
    # and upstream runs to link (twice per shard); a job holds none, and a thousand input records.
    # shipped(), not quote(): on Dask the argument is pickled to a worker
    futures = {clean_shard.submit(shipped(job)): job for job in plan.jobs}
    shards, done = [], 0
    progress.advance(0, total, "pages")
    try:
        for future in as_completed(list(futures)):
            job = futures[future]
            try:
                shards.append(future.result())
            except archive.StorageError:  # OUT_DIR cannot be written: the run fails, nothing is published
                raise
            except Exception:  # the task's own exception, re-raised by Prefect after its retries
                shards.append(run.shard_failed(job, traceback.format_exc()))
            done += job.pages
            progress.advance(done, total, "pages")
            update_progress_artifact(artifact, 100.0 * done / total)
    except BaseException:  # SIGINT, SIGTERM (Prefect's TerminationSignal), a failed write: the run ends
        stop_local_workers()  # before end_run removes the staging they write into
        raise
    return shards


def stop_local_workers() -> None:
    """Kill this flow's local shard workers, if it has any (not on Dask: a task already running
    on a cluster cannot be killed from here; what it stages is cleared by the next run)."""
    runner = current_task_runner()
    if isinstance(runner, ShardPool):
        runner.stop()


def task_runner(workers: int | None = None, dask_address: str | None = None):
    """Where shard tasks run: local processes (default, one per core; parsing is CPU-bound, so
    threads would share one core through the GIL) behind thread task runs (:mod:`flows.shardpool`),
    or an existing Dask cluster."""
    if dask_address:
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError as exc:
            raise SystemExit(f"--dask-address needs the dask extra: pip install 'thresher[dask]' ({exc})") from exc

        return DaskTaskRunner(address=dask_address)
    return ShardPool(workers)  # None: one process per core


@flow(name="archive_corpus", log_prints=False, task_runner=task_runner())
def archive_corpus(raw_dir: str = "raw", out_dir: str = "clean", shard_size: int = 1000,
                   shard_bytes: int = SHARD_BYTES) -> dict:
    """Archive every new page under ``raw_dir`` into ``out_dir`` and return the run manifest."""
    logger = get_run_logger()
    plan = begin(raw_dir, out_dir, shard_size, shard_bytes, str(flow_run.id) if flow_run.id else None)
    try:  # begin took the archive's lock: whatever happens, it is released
        shards = clean_all_shards(plan)
        manifest = finish(quote(plan), quote(shards))
    finally:
        run.end_run(plan)
    reported = write_report(plan.out_dir, plan.ctx.run_id)
    if reported is not None:
        logger.info("report: %s", reported[0])
        try:  # the run is published: artifacts that fail must not make it look failed
            publish_artifacts(*reported)
        except Exception:
            logger.exception("the run is published, but its Prefect artifacts could not be created")
    return manifest
