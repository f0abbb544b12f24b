"""A run of the library's serial runner in a process of its own, with one fault injected at a
named step: ``python tests/fault_runner.py RAW OUT SPEC_JSON``.

SPEC: ``{"act": "kill" | "full" | "pause", "at": [target, match, nth, when], "armed_by": ..., "shard_size": N}``
where ``target`` is a :class:`thresher.storage.Store` method (``write_parquet``,
``write_atomic``, ``move``) or ``module:function``, ``match`` a substring of the path written
(or moved to), ``nth`` which matching call, ``when`` ``before`` or ``after`` the real call.
``kill`` is a SIGKILL of this process, ``full`` an ``ENOSPC`` from that call on, ``pause``
touches ``SPEC["ready"]`` and waits for ``SPEC["go"]`` (another run is started meanwhile).

Exit codes: 0 published, 75 refused (another run writes OUT_DIR), 3 a storage error, 4 other.
"""

from __future__ import annotations

import errno
import importlib
import json
import os
import signal
import sys
import time


def _act(spec: dict) -> None:
    if spec["act"] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif spec["act"] == "full":
        raise OSError(errno.ENOSPC, "No space left on device")
    elif spec["act"] == "pause":
        open(spec["ready"], "w").close()
        while not os.path.exists(spec["go"]):
            time.sleep(0.01)


def _rel(args: tuple, kwargs: dict, target: str) -> str:
    """The path a call writes (or moves to), as a string to match."""
    if target == "write_parquet":
        return str(args[2] if len(args) > 2 else kwargs.get("rel", ""))
    if target == "move":
        return str(args[2] if len(args) > 2 else kwargs.get("dest", ""))
    return " ".join(str(a) for a in args[1:2])


def _owner(target: str) -> tuple[object, str]:
    if ":" in target:
        module_name, name = target.split(":")
        return importlib.import_module(module_name), name
    from thresher.storage import Store

    return Store, target


def install(spec: dict) -> None:
    """Wrap the target so that its ``nth`` call matching ``match`` meets the fault; with
    ``armed_by`` (a ``module:function``), only calls made once that function was entered count."""
    target, match, nth, when = spec["at"]
    owner, name = _owner(target)
    real = getattr(owner, name)
    seen = {"n": 0, "armed": not spec.get("armed_by")}
    if spec.get("armed_by"):
        arm_owner, arm_name = _owner(spec["armed_by"])
        arm_real = getattr(arm_owner, arm_name)

        def arming(*args, **kwargs):
            seen["armed"] = True
            return arm_real(*args, **kwargs)

        setattr(arm_owner, arm_name, arming)

    def wrapped(*args, **kwargs):
        hit = False
        if seen["armed"] and match in _rel(args, kwargs, target):
            seen["n"] += 1
            hit = seen["n"] == nth or (spec["act"] == "full" and seen["n"] >= nth)
        if hit and when == "before":
            _act(spec)
        out = real(*args, **kwargs)
        if hit and when == "after":
            _act(spec)
        return out

    setattr(owner, name, wrapped)


def main() -> int:
    raw, out, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    from thresher.archive import ArchiveBusy, StorageError
    from thresher.config import Config
    from thresher.run import archive_serial

    if spec.get("at"):
        install(spec)
    try:
        archive_serial(raw, out, Config(shard_size=spec.get("shard_size", 5)))
    except ArchiveBusy as exc:
        print(exc, file=sys.stderr)
        return 75
    except StorageError as exc:
        print(exc, file=sys.stderr)
        return 3
    except Exception as exc:  # noqa: BLE001 - reported to the test, which decides
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
