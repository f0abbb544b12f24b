"""The local task runner of ``archive_corpus``: Prefect task runs on threads, shard work in processes.

Why not Prefect's ``ProcessPoolTaskRunner``: it runs the whole task engine in the worker
process. Every shard then pays, in the worker and on the cores the parsing needs, for
Prefect's side of a task run (a new API client, its state changes, event and log forwarding
through a queue to the flow process), and every worker imports Prefect. Measured at 10,000
pages on 2 cores with a running Prefect server (medians of four paired runs), that put the flow
13 s behind the same shards on a plain process pool; with this runner it was 5 s behind, and
after later cuts about 2.6 s, nearly all of it Prefect's fixed cost per run (docs/benchmarks.md).

So the split is by what each part needs. The task runs, which only talk to the Prefect API,
are threads of the flow process (Prefect's :class:`~prefect.task_runners.ThreadPoolTaskRunner`:
retries, states, logs and the UI are Prefect's, unchanged). The parsing, which needs the cores,
goes to a plain :class:`~concurrent.futures.ProcessPoolExecutor` whose workers never import
Prefect: forked from a fork server that imported thresher once (:mod:`flows.forkserver`), they
start at once and go from shard to shard without waiting for the API. One more thread than
there are processes keeps the next shard queued, so a worker never waits for a task run.

A worker that dies (killed for memory, a crash in a C library) breaks a process pool for
good; :meth:`ShardPool.compute` replaces it, and the shards that were in flight fail with
``BrokenProcessPool`` and get their Prefect retry on the new one.

On a Dask cluster (``--dask-address``) none of this is used: Dask runs the task runs, and a
task computes its shard in place (:func:`compute`).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from prefect.task_runners import ThreadPoolTaskRunner

from flows.forkserver import start_fork_server
from flows.prefect_private import current_task_runner
from flows.worker import setup as _worker_setup, watched as _watched, with_logs as _with_logs


class Stopped(RuntimeError):
    """A shard handed to a pool that was stopped (the run is ending) or never started."""


class ShardPool(ThreadPoolTaskRunner):
    """Task runs on ``processes + 1`` threads; :meth:`compute` runs a function in one of
    ``processes`` worker processes, started with the runner and stopped with it."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = processes or os.cpu_count() or 1
        super().__init__(max_workers=self.processes + 1)
        self._pool: ProcessPoolExecutor | None = None
        self._owner = 0  # the process that started the pool: a copy elsewhere has none
        self._lock = threading.Lock()
        self._isolating: set = set()  # the fresh processes of _isolated, killed by stop()

    def duplicate(self) -> "ShardPool":
        return type(self)(self.processes)

    def __enter__(self) -> "ShardPool":
        super().__enter__()
        self._pool, self._owner = self._new_pool(), os.getpid()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if exc_info[0] is not None:  # an interrupt or a failure: no shard is waited for
            self.stop()
        try:
            super().__exit__(*exc_info)
        finally:
            with self._lock:
                pool, self._pool = self._pool, None
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def stop(self) -> None:
        """Kill the workers now, mid-shard, and refuse further shards: the run is ending
        (SIGINT, SIGTERM, a failed write) and must not wait for, or let anything write after,
        the shards in flight. Their task runs fail at once with ``BrokenProcessPool``; no new
        pool replaces this one."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is None or self._owner != os.getpid():
            return
        # ProcessPoolExecutor has no public way to end a running call; its worker processes
        # (a private attribute since Python 3.2, unchanged in 3.11) are killed one by one. The
        # workers ignore SIGINT, and SIGTERM would let a shard finish its write.
        with self._lock:
            fresh = list(self._isolating)
        for process in [*(getattr(pool, "_processes", None) or {}).values(), *fresh]:
            process.kill()
        self.cancel_all()  # Prefect's: the queued shard task runs are cancelled, the running ones end
        pool.shutdown(wait=True, cancel_futures=True)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.processes, mp_context=start_fork_server(), initializer=_worker_setup,
                                   initargs=(os.getcwd(), dict(os.environ)))

    @property
    def running_here(self) -> bool:
        """Whether this is the runner the flow process started (not a copy sent elsewhere), even
        once stopped: a shard of a stopped runner must fail, not run in the flow process."""
        return self._owner == os.getpid()

    def compute(self, fn: Callable[..., Any], arg: Any, watched: bool = False) -> Any:
        """``fn(arg)`` in a worker process; the thread waits. The library's log records from
        the worker are logged here, under the calling task run.

        When the worker dies (a crash, the kernel's OOM killer, or a neighbour's death that
        broke the pool) and ``watched`` is set, the work is done again in a fresh process that
        reports which input it is on (:meth:`_isolated`): ``fn`` then takes ``(arg, on_input,
        poisoned)`` (:func:`thresher.run.run_shard`)."""
        with self._lock:
            pool = self._pool
        if pool is None:
            raise Stopped("the shard pool is not running (the run is stopping): shard not run")
        try:
            result, records = pool.submit(_with_logs, fn, arg).result()
        except BrokenProcessPool:
            self._replace(pool)
            if not watched:
                raise
            result, records = self._isolated(fn, arg)
        for level, name, message in records:
            logging.getLogger(name).log(level, "%s", message)
        return result

    def _isolated(self, fn: Callable[..., Any], arg: Any) -> tuple[Any, list]:
        """``fn(arg, on_input, poisoned)`` in fresh processes, one after the other, until one
        finishes: each input a process dies on is added to ``poisoned`` as a ``worker_crashed``
        reject (with its exit code or signal), so that only the poison inputs are rejected and
        every other input gets its normal row. A process that dies before its first input, or
        on an input already poisoned twice, fails the shard (the task's retry, then
        ``internal_error`` rejects)."""
        ctx = start_fork_server()
        poisoned: dict[int, tuple[str, str, bool]] = {}
        while True:
            current = ctx.Value("q", -1, lock=False)
            receive, send = ctx.Pipe(duplex=False)
            process = ctx.Process(target=_watched, args=(fn, arg, poisoned, current, send, os.getcwd(), dict(os.environ)),
                                  daemon=True)
            with self._lock:
                if self._pool is None and self._owner:
                    raise Stopped("the shard pool is not running (the run is stopping): shard not run")
                process.start()
                self._isolating.add(process)
            send.close()
            try:
                status, payload = receive.recv()
            except EOFError:  # it died without a word
                process.join()
                index, code = current.value, process.exitcode
                if index < 0 or (index in poisoned and not poisoned[index][2]):
                    raise BrokenProcessPool(f"a fresh worker for this shard died too ({_death(code)}), "
                                            f"{'before its first input' if index < 0 else 'on an input already rejected'}")
                poisoned[index] = ("worker_crashed", f"a fresh worker process that ran the shard again died on "
                                                     f"this input ({_death(code)})", index not in poisoned)
                continue
            finally:
                receive.close()
                process.join()
                with self._lock:
                    self._isolating.discard(process)
            if status == "error":
                raise payload
            return payload

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """A new pool for the shards still to come (once, whichever shard noticed first)."""
        with self._lock:
            if self._pool is not broken:
                return
            self._pool = self._new_pool()
        broken.shutdown(wait=False, cancel_futures=True)


def _death(code: int | None) -> str:
    """How a process ended, in an operator's words."""
    if code is not None and code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def compute(fn: Callable[..., Any], arg: Any, watched: bool = False) -> Any:
    """``fn(arg)`` on the flow's :class:`ShardPool` when the calling task run is one of its
    threads, else here (a Dask worker, a test on another task runner). ``watched``: see
    :meth:`ShardPool.compute`."""
    runner = current_task_runner()
    if isinstance(runner, ShardPool) and runner.running_here:
        return runner.compute(fn, arg, watched)
    return fn(arg)


def compute_all(fn: Callable[[Any], Any], args: Iterable[Any]) -> list[Any]:
    """``[fn(a) for a in args]``, spread over the flow's :class:`ShardPool` workers when the
    calling task run is one of its threads (indexing several WARC files at once), else here."""
    runner = current_task_runner()
    args = list(args)
    if isinstance(runner, ShardPool) and runner.running_here and len(args) > 1:
        with ThreadPoolExecutor(runner.processes) as threads:
            return list(threads.map(lambda a: runner.compute(fn, a), args))
    return [fn(a) for a in args]
