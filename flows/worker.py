"""The worker side of :class:`~flows.shardpool.ShardPool`: set-up, and log records kept for the flow.

Standard library only, like :mod:`flows.forkserver`: a worker unpickles these functions by
module, and importing Prefect there would cost every worker what the pool is built to avoid.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

LOGGER = "thresher"  # the library's loggers; the flow process sends them to Prefect
_records: list[tuple[int, str, str]] = []


class _Keep(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        _records.append((record.levelno, record.name, record.getMessage()))


def setup(cwd: str) -> None:
    """The flow process's working directory (relative raw and output folders resolve the same
    way), and the library's log records kept for the flow instead of printed by the worker."""
    os.chdir(cwd)
    logger = logging.getLogger(LOGGER)
    logger.addHandler(_Keep())
    logger.setLevel(logging.INFO)
    logger.propagate = False


def with_logs(fn: Callable[[Any], Any], arg: Any) -> tuple[Any, list[tuple[int, str, str]]]:
    """``fn(arg)`` and the library's log records it made: ``(level, logger name, message)``."""
    _records.clear()
    try:
        return fn(arg), list(_records)
    finally:
        _records.clear()
