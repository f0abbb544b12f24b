"""One frozen configuration object, passed down every stage and hashed into provenance.

Everything that can change a record's content lives here (with the rule and model versions
that :mod:`thresher.provenance` adds when it hashes it), so ``config_sha256`` in a record is
enough to say which settings produced it. A bad value fails at construction, and an unknown
rule when the run begins (:func:`thresher.run.begin_run`), before any page is read.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from thresher.patterns import Patterns, load_patterns

# The text rules, in the order they run (see ``thresher rules``): chrome and teasers first,
# metadata lines next, then the tail of the article, and the headline last, once the chrome
# above it is known.
DEFAULT_RULES: tuple[str, ...] = (
    "site_chrome",
    "breadcrumb",
    "comments",
    "footer",
    "teaser_link",
    "teaser_block",
    "credits",
    "caption",
    "image_residue",
    "repeated_line",
    "byline",
    "date_line",
    "end_marker",
    "agency_signoff",
    "signoff_name",
    "tail_links",
    "author_bio",
    "leading_chrome",
    "headline",
    "byline_block",
)

EXECUTION_ONLY = frozenset({"shard_size", "shard_bytes"})  # how the work is split: changes no record


@dataclass(frozen=True)
class Config:
    """Settings of one archive run.

    ``rules`` is the ordered list of text rules to apply. ``patterns_file`` names the phrase
    tables the rules use (None: the packaged ``data/patterns.toml``); :attr:`patterns` loads
    them, once per process. ``max_bytes`` bounds a single page (a file, or a WARC record's
    payload): larger ones are rejected as ``too_large`` before they are read into memory.
    ``max_warc_records`` bounds the pages taken from one WARC file; the rest of the file is
    one ``too_large`` reject. ``shard_size`` is the most pages per task and ``shard_bytes``
    about the most bytes (a worker holds one shard's pages): see :mod:`thresher.sources.shards`.
    ``page_timeout`` is the most seconds one HTML page may take to extract; a slower page is a
    ``timeout`` reject (0: no limit).
    """

    rules: tuple[str, ...] = DEFAULT_RULES
    patterns_file: str | None = None
    max_bytes: int = 20 * 1024 * 1024
    max_warc_records: int = 1_000_000
    min_words: int = 1
    shard_size: int = 1000
    shard_bytes: int = 16 * 1024 * 1024
    page_timeout: float = 30.0

    def __post_init__(self) -> None:
        if min(self.max_bytes, self.shard_size, self.shard_bytes, self.max_warc_records) <= 0 or self.min_words < 0:
            raise ValueError("max_bytes, max_warc_records, shard_size and shard_bytes must be positive, "
                             "min_words non-negative")
        if self.page_timeout < 0:
            raise ValueError("page_timeout must be non-negative (0: no limit)")

    @property
    def patterns(self) -> Patterns:
        """The compiled phrase tables of this config (loaded once per process and file)."""
        return load_patterns(self.patterns_file)

    def settings(self) -> dict:
        """The settings as plain data, without what only splits the work (``shard_size``,
        ``shard_bytes``)."""
        data = dataclasses.asdict(self)
        data["rules"] = list(self.rules)
        return {k: v for k, v in data.items() if k not in EXECUTION_ONLY}
