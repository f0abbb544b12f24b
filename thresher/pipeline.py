"""One shard of pages from raw bytes to rows: the unit of work a Prefect task runs.

``clean_shard`` reads each input, dispatches it to the extractor for its kind, and turns the
outcome into an ``articles`` row or a ``rejects`` row with full provenance. It never raises
for a bad page: bad input becomes a reject with a reason, and an unexpected error on one page
becomes an ``internal_error`` reject with the traceback logged, so one page cannot cost a
shard. Inputs already in the archive (same path, same bytes) are skipped and counted.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

import pyarrow as pa

from thresher import __version__
from thresher.config import Config
from thresher.records import ARTICLES_SCHEMA, REJECTS_SCHEMA, Reject, make_doc_id
from thresher.sources import RawBytes, RawInput, content_bytes, read_input
from thresher.textdump import Extracted, clean_dump

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunContext:
    """What every row of one run shares: when, which run, which config."""

    run_id: str
    processed_at: datetime
    config: Config
    flow_run_id: str | None = None


def new_run(config: Config, flow_run_id: str | None = None, now: datetime | None = None) -> RunContext:
    """A fresh run: its id sorts by start time, so manifests and files list in run order."""
    started = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return RunContext(f"{started:%Y%m%dT%H%M%S}Z-{uuid.uuid4().hex[:6]}", started, config, flow_run_id)


def shard(items: list, size: int) -> list[list]:
    """Consecutive chunks of ``size`` items: the batches tasks work on."""
    return [items[i : i + size] for i in range(0, len(items), size)]


@dataclass
class ShardResult:
    """Rows of one shard and the counts the run manifest adds up."""

    articles: list[dict] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    skipped: int = 0
    removed_per_rule: Counter = field(default_factory=Counter)
    rejects_per_reason: Counter = field(default_factory=Counter)

    @property
    def inputs(self) -> int:
        return len(self.articles) + len(self.rejects) + self.skipped

    def tables(self) -> tuple[pa.Table, pa.Table]:
        return (
            pa.Table.from_pylist(self.articles, schema=ARTICLES_SCHEMA),
            pa.Table.from_pylist(self.rejects, schema=REJECTS_SCHEMA),
        )


def _provenance(item: RawInput, raw: RawBytes | None, ctx: RunContext) -> dict:
    sha = raw.raw_sha256 if raw else None
    return {
        "doc_id": make_doc_id(item.source_path, sha),
        "source_path": item.source_path,
        "raw_sha256": sha,
        "raw_bytes": raw.raw_bytes if raw else None,
        "input_format": item.input_format,
        "processed_at": ctx.processed_at,
        "pipeline_version": __version__,
        "config_sha256": ctx.config.sha256,
        "flow_run_id": ctx.flow_run_id,
    }


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def article_row(item: RawInput, raw: RawBytes, ex: Extracted, ctx: RunContext) -> dict:
    """An ``articles`` row: the extracted page, its sidecar facts and its provenance."""
    side = item.sidecar
    url = side.get("url") if isinstance(side.get("url"), str) else None
    fetched = _parse_time(side.get("fetched_at"))
    published = _parse_time(ex.published_at) or _parse_time(side.get("published_at"))
    site = side.get("site") if isinstance(side.get("site"), str) else None
    if site is None and url:
        site = urlsplit(url).hostname
    return {
        **_provenance(item, raw, ctx),
        "source_url": url,
        "site": site,
        "title": ex.title or (side.get("title") if isinstance(side.get("title"), str) else None),
        "authors": list(ex.authors),
        "credits": list(ex.credits),
        "source_agency": ex.source_agency,
        "published_at": published,
        "language": ex.language,
        "text": ex.text,
        "word_count": len(ex.text.split()),
        "encoding": ex.encoding,
        "fetched_at": fetched or raw.mtime,
        "fetched_at_source": "sidecar" if fetched else "file_mtime",
        "extractor": ex.extractor,
        "removed": [
            {"rule": r.rule, "line": r.line, "start": r.start, "end": r.end, "text": r.text} for r in ex.removed
        ],
    }


def reject_row(item: RawInput, raw: RawBytes | None, rej: Reject, stage: str, ctx: RunContext) -> dict:
    """A ``rejects`` row: which input, at which stage, and why."""
    return {**_provenance(item, raw, ctx), "stage": stage, "reason": rej.reason, "detail": rej.detail[:500]}


def process_input(
    raw_dir: str, item: RawInput, ctx: RunContext, known_ids: frozenset[str] = frozenset()
) -> tuple[str, dict | None]:
    """Turn one input into ``("articles", row)``, ``("rejects", row)`` or, when the same path
    with the same bytes is already archived, ``("skipped", None)``. Never raises."""
    raw = read_input(raw_dir, item, ctx.config.max_bytes)
    if isinstance(raw, Reject):
        if make_doc_id(item.source_path, None) in known_ids:
            return "skipped", None
        return "rejects", reject_row(item, None, raw, "read", ctx)
    if make_doc_id(item.source_path, raw.raw_sha256) in known_ids:
        return "skipped", None
    data = content_bytes(item, raw, ctx.config.max_bytes)
    if isinstance(data, Reject):
        return "rejects", reject_row(item, raw, data, "read", ctx)
    try:
        outcome = clean_dump(data, ctx.config)
    except Exception:  # a bug, not bad input: keep the page accounted for and the run going
        log.exception("internal error on %s", item.source_path)
        detail = traceback.format_exc(limit=3).strip().splitlines()[-1]
        return "rejects", reject_row(item, raw, Reject("internal_error", detail), "clean", ctx)
    if isinstance(outcome, Reject):
        stage = "decode" if outcome.reason in {"empty", "not_text", "decode_error"} else "clean"
        return "rejects", reject_row(item, raw, outcome, stage, ctx)
    return "articles", article_row(item, raw, outcome, ctx)


def clean_shard(
    raw_dir: str, items: list[RawInput], ctx: RunContext, known_ids: frozenset[str] = frozenset()
) -> ShardResult:
    """Process a shard of inputs; inputs whose doc_id is in ``known_ids`` are skipped."""
    result = ShardResult()
    for item in items:
        kind, row = process_input(raw_dir, item, ctx, known_ids)
        if row is None:
            result.skipped += 1
        elif kind == "articles":
            result.articles.append(row)
            result.removed_per_rule.update(r["rule"] for r in row["removed"])
        else:
            result.rejects.append(row)
            result.rejects_per_reason[row["reason"]] += 1
    return result
