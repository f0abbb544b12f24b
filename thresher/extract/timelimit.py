"""A per-page time limit, so one pathological page (markup nested a million deep, a parser
trap) becomes a ``timeout`` reject instead of stalling its shard.

The limit is a real-time interval timer (``signal.setitimer``) whose handler raises
:class:`PageTimeout` in the code that is running. Signals reach only the main thread of a
process: shard workers are processes whose work runs in their main thread, so the limit holds
there. Called from any other thread (a Dask worker's task thread, a test runner's thread),
the page runs without a limit and this is logged once: Python has no safe way to interrupt
another thread.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)
_warned = threading.Event()


class PageTimeout(Exception):
    """The page took longer than the configured limit."""


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`PageTimeout` inside the block after ``seconds`` (None or 0: no limit)."""
    usable = seconds and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        if seconds and not _warned.is_set():
            _warned.set()
            log.info("per-page time limit not enforced: extraction is running outside the main thread")
        yield
        return

    def expire(signum, frame):  # noqa: ARG001 - the signal handler's signature
        raise PageTimeout(f"extraction took longer than the {seconds:g} s limit per page")

    previous = signal.signal(signal.SIGALRM, expire)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if old_delay:  # an outer timer was running: give it back what is left of it
            signal.setitimer(signal.ITIMER_REAL, old_delay, old_interval)
