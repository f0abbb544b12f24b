"""One frozen configuration object, passed down every stage and hashed into provenance.

Everything that can change a record's content lives here, so ``config_sha256`` in a record
is enough to say which settings produced it. A bad value fails at construction, before any
page is read (errors sorted by what happens next: a bad config stops the run at start).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

from thresher.boilerplate import DEFAULT_RULES, REGISTRY
from thresher.patterns import load_patterns


_EXECUTION_ONLY = {"shard_size"}


@dataclass(frozen=True)
class Config:
    """Settings of one archive run.

    ``rules`` is the ordered list of text rules to apply; its names (with versions) and the
    sha256 of the phrase tables go into provenance through the hash. ``max_bytes`` bounds a
    single page (a file, or a WARC record's payload): larger ones are rejected as
    ``too_large`` before they are read into memory. ``max_warc_records`` bounds the pages
    taken from one WARC file; the rest of the file is one ``too_large`` reject.
    ``shard_size`` is the most input files per task (see :func:`thresher.pipeline.shard`).
    """

    rules: tuple[str, ...] = DEFAULT_RULES
    max_bytes: int = 20 * 1024 * 1024
    max_warc_records: int = 1_000_000
    min_words: int = 1
    shard_size: int = 1000

    def __post_init__(self) -> None:
        unknown = [name for name in self.rules if name not in REGISTRY]
        if unknown:
            raise ValueError(f"unknown boilerplate rules in config: {unknown}; known: {sorted(REGISTRY)}")
        if self.max_bytes <= 0 or self.shard_size <= 0 or self.max_warc_records <= 0 or self.min_words < 0:
            raise ValueError("max_bytes, max_warc_records and shard_size must be positive, min_words non-negative")

    def as_dict(self) -> dict:
        """The config as plain data, with each rule's version, as it is hashed and recorded."""
        data = dataclasses.asdict(self)
        data["rules"] = [REGISTRY[name].qualified for name in self.rules]
        data["patterns_sha256"] = load_patterns().sha256
        return data

    @property
    def sha256(self) -> str:
        """Stable hash of what shapes a record: settings, rule versions, phrase tables.

        How the work is split (``shard_size``) does not change any record, so it is left out:
        the same pages cleaned with other shard sizes carry the same ``config_sha256``.
        """
        content = {k: v for k, v in self.as_dict().items() if k not in _EXECUTION_ONLY}
        blob = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()
