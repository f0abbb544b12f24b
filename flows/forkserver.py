"""The fork server that shard workers are forked from, startable before Prefect is imported.

A process started with ``spawn`` imports thresher, trafilatura and lxml before its first
shard: about a second of CPU per worker, on the cores the parsing needs, and again for every
worker a broken pool is replaced with. Workers forked from a ``forkserver`` that imported
:data:`WORKER_PRELOAD` once are ready at once. This module needs only the standard library, so
``thresher run`` starts the fork server as its very first step and the preload runs while the
command itself imports Prefect.

The fork server is a single-threaded process that only imports modules, so workers share none
of the flow process's threads or state (what ``spawn`` guards against), and none of Prefect:
the workers of :class:`~flows.shardpool.ShardPool` run library code only.
"""

from __future__ import annotations

import multiprocessing
import os

# Modules a shard worker needs (thresher.run.run_shard and what the library imports only
# when it first parses a page) and the data it loads (flows.preload): imported once in the
# fork server, inherited by every worker.
WORKER_PRELOAD = ["thresher.run", "trafilatura", "htmldate", "py3langid", "flows.worker", "flows.preload"]


def start_fork_server():
    """The ``forkserver`` start method, its server started (once) with :data:`WORKER_PRELOAD`.

    Call it early (``thresher run`` does, before anything else) so the imports happen in the
    background. Python 3.11's fork server puts the working directory first on its import path,
    where a folder named ``flows`` or ``thresher`` would shadow the installed ones:
    ``PYTHONSAFEPATH`` keeps it out.
    """
    from multiprocessing import forkserver

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(WORKER_PRELOAD)
    before = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        forkserver.ensure_running()
    finally:
        if before is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = before
    return ctx
