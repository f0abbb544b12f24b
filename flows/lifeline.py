"""Child processes of ``thresher run`` that die with it, however it dies.

``thresher run`` starts the workers' fork server, the shard workers (forked from it) and a
temporary Prefect server. A ``kill -9`` of the command runs none of its clean-up, and before
this module the children lived on: the workers went on writing staging files into an archive
whose lock the kernel had already released. Linux's parent-death signal
(``prctl(PR_SET_PDEATHSIG)``) makes the kernel kill a child when the process (strictly: the
thread) that started it ends, whatever the cause. The setting is made in the child, so a
parent that died before it was made would go unnoticed: the child then compares its parent's
pid with the one it was started by, and exits if they differ.

The chain: the CLI process → fork server (:func:`bind_to_starter`, on the fork server's first
import) → shard workers (:func:`die_with_parent` in their initializer); the CLI process →
Prefect server (``python -m flows.lifeline PID MODULE ARGS…``, which binds, then runs MODULE
as ``__main__`` in the same process). Standard library only: it runs before anything else in
each of those processes. Elsewhere than Linux it does nothing (the clean-up on SIGINT and
SIGTERM still happens; a SIGKILL there can leave children).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STARTER_ENV = "THRESHER_STARTER_PID"  # the pid the fork server must find as its parent
FORK_SERVER_ENV = "THRESHER_FORK_SERVER_PID"  # the fork server's pid, inherited by the workers it forks


def die_with_parent(parent: int, sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent ends; exit at once if the
    parent is already not ``parent`` (it ended before the request was made). False where the
    request is not available (not Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        return False
    if os.getppid() != parent:
        os._exit(1)
    return True


def bind_to_starter() -> None:
    """In the fork server: die with the process that started it (its pid in
    :data:`STARTER_ENV`), and leave its own pid for the workers it forks."""
    starter = os.environ.get(STARTER_ENV)
    if starter:
        die_with_parent(int(starter))
    os.environ[FORK_SERVER_ENV] = str(os.getpid())


def bind_worker() -> None:
    """In a shard worker, first thing: die with the fork server it was forked from."""
    server = os.environ.get(FORK_SERVER_ENV)
    die_with_parent(int(server) if server else os.getppid())


def main(argv: list[str]) -> None:
    """``python -m flows.lifeline PARENT_PID MODULE ARG…``: bind to PARENT_PID, then run MODULE
    as ``python -m MODULE ARG…`` would, in this process."""
    import runpy

    parent, module, *args = argv
    die_with_parent(int(parent))
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
