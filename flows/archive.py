"""``archive_corpus``: raw pages in RAW_DIR to a published run in OUT_DIR.

Reads like the data flow in DESIGN.md: recover (clear an interrupted run) → discover → clean shards (read, decode, extract, strip,
sign for dedup, staged Parquet) → deduplicate (signatures of the run against the archive) →
publish (split duplicates out, move into datasets, manifest last). Each task is one library call
on a batch of pages: a task run costs milliseconds of orchestration, so tasks never work on
one page at a time.
"""

from __future__ import annotations

from datetime import datetime, timezone

import traceback

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact, update_progress_artifact
from prefect.futures import as_completed
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from thresher import archive, pipeline, progress, report, runner, sources
from thresher.config import Config
from thresher.pipeline import RunContext
from thresher.sources import RawInput

from flows.shardpool import ShardPool, compute


@task(name="discover-inputs", cache_policy=NO_CACHE)
def discover_inputs(raw_dir: str) -> list[RawInput]:
    return sources.discover(raw_dir)


@task(name="recover-interrupted-runs", cache_policy=NO_CACHE)
def recover(out_dir: str) -> list[str]:
    return archive.recover(out_dir)


@task(name="list-published-runs", cache_policy=NO_CACHE)
def published_runs(out_dir: str) -> tuple[str, ...]:
    return archive.published_runs(out_dir)


@task(name="clean-shard", cache_policy=NO_CACHE, retries=1)
def clean_shard(raw_dir: str, out_dir: str, items: list[RawInput], ctx: RunContext, index: int,
                runs: tuple[str, ...]) -> dict:
    """One shard, computed in a worker process of the flow's :class:`~flows.shardpool.ShardPool`
    (or here, on Dask); the archive's memory (what to skip) is read in the worker, once per
    process, from the published ``runs``: it is too big to send with every task."""
    return compute(runner.shard_job, (raw_dir, out_dir, items, ctx, index, runs))


@task(name="deduplicate", cache_policy=NO_CACHE)
def deduplicate(out_dir: str, ctx: RunContext) -> dict:
    return archive.deduplicate(out_dir, ctx.run_id)


@task(name="publish-run", cache_policy=NO_CACHE)
def publish_run(out_dir: str, ctx: RunContext, raw_dir: str, seen: int, shards: list[dict], recovered: list[str]) -> dict:
    return archive.publish(out_dir, ctx, raw_dir, seen, shards, datetime.now(timezone.utc).isoformat(), recovered)


@task(name="write-report", cache_policy=NO_CACHE)
def write_report(out_dir: str, run_id: str) -> tuple[str, dict]:
    path, data = report.write_report(out_dir, run_id)
    return str(path), data


def publish_artifacts(path: str, data: dict) -> None:
    """The run's report where Prefect users look: a table of outcomes and rules, and a summary
    that points at the full HTML report."""
    create_table_artifact(
        key="thresher-run-outcomes",
        table=[{"outcome": k, "pages": v} for k, v in data["outcomes"]]
        + [{"outcome": f"removed by {r['rule']}", "pages": f"{r['spans']} spans, {r['chars']} chars"} for r in data["rules"]],
        description=f"thresher run {data['run_id']}: pages per outcome and what each rule removed",
    )
    create_markdown_artifact(key="thresher-run-report", markdown=report.render_markdown(data, path),
                             description=f"thresher run {data['run_id']}")


def clean_all_shards(out_dir: str, raw_dir: str, batches: list[list[RawInput]], ctx: RunContext,
                     runs: tuple[str, ...]) -> list[dict]:
    """Submit every shard, collect them as they finish, and report progress as they do."""
    total = sum(len(b) for b in batches)
    artifact = create_progress_artifact(0.0, description=f"input files of run {ctx.run_id}")
    # quote(): Prefect walks every task argument, element by element, for futures to resolve
    # and upstream runs to link (twice per shard); these hold none, and a shard's inputs are a
    # thousand records
    futures = {clean_shard.submit(raw_dir, out_dir, quote(b), quote(ctx), i, quote(runs)): (i, b)
               for i, b in enumerate(batches)}
    shards, done = [], 0
    progress.advance(0, total, "files")
    for future in as_completed(list(futures)):
        index, batch = futures[future]
        shards.append(_shard_or_rejects(future, out_dir, batch, ctx, index))
        done += len(batch)
        progress.advance(done, total, "files")
        update_progress_artifact(artifact, 100.0 * done / total)
    return sorted(shards, key=lambda s: s["shard"])


def task_runner(workers: int | None = None, dask_address: str | None = None):
    """Where shard tasks run: local processes (default, one per core; parsing is CPU-bound, so
    threads would share one core through the GIL) behind thread task runs (:mod:`flows.shardpool`),
    or an existing Dask cluster."""
    if dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=dask_address)
    return ShardPool(workers)  # None: one process per core


def _shard_or_rejects(future, out_dir: str, batch: list[RawInput], ctx: RunContext, index: int) -> dict:
    """A shard's summary; when the shard still crashes after its retry (a bug, not bad input),
    its inputs become internal_error rejects and the traceback goes into the run manifest."""
    try:
        return future.result()
    except Exception:  # the task's own exception, re-raised by Prefect
        error = traceback.format_exc()
        get_run_logger().error("shard %d failed after retries; its %d inputs are rejected: %s", index, len(batch),
                               error.strip().splitlines()[-1])
        return archive.stage_shard(out_dir, ctx.run_id, index, pipeline.crashed_shard(batch, ctx, error))


@flow(name="archive_corpus", log_prints=False, task_runner=task_runner())
def archive_corpus(raw_dir: str = "raw", out_dir: str = "clean", shard_size: int = 1000) -> dict:
    """Archive every new page under ``raw_dir`` into ``out_dir`` and return the run manifest."""
    logger = get_run_logger()
    ctx = pipeline.new_run(Config(shard_size=shard_size), flow_run_id=str(flow_run.id) if flow_run.id else None)
    recovered = recover(out_dir)
    if recovered:
        logger.warning("cleared what an interrupted run left: %s", recovered)
    inputs = discover_inputs(raw_dir)
    runs = published_runs(out_dir)
    batches = pipeline.shard(inputs, ctx.config.shard_size)
    logger.info("run %s: %d inputs in %d shards", ctx.run_id, len(inputs), len(batches))
    shards = clean_all_shards(out_dir, raw_dir, batches, ctx, runs)
    logger.info("dedup: %s", deduplicate(out_dir, ctx))
    manifest = publish_run(out_dir, ctx, raw_dir, len(inputs), shards, recovered)
    logger.info("run %s published: %s, %s", ctx.run_id, manifest["inputs"], manifest["counts"])
    try:  # the run is published: a report that fails must not make it look failed
        path, data = write_report(out_dir, ctx.run_id)
        publish_artifacts(path, data)
        logger.info("report: %s", path)
    except Exception:
        logger.exception("the run is published, but its report could not be written; `thresher report` retries it")
    return manifest
