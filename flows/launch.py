"""What ``thresher run`` does before and around the flow: start-up work that only orchestration
needs, kept out of the command-line face.

:func:`prepare` runs first, before Prefect is imported: the workers' fork server (it imports the
library) and the temporary Prefect server, if one will be needed, start while the command loads.
:func:`run_archive` then confirms the server, points Prefect at it and runs the flow.
"""

from __future__ import annotations

import atexit
import gc
import os
from pathlib import Path

from flows import forkserver, server


def prepare(dask_address: str | None) -> server.TemporaryServer | None:
    """Start what the run will need, as early as possible; returns the early temporary server."""
    # Registered first, so it runs last: after Prefect has drained its log and event queues,
    # the objects left are frozen out of the collection at interpreter shutdown, which with
    # Prefect's modules loaded takes 0.3 s and saves nothing (the process is ending).
    atexit.register(gc.freeze)
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "thresher")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if not dask_address:
        forkserver.start_fork_server()
    return server.launch_early()


def run_archive(early: server.TemporaryServer | None, raw_dir: str, out_dir: str, shard_size: int, shard_bytes: int,
                workers: int, dask_address: str | None, progress_stream=None) -> dict:
    """Run ``archive_corpus`` on the early server (or the configured API) and the chosen task
    runner, with progress on ``progress_stream``; return the run manifest."""
    temporary = server.keep_if_needed(early)
    from flows.archive import archive_corpus, task_runner
    from thresher.progress import watch
    from thresher.storage import is_remote

    if temporary:
        server.use(temporary)
    if not is_remote(out_dir):
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    flow = archive_corpus.with_options(task_runner=task_runner(workers, dask_address))
    with watch(progress_stream):
        return flow(raw_dir=raw_dir, out_dir=out_dir, shard_size=shard_size, shard_bytes=shard_bytes)
