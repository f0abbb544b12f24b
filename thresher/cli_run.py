"""``thresher run``'s side of the command line: the checks before any work, and the errors an
operator acts on, each as one line and an exit code (``cli.py`` holds the commands themselves).

A run refused before it starts costs nothing: these checks run before the command starts the
workers' fork server or Prefect's server.
"""

from __future__ import annotations

from collections.abc import Callable

import typer
from rich.console import Console

EXIT_BUSY = 75  # sysexits.h EX_TEMPFAIL: "try again later", what a cron wrapper can act on
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C


def _fail(message: str, code: int) -> typer.Exit:
    Console(stderr=True).print(f"[red]error[/red]: {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def checked_locations(raw_dir: str, out_dir: str) -> tuple[str, str]:
    """RAW_DIR and OUT_DIR checked before anything starts: one line and exit 2 for an operator's
    error, exit 75 when another run holds the archive's lock."""
    from thresher import preflight
    from thresher.archive.lock import describe, peek
    from thresher.cli import _location as location

    try:
        raw = location(raw_dir, "'RAW_DIR'")
        out = location(out_dir, "'OUT_DIR'", must_exist=False)
        preflight.check_locations(raw, out)
        if not preflight.has_inputs(raw):
            raise preflight.UsageError(preflight.empty_message(raw))
    except (typer.BadParameter, preflight.UsageError) as exc:
        raise _fail(str(exc), 2) from None
    holder = peek(out)
    if holder is not None:
        raise _fail(f"{out} is being written by another run: {describe(holder)}; one writer at a time per "
                    f"archive, try again when it has finished", EXIT_BUSY)
    return raw, out


def guarded(start: Callable[[], dict]) -> dict:
    """Run the archive flow; the errors an operator acts on as one line and an exit code:
    2 for a usage error found by the run itself, 75 for a busy archive, 1 for a failed write, 130
    for an interrupt."""
    from thresher.archive import ArchiveBusy, StorageError
    from thresher.preflight import UsageError

    try:
        return start()
    except UsageError as exc:
        raise _fail(str(exc), 2) from None
    except ArchiveBusy as exc:
        raise _fail(str(exc), EXIT_BUSY) from None
    except StorageError as exc:
        raise _fail(f"{exc}. Nothing of this run was published; free some room (or fix the store) and run again.", 1) from None
    except KeyboardInterrupt:  # SIGINT; its workers were stopped on the way out (flows/archive.py)
        raise _fail("interrupted: the run stopped; unless it had written its manifest, nothing of it was published "
                    "and the next run archives its inputs", EXIT_INTERRUPTED) from None
