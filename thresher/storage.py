"""Where RAW_DIR and OUT_DIR live: a local folder, or an fsspec URL (``s3://bucket/prefix``).

One abstraction, fsspec, for every file system; pyarrow reads and writes Parquet through it.
Credentials and endpoints are never thresher options: each process (shard workers included)
finds them where the file system's own library looks. For S3 (s3fs, botocore): the AWS
variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``, ``AWS_PROFILE``)
and ``~/.aws/``; and fsspec's configuration, which passes any storage option
(``FSSPEC_S3_ENDPOINT_URL=…``, ``FSSPEC_S3='{"anon": true}'``, ``~/.config/fsspec/s3.json``).

Object stores have no rename and no directories: moving an object is a copy then a delete,
and a "folder" exists while some object's key starts with it. The archive never relied on
renaming data files (readers read only the files a run's manifest lists); only the manifest's
own write must be atomic, and on an object store a single PUT is. Local folders keep their
exact semantics: atomic ``os.replace`` and real directories.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
from pathlib import Path

import fsspec

READ_BLOCK = 8 << 20  # bytes fetched per request when streaming an object (a WARC, a hash)


def is_remote(location: str | os.PathLike) -> bool:
    """True for a URL with a protocol other than the local file system (``s3://…``)."""
    protocol, _ = fsspec.core.split_protocol(os.fspath(location))
    return protocol not in (None, "file", "local")


class Store:
    """A folder, local or remote, addressed by paths relative to it (``runs/x.json``)."""

    def __init__(self, location: str | os.PathLike) -> None:
        text = os.fspath(location)
        self.remote = is_remote(text)
        if self.remote:
            # Listings are never cached: shard workers in other processes write here, and a
            # stale listing would hide their files (or show deleted ones).
            self.fs, root = fsspec.core.url_to_fs(text, use_listings_cache=False)
            self.root = root.rstrip("/")
            self.location = text.rstrip("/")
        else:
            self.fs = fsspec.filesystem("file")
            self.root = self.location = os.path.abspath(text)

    def path(self, rel: str = "") -> str:
        """The file system's own path of ``rel`` (for s3fs: ``bucket/key``)."""
        return f"{self.root}/{rel}" if rel else self.root

    def url(self, rel: str = "") -> str:
        """``rel`` as the user would write it: a local path or a URL."""
        return f"{self.location}/{rel}" if rel else self.location

    def _join(self, folder: str, name: str) -> str:
        return f"{folder}/{name}" if folder else name

    def _list(self, folder: str) -> list[dict]:
        try:
            return self.fs.ls(self.path(folder), detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return []

    def files(self, folder: str, suffix: str = "") -> list[str]:
        """Relative paths of the files directly in ``folder`` whose names end with ``suffix``, sorted."""
        names = (posixpath.basename(e["name"].rstrip("/")) for e in self._list(folder) if e["type"] == "file")
        return sorted(self._join(folder, n) for n in names if n.endswith(suffix))

    def entries(self, folder: str) -> list[str]:
        """Relative paths of everything directly in ``folder`` (files and folders), sorted."""
        return sorted(self._join(folder, posixpath.basename(e["name"].rstrip("/"))) for e in self._list(folder))

    def isfile(self, rel: str) -> bool:
        return self.fs.isfile(self.path(rel))

    def open(self, rel: str, mode: str = "rb"):
        if self.remote and "r" in mode:
            return self.fs.open(self.path(rel), mode, block_size=READ_BLOCK, cache_type="readahead")
        return self.fs.open(self.path(rel), mode)

    def read_bytes(self, rel: str) -> bytes:
        return self.fs.cat_file(self.path(rel))

    def read_all(self, rels: list[str], batch: int = 256) -> list[bytes]:
        """Several small files' bytes, in order; on object storage fetched concurrently (a
        batch at a time), because each request costs a round trip."""
        if not self.remote:
            return [self.read_bytes(rel) for rel in rels]
        found: list[bytes] = []
        for i in range(0, len(rels), batch):
            paths = [self.path(rel) for rel in rels[i : i + batch]]
            got = self.fs.cat(paths)
            found.extend(got[p] for p in paths)
        return found

    def sha256(self, rel: str) -> str:
        """sha256 of a file's bytes, streamed: a large file is never held whole."""
        h = hashlib.sha256()
        with self.open(rel) as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    def read_parquet(self, rel: str, **kwargs):
        import pyarrow.parquet as pq  # here, so that reading raw inputs does not load pyarrow

        return pq.read_table(self.path(rel), filesystem=self.fs, **kwargs)

    def parquet_rows(self, rel: str) -> int:
        import pyarrow.parquet as pq

        return pq.read_metadata(self.path(rel), filesystem=self.fs).num_rows

    def write_parquet(self, table, rel: str, **kwargs) -> None:
        import pyarrow.parquet as pq

        if not self.remote:
            os.makedirs(posixpath.dirname(self.path(rel)), exist_ok=True)
        pq.write_table(table, self.path(rel), filesystem=self.fs, **kwargs)

    def write_atomic(self, rel: str, data: bytes) -> None:
        """Write a small file so that a reader sees all of it or nothing: a temporary file
        renamed into place locally, a single PUT on an object store."""
        if self.remote:
            self.fs.pipe_file(self.path(rel), data)
            return
        dest = Path(self.path(rel))
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp")
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())  # on disk before it is named: a crash never leaves half a file
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)  # a full disk leaves no partial temporary file behind
            raise
        try:
            dirfd = os.open(dest.parent, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return
        try:
            os.fsync(dirfd)  # the rename itself survives a power cut
        except OSError:
            pass
        finally:
            os.close(dirfd)

    def move(self, src: str, dest: str) -> None:
        """Move a file: an atomic rename locally; a copy then a delete on an object store
        (never atomic there, so nothing may depend on it: see the module's note)."""
        if self.remote:  # not fs.mv: it lists both paths first, in case they are folders
            self.fs.cp_file(self.path(src), self.path(dest))
            self.fs.rm_file(self.path(src))
            return
        os.makedirs(posixpath.dirname(self.path(dest)), exist_ok=True)
        os.replace(self.path(src), self.path(dest))

    def remove(self, rel: str) -> None:
        self.fs.rm_file(self.path(rel))

    def remove_tree(self, rel: str) -> None:
        """Remove a folder and everything in it (or a file); nothing there is not an error."""
        if not self.remote:
            path = self.path(rel)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.lexists(path):
                os.unlink(path)
            return
        try:
            self.fs.rm(self.path(rel), recursive=True)
        except FileNotFoundError:
            pass

    def remove_if_empty(self, folder: str) -> None:
        """Remove an empty local folder (an object store has no empty folders to remove)."""
        if not self.remote:
            try:
                os.rmdir(self.path(folder))
            except OSError:
                pass
