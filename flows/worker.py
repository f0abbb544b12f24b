"""The worker side of :class:`~flows.shardpool.ShardPool`: set-up, and log records kept for the flow.

Standard library only, like :mod:`flows.forkserver`: a worker unpickles these functions by
module, and importing Prefect there would cost every worker what the pool is built to avoid.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

LOGGER = "thresher"  # the library's loggers; the flow process sends them to Prefect
_records: list[tuple[int, str, str]] = []


class _Keep(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        _records.append((record.levelno, record.name, record.getMessage()))


def setup(cwd: str, environ: dict[str, str]) -> None:
    """What a ``spawn`` worker would get from the flow process: its working directory (relative
    raw and output folders resolve the same way) and its environment as it is now, not as it
    was when the fork server started (credentials, ``AWS_ENDPOINT_URL``, ``FSSPEC_*`` set since;
    fsspec read its configuration from the environment at import, in the fork server, so it
    reads it again). The library's log records are kept for the flow instead of printed.

    First, the worker binds its life to the fork server's (:mod:`flows.lifeline`: a killed
    ``thresher run`` leaves no worker writing staging files) and ignores SIGINT: a Ctrl-C in
    the terminal reaches the whole process group, and stopping the workers is the flow
    process's decision (:meth:`flows.shardpool.ShardPool.stop`), not a traceback per worker."""
    from flows.lifeline import bind_worker

    bind_worker()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.chdir(cwd)
    if environ != os.environ:
        os.environ.clear()
        os.environ.update(environ)
        _reread_fsspec_config()
    logger = logging.getLogger(LOGGER)
    logger.addHandler(_Keep())
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _reread_fsspec_config() -> None:
    config = sys.modules.get("fsspec.config")
    if config is None:
        return  # not imported yet: it will read the environment when it is
    config.conf.clear()
    config.set_conf_files(os.environ.get("FSSPEC_CONFIG_DIR", config.default_conf_dir), config.conf)
    config.set_conf_env(config.conf, os.environ)


def with_logs(fn: Callable[[Any], Any], arg: Any) -> tuple[Any, list[tuple[int, str, str]]]:
    """``fn(arg)`` and the library's log records it made: ``(level, logger name, message)``."""
    _records.clear()
    try:
        return fn(arg), list(_records)
    finally:
        _records.clear()


def watched(fn: Callable[..., Any], arg: Any, poisoned: dict, current: Any, conn: Any, cwd: str,
            environ: dict[str, str]) -> None:
    """A fresh process's life for one shard whose worker died: ``fn(arg, on_input, poisoned)``,
    with the index of the input it is on kept in ``current`` (shared memory the supervisor
    reads once this process is dead), and ``("ok", (result, log records))`` or ``("error",
    exception)`` sent back on ``conn``. A crash sends nothing: the supervisor sees the pipe close."""
    setup(cwd, environ)

    def on_input(index: int) -> None:
        current.value = index

    try:
        outcome = ("ok", with_logs(lambda a: fn(a, on_input, poisoned), arg))
    except Exception as exc:  # the supervisor re-raises it in the task run, as the pool would
        outcome = ("error", exc)
    try:
        conn.send(outcome)
    except Exception as exc:  # an exception that does not pickle: its text
        conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}; {outcome[1]!r}"[:2000])))
    conn.close()
