"""Progress of a run, as events on one logger, shown however suits where they end up.

Whoever does the work (the flow, as each shard finishes) calls :func:`advance`; it only logs
a record on the ``thresher.progress`` logger with the numbers attached. Whoever watches
attaches a handler: ``thresher run`` a live bar on a terminal or a plain line every few
seconds in a log file (:func:`watch`). Nothing else depends on anyone watching, so the flow
behaves the same under a deployment worker, in tests or on a cluster.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TaskProgressColumn, TextColumn,
                           TimeRemainingColumn)
from rich.text import Text

LOGGER = logging.getLogger("thresher.progress")
LOGGER.setLevel(logging.INFO)  # events are the payload, not chatter: a handler always receives them
PLAIN_EVERY = 10.0  # seconds between progress lines when not on a terminal


def advance(done: int, total: int, unit: str = "pages") -> None:
    """Report that ``done`` of ``total`` units are finished (cumulative, not a delta)."""
    LOGGER.info("%d/%d %s", done, total, unit, extra={"done": done, "total": total, "unit": unit})


class PlainHandler(logging.Handler):
    """A line such as ``progress: 3,000/10,000 pages (30%), 212 pages/s, about 33 s left``,
    at most every ``every`` seconds and always for the last event: readable in cron mail."""

    def __init__(self, stream=None, every: float = PLAIN_EVERY, clock=time.monotonic) -> None:
        super().__init__()
        self.stream = stream or sys.stderr
        self.every = every
        self.clock = clock
        self.started: float | None = None  # the first event: the rate ignores start-up before work
        self.last: float | None = None

    def emit(self, record: logging.LogRecord) -> None:
        done, total, unit = record.done, record.total, record.unit
        now = self.clock()
        self.started = now if self.started is None else self.started
        if self.last is not None and now - self.last < self.every and done < total:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-9)
        rate = done / elapsed
        share = f" ({done / total:.0%})" if total else ""
        left = f", about {(total - done) / rate:,.0f} s left" if rate and done < total else ""
        self.stream.write(f"progress: {done:,}/{total:,} {unit}{share}, {rate:,.1f} {unit}/s{left}\n")
        self.stream.flush()


class RateColumn(ProgressColumn):
    """Units per second, as rich estimates it from recent updates."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.1f} {task.description}/s" if task.speed else "", style="cyan")


class BarHandler(logging.Handler):
    """A rich progress bar (done/total, rate, ETA) updated by each event."""

    def __init__(self, progress) -> None:
        super().__init__()
        self.progress = progress
        self.task = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.task is None:
            self.task = self.progress.add_task(record.unit, total=record.total)
        self.progress.update(self.task, completed=record.done, total=record.total)


@contextmanager
def watch(stream=None, live: bool | None = None) -> Iterator[None]:
    """Show progress events while the block runs: a live bar when ``stream`` is a terminal
    (or ``live`` says so), plain periodic lines otherwise."""
    stream = stream or sys.stderr
    live = stream.isatty() if live is None else live
    if live:
        bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                       RateColumn(), TimeRemainingColumn(), console=Console(file=stream))
        handler: logging.Handler = BarHandler(bar)
        shown = bar
    else:
        handler, shown = PlainHandler(stream), nullcontext()
    LOGGER.addHandler(handler)
    LOGGER.propagate = False  # Prefect's console and API handlers would print every event again
    try:
        with shown:
            yield
    finally:
        LOGGER.removeHandler(handler)
        LOGGER.propagate = True
