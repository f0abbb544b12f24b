"""The archive run without Prefect: the same steps as ``flows/archive.py``, in one process.

For library users, tests and benchmarks. The flow is the way to run thresher on a schedule,
in parallel or on a cluster; this is the same sequence, serial, with nothing to start.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from thresher import archive, pipeline, sources
from thresher.config import Config


def archive_serial(raw_dir: str | os.PathLike, out_dir: str | os.PathLike, config: Config | None = None) -> dict:
    """Archive every new page of ``raw_dir`` into ``out_dir``; return the run manifest."""
    recovered = archive.recover(out_dir)
    ctx = pipeline.new_run(config or Config())
    items = sources.discover(raw_dir)
    known = archive.known_doc_ids(out_dir)
    paragraphs = archive.known_paragraph_counts(out_dir)
    snapshots = archive.known_snapshots(out_dir)
    shards = [
        archive.stage_shard(out_dir, ctx.run_id, i, pipeline.clean_shard(str(raw_dir), batch, ctx, known, paragraphs, snapshots))
        for i, batch in enumerate(pipeline.shard(items, ctx.config.shard_size))
    ]
    archive.deduplicate(out_dir, ctx.run_id)
    finished = datetime.now(timezone.utc).isoformat()
    return archive.publish(out_dir, ctx, str(raw_dir), len(items), shards, finished, recovered)
