"""Export a dataset of the archive as one file for downstream tools.

The archive is many Parquet files, one per run and shard, and only the files a run manifest
lists belong to it. Tools that take "a JSONL file" or "a Parquet file" get exactly the
published rows, streamed batch by batch so memory stays flat whatever the archive's size.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq

from thresher import archive
from thresher.records import SCHEMAS

FORMATS = ("jsonl", "parquet")
BATCH_ROWS = 1_000


def _batches(out_dir: str | os.PathLike, dataset: str, columns: list[str] | None,
             damaged: list | None) -> Iterator[pa.RecordBatch]:
    """The dataset's rows from its intact files (OUT_DIR local or a URL); a missing or changed
    file is skipped and named in ``damaged``, so one bad file costs its rows, not the export."""
    for _, table in archive.iter_intact(out_dir, dataset, columns, damaged):
        yield from table.to_batches(BATCH_ROWS)


@contextmanager
def _replaced_when_done(dest: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``dest`` that becomes ``dest`` only when the block succeeds, so a
    reader never sees half a file; on failure it is removed."""
    tmp = Path(dest).with_name(f".{Path(dest).name}.tmp")
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, dest)


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):  # snapshot content: JSON has no bytes
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def write_jsonl(out_dir: str | os.PathLike, stream: IO[str], dataset: str = "articles",
                columns: list[str] | None = None, damaged: list | None = None) -> int:
    """One JSON object per row (timestamps as ISO 8601, bytes as base64); returns rows written."""
    rows = 0
    for batch in _batches(out_dir, dataset, columns, damaged):
        for row in batch.to_pylist():
            stream.write(json.dumps(row, ensure_ascii=False, default=_json_value) + "\n")
            rows += 1
    return rows


def write_parquet(out_dir: str | os.PathLike, dest: str | os.PathLike, dataset: str = "articles",
                  columns: list[str] | None = None, damaged: list | None = None) -> int:
    """One Parquet file with the dataset's schema (and its column descriptions); returns rows."""
    schema = SCHEMAS[dataset]
    if columns:
        schema = pa.schema([schema.field(c) for c in columns])
    rows = 0
    with _replaced_when_done(dest) as tmp, pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for batch in _batches(out_dir, dataset, columns, damaged):
            writer.write_batch(batch.cast(schema) if batch.schema != schema else batch)
            rows += batch.num_rows
    return rows


def export(out_dir: str | os.PathLike, fmt: str, dest: str | os.PathLike | None, dataset: str = "articles",
           columns: list[str] | None = None, damaged: list | None = None) -> int:
    """Export ``dataset`` as ``fmt`` to ``dest`` (JSONL may go to stdout when ``dest`` is None).
    Raises ValueError for an unknown format, dataset or column before writing anything. Files
    that are missing or changed since their run published them are skipped and listed in
    ``damaged`` (:class:`thresher.archive.Damage`); every intact file is exported."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if dataset not in SCHEMAS:
        raise ValueError(f"unknown dataset {dataset!r}: choose one of {', '.join(SCHEMAS)}")
    unknown = [c for c in columns or [] if c not in SCHEMAS[dataset].names]
    if unknown:
        raise ValueError(f"{dataset} has no column {', '.join(unknown)}; it has {', '.join(SCHEMAS[dataset].names)}")
    if damaged is not None:  # manifests edited after publishing: their files' hashes prove nothing
        from thresher.archive.chain import check_chain

        damaged += [archive.Damage("runs/", e) for e in check_chain(out_dir, archive.load_manifests(out_dir)).errors]
    if fmt == "parquet":
        if dest is None:
            raise ValueError("--format parquet needs --output FILE")
        return write_parquet(out_dir, dest, dataset, columns, damaged)
    if dest is None:
        return write_jsonl(out_dir, sys.stdout, dataset, columns, damaged)
    with _replaced_when_done(dest) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        return write_jsonl(out_dir, fh, dataset, columns, damaged)
