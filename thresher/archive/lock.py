"""One writer per archive: the lock a run holds from its start to its publish.

Two runs writing one OUT_DIR at once double rows, delete each other's staging and publish
manifests that list deleted files, so a run takes the archive's lock before it touches
anything (before recovery) and keeps it until its manifest is written. Readers (``verify``,
``export``, ``search``, ``audit``) never take it: they read only what manifests list, and a
manifest is written atomically.

* A local OUT_DIR: ``OUT_DIR/_lock.json``, locked with ``flock`` for as long as the run's
  process lives, and holding who holds it (run, pid, host, user, start). The kernel releases
  the lock when its process dies, however it dies, so a lock left by a killed run is never
  in the way: the next run finds the file unlocked, says whose it was, and takes it. (On NFS,
  Linux maps ``flock`` to the server's byte-range locks.)
* Object storage: the same file, created with a conditional PUT (``If-None-Match: *``), which
  the store grants to one writer only. No process holds it there, so the holder rewrites it
  every :data:`HEARTBEAT` seconds (``If-Match`` its last ETag): a lock whose heartbeat is older
  than :data:`STALE_AFTER`, or whose holder is a process of this host that no longer runs, is
  stale and taken over by a conditional overwrite, which again only one writer can win.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from thresher.storage import Store

log = logging.getLogger(__name__)

LOCK = "_lock.json"  # under OUT_DIR; never listed by a manifest, so never part of the archive
HEARTBEAT = 30.0  # seconds between rewrites of a lock on object storage
STALE_AFTER = timedelta(minutes=5)  # ten missed heartbeats: its holder is gone


class ArchiveBusy(RuntimeError):
    """Another run holds the archive's lock; ``holder`` says which (run, pid, host, start)."""

    def __init__(self, location: str, holder: dict) -> None:
        self.location, self.holder = location, holder
        super().__init__(f"{location} is being written by another run: {describe(holder)}; one writer at a time "
                         f"per archive, try again when it has finished")


class LockLost(RuntimeError):
    """The lock was taken from this run (its heartbeat stopped for too long): it must not publish."""


def describe(holder: dict) -> str:
    """A lock holder in words, for the refusal an operator reads."""
    if not holder:
        return "a run that has not yet said who it is"
    return (f"run {holder.get('run_id', '?')}, pid {holder.get('pid', '?')} on host {holder.get('host', '?')}, "
            f"user {holder.get('user', '?')}, started {holder.get('started_at', '?')}")


def _identity(run_id: str) -> dict:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a uid without a name (containers)
        user = str(os.getuid())
    now = datetime.now(timezone.utc).isoformat()
    return {"run_id": run_id, "pid": os.getpid(), "process_started": _process_start(os.getpid()),
            "host": socket.gethostname(), "user": user, "started_at": now, "heartbeat_at": now}


def _process_start(pid: int) -> str | None:
    """When a process started, in clock ticks since boot (Linux), so that a pid reused by
    another process is not taken for the holder; None where /proc does not say."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2 :].split()[19].decode()


def holder_alive(holder: dict) -> bool | None:
    """Whether the holder's process still runs: None when it is on another host (unknowable here)."""
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return None
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        pass
    started = holder.get("process_started")
    return started is None or _process_start(holder["pid"]) in (None, started)


@dataclass
class Lock:
    """The archive's lock, held by this process for one run (see :func:`acquire`)."""

    location: str
    holder: dict
    previous: dict | None = None  # what a run that died holding the lock left in it
    _fd: int | None = None
    _etag: str | None = None
    _lost: bool = False
    _stop: threading.Event = field(default_factory=threading.Event)
    _beat: threading.Thread | None = None

    @property
    def released(self) -> bool:
        return self._fd is None and self._etag is None

    def check(self) -> None:
        """Raise :class:`LockLost` if the lock is no longer this run's (checked before publishing)."""
        if self._lost:
            raise LockLost(f"{self.location}: this run's lock was taken over after its heartbeat stopped")
        if self._fd is not None:
            try:
                same = os.stat(os.path.join(self.location, LOCK), follow_symlinks=False).st_ino == os.fstat(self._fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                raise LockLost(f"{self.location}: {LOCK} was removed or replaced while this run held it")

    def release(self) -> None:
        """Give the lock up (idempotent): the file goes, so the next run finds no holder."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
            self._beat = None
        if self._fd is not None:
            fd, self._fd = self._fd, None
            path = os.path.join(self.location, LOCK)
            try:
                if os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                    os.unlink(path)  # while still locked: a waiter that opened it retries on the new file
            except FileNotFoundError:
                pass
            finally:
                os.close(fd)
        elif self._etag is not None:
            etag, self._etag = self._etag, None
            if self._lost:  # another run holds it now
                return
            try:
                _s3(Store(self.location), "delete_object", IfMatch=etag)
            except OSError as exc:  # taken over meanwhile, or the store unreachable: it goes stale
                log.warning("could not release the lock on %s: %s", self.location, exc)


def acquire(out_dir: str | os.PathLike, run_id: str) -> Lock:
    """Take the archive's lock for ``run_id`` or raise :class:`ArchiveBusy` naming its holder.

    Creates OUT_DIR if needed: the lock is the run's first write, so a read-only or missing
    OUT_DIR fails here, before any work (OSError).
    """
    store = Store(out_dir)
    if store.remote:
        return _acquire_remote(store, run_id)
    return _acquire_local(store.root, run_id)


def peek(out_dir: str | os.PathLike) -> dict | None:
    """Who holds the lock now, or None when it is free (a hint: it can change at once)."""
    store = Store(out_dir)
    if store.remote:
        found = _read_remote(store)
        return None if found is None or _stale(found[0]) else found[0]
    path = os.path.join(store.root, LOCK)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_fd(fd)
    finally:
        os.close(fd)
    return None


def _read_fd(fd: int) -> dict:
    data = os.pread(fd, 1 << 16, 0)
    try:
        found = json.loads(data.decode("utf-8")) if data.strip() else {}
    except ValueError:
        return {"unreadable": data[:200].decode("utf-8", "replace")}
    return found if isinstance(found, dict) else {}


def _acquire_local(root: str, run_id: str) -> Lock:
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, LOCK)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_fd(fd)
            os.close(fd)
            raise ArchiveBusy(root, holder) from None
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # its holder released it (unlinked) between our open and our lock
            os.close(fd)
            continue
        break
    previous = _read_fd(fd) or None  # a holder that released would have removed the file
    holder = _identity(run_id)
    data = (json.dumps(holder, indent=2) + "\n").encode("utf-8")
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)
    except OSError:
        os.close(fd)
        raise
    if previous:
        log.warning("%s: took the lock of %s, which ended without releasing it", root, describe(previous))
    return Lock(root, holder, previous, _fd=fd)


# -- object storage ---------------------------------------------------------------------------


def _bucket_key(store: Store) -> tuple[str, str]:
    bucket, _, prefix = store.path(LOCK).partition("/")
    return bucket, prefix


def _s3(store: Store, method: str, **kwargs) -> dict:
    bucket, key = _bucket_key(store)
    return store.fs.call_s3(method, Bucket=bucket, Key=key, **kwargs)


def _precondition_failed(exc: BaseException) -> bool:
    if isinstance(exc, FileExistsError):
        return True
    response = getattr(exc.__cause__, "response", None) or getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code") in {"PreconditionFailed", "ConditionalRequestConflict"}


def _read_remote(store: Store) -> tuple[dict, str] | None:
    """The lock's content and ETag, read together (one GET), or None when there is no lock."""
    from fsspec.asyn import sync

    bucket, key = _bucket_key(store)

    async def get() -> tuple[bytes, str]:
        response = await store.fs._call_s3("get_object", Bucket=bucket, Key=key)
        body = response["Body"]
        try:
            return await body.read(), response["ETag"]
        finally:
            body.close()

    try:
        data, etag = sync(store.fs.loop, get)
    except FileNotFoundError:
        return None
    try:
        holder = json.loads(data.decode("utf-8"))
    except ValueError:
        holder = {}
    return (holder if isinstance(holder, dict) else {}), etag


def _stale(holder: dict) -> bool:
    alive = holder_alive(holder)
    if alive is not None:
        return not alive
    try:
        beat = datetime.fromisoformat(holder["heartbeat_at"])
    except (KeyError, TypeError, ValueError):
        return True
    return datetime.now(timezone.utc) - beat > STALE_AFTER


def _acquire_remote(store: Store, run_id: str) -> Lock:
    holder = _identity(run_id)
    body = (json.dumps(holder, indent=2) + "\n").encode("utf-8")
    previous = None
    for _ in range(5):  # a lock released or taken over between our requests: look again
        try:
            etag = _s3(store, "put_object", Body=body, IfNoneMatch="*", ContentType="application/json")["ETag"]
            break
        except OSError as exc:
            if not _precondition_failed(exc):
                raise
        found = _read_remote(store)
        if found is None:
            continue
        current, current_etag = found
        if not _stale(current):
            raise ArchiveBusy(store.location, current)
        try:
            etag = _s3(store, "put_object", Body=body, IfMatch=current_etag, ContentType="application/json")["ETag"]
        except (OSError, FileNotFoundError) as exc:
            if isinstance(exc, FileNotFoundError) or _precondition_failed(exc):
                continue
            raise
        previous = current
        log.warning("%s: took the stale lock of %s", store.location, describe(current))
        break
    else:
        raise ArchiveBusy(store.location, (_read_remote(store) or ({}, ""))[0])
    lock = Lock(store.location, holder, previous, _etag=etag)
    lock._beat = threading.Thread(target=_heartbeat, args=(lock, store), name="thresher-lock-heartbeat", daemon=True)
    lock._beat.start()
    return lock


def _heartbeat(lock: Lock, store: Store) -> None:
    """Rewrite the lock every HEARTBEAT seconds, only if it is still ours (If-Match)."""
    while not lock._stop.wait(HEARTBEAT):
        lock.holder = {**lock.holder, "heartbeat_at": datetime.now(timezone.utc).isoformat()}
        body = (json.dumps(lock.holder, indent=2) + "\n").encode("utf-8")
        try:
            lock._etag = _s3(store, "put_object", Body=body, IfMatch=lock._etag, ContentType="application/json")["ETag"]
        except (OSError, FileNotFoundError) as exc:
            if isinstance(exc, FileNotFoundError) or _precondition_failed(exc):
                lock._lost = True
                log.error("%s: this run's lock was taken over; it will not publish", store.location)
                return
            log.warning("%s: lock heartbeat failed, retrying: %s", store.location, exc)
