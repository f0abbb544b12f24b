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
# flows.preload first: it binds the fork server to its starter (flows.lifeline) before the rest.
# Also the fault-injection point of the tests: a module appended here before the fork server
# starts is imported by it, so every worker runs with it (tests/crash_hook.py makes chosen
# inputs kill their worker); thresher itself never appends anything.
WORKER_PRELOAD = ["flows.preload", "thresher.run", "trafilatura", "htmldate", "py3langid", "flows.worker"]


def start_fork_server():
    """The ``forkserver`` start method, its server started (once) with :data:`WORKER_PRELOAD`.

    Call it early (``thresher run`` does, before anything else) so the imports happen in the
    background. Python 3.11's fork server puts the working directory first on its import path,
    where a folder named ``flows`` or ``thresher`` would shadow the installed ones:
    ``PYTHONSAFEPATH`` keeps it out. The fork server dies with the process that started it
    (:data:`flows.lifeline.STARTER_ENV` tells it whom to expect as its parent).
    """
    from multiprocessing import forkserver

    from flows.lifeline import STARTER_ENV

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(WORKER_PRELOAD)
    extra = {"PYTHONSAFEPATH": "1", STARTER_ENV: str(os.getpid())}
    before = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        forkserver.ensure_running()
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return ctx
