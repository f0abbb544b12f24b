"""A fault-injection point for tests, loaded into the shard workers: not imported by thresher.

A test appends this module to :data:`flows.forkserver.WORKER_PRELOAD` before ``thresher run``
starts its fork server; every worker forked from it then runs :func:`process_page` below, which
kills its own process on the inputs named in ``THRESHER_TEST_CRASH`` (``path=how`` pairs, comma
separated; ``how`` is ``segv`` for a segmentation fault, ``exit`` for ``os._exit(70)``, as a
crash in a C library or the kernel's OOM killer would end it) and cleans every other page as
thresher does. The flow process is not touched.
"""

from __future__ import annotations

import os
import signal

from thresher import clean

CRASH = dict(pair.split("=", 1) for pair in os.environ.get("THRESHER_TEST_CRASH", "").split(",") if "=" in pair)
_real_process_page = clean.process_page


def process_page(page, ctx):
    how = CRASH.get(page.item.source_path)
    if how == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif how == "exit":
        os._exit(70)
    return _real_process_page(page, ctx)


clean.process_page = process_page
