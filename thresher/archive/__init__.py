"""Archive: a run's staged rows in, a published, verifiable run out; and reading what is there.

Comes in: each shard's tables (staged by :func:`stage_shard`) and the run's context. Goes out:
Parquet datasets under OUT_DIR and one manifest per run, written last (:mod:`.commit`). Readers
see only what manifests list (:mod:`.catalogue`); a new run reads what it must know of the
archive from it (:mod:`.memory`).
"""

from __future__ import annotations

from thresher.archive.catalogue import (
    DATASETS,
    INDEX,
    RECORDS,
    Damage,
    dataset_paths,
    iter_dataset,
    iter_intact,
    iter_run,
    load_manifests,
    published,
    read_dataset,
    read_file,
    replaced,
)
from thresher.archive.commit import (
    AccountingError,
    StorageError,
    check_manifest,
    deduplicate,
    discard,
    publish,
    recover,
    stage_shard,
)
from thresher.archive.lock import ArchiveBusy, Lock, LockLost, acquire
from thresher.archive.stories import decide_stories, latest_stories
from thresher.archive.memory import (
    archive_memory,
    forget_memory,
    known_doc_ids,
    known_paragraph_counts,
    known_snapshots,
    memory_at,
    published_runs,
    retryable_rejects,
)

__all__ = [
    "DATASETS", "INDEX", "RECORDS", "AccountingError", "ArchiveBusy", "Damage", "Lock", "LockLost", "StorageError", "acquire",
    "check_manifest", "discard", "archive_memory", "dataset_paths", "decide_stories", "deduplicate", "iter_intact",
    "forget_memory", "iter_dataset", "iter_run", "known_doc_ids", "known_paragraph_counts", "known_snapshots",
    "load_manifests", "memory_at", "publish", "published", "published_runs", "read_dataset", "read_file", "replaced", "retryable_rejects",
    "latest_stories", "recover", "stage_shard",
]
