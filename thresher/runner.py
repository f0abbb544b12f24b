"""The archive run without Prefect: the same steps as ``flows/archive.py``, in one process.

For library users, tests and benchmarks. The flow is the way to run thresher on a schedule,
in parallel or on a cluster; this is the same sequence with nothing to start. ``mapper``
lets a caller run the shards elsewhere (a process pool's ``map``): shards are independent.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

from thresher import archive, pipeline, report, sources
from thresher.config import Config


def shard_job(args: tuple) -> dict:
    """Clean and stage one shard: ``(raw_dir, out_dir, items, ctx, index, runs)`` in (``runs``:
    the published runs the archive's memory is read from, see :func:`archive.memory_at`), the
    shard's summary out. Top-level so that process pools can pickle it."""
    raw_dir, out_dir, items, ctx, index, runs = args
    known, paragraphs, snapshots = archive.memory_at(out_dir, runs)
    result = pipeline.clean_shard(str(raw_dir), items, ctx, known, paragraphs, snapshots)
    return archive.stage_shard(out_dir, ctx.run_id, index, result)


def archive_serial(
    raw_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    config: Config | None = None,
    mapper: Callable[[Callable[[tuple], dict], Iterable[tuple]], Iterable[dict]] = map,
) -> dict:
    """Archive every new page of ``raw_dir`` into ``out_dir``; return the run manifest."""
    recovered = archive.recover(out_dir)
    ctx = pipeline.new_run(config or Config())
    items = sources.discover(raw_dir)
    runs = archive.published_runs(out_dir)
    jobs = [(raw_dir, out_dir, batch, ctx, i, runs) for i, batch in enumerate(pipeline.shard(items, ctx.config.shard_size))]
    shards = list(mapper(shard_job, jobs))
    archive.forget_memory()  # this process's copy, if the shards ran here: not kept past the run
    archive.deduplicate(out_dir, ctx.run_id)
    finished = datetime.now(timezone.utc).isoformat()
    manifest = archive.publish(out_dir, ctx, str(raw_dir), len(items), shards, finished, recovered)
    report.write_report(out_dir, ctx.run_id)
    return manifest
