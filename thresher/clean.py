"""One shard of inputs from raw bytes to rows: the work a shard task does.

``clean_shard`` reads each input's pages (one per text or HTML file, one per HTML record of a
WARC), extracts each, and turns the outcome into an ``articles`` row or a ``rejects`` row with
full provenance. It never raises for a bad page: bad input becomes a reject with a reason, and
an unexpected error on one page becomes an ``internal_error`` reject with the traceback logged,
so one page cannot cost a shard. Pages already in the archive (same path, record and bytes) are
skipped and counted. Then every article is signed for dedup and its paragraphs hashed, so the
run-wide dedup step only compares signatures and counts paragraph hashes: template paragraphs
are removed there, once copies and versions of one story are known (a shard cannot tell a
site's template from a story it was sent ten times); every article also gets its story
vector, so the run-wide story step compares vectors, never texts.
"""

from __future__ import annotations

import logging
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from thresher import __version__
from thresher.dates import parse_timestamp
from thresher.dedup.signatures import paragraph_row, signature_row
from thresher.extract import Extracted, HtmlMeta, extract_page
from thresher.provenance import RunContext
from thresher.records import (
    ARTICLES_SCHEMA,
    PARAGRAPH_LISTS_SCHEMA,
    REJECTS_SCHEMA,
    SIGNATURES_SCHEMA,
    SNAPSHOTS_SCHEMA,
    STORY_VECTORS_SCHEMA,
    Reject,
    make_doc_id,
    sha256_hex,
)
from thresher.sources import Failed, Page, RawInput, WorkUnit, read_pages
from thresher.stories.decide import index_row
from thresher.text import word_count
from thresher.urls import url_host
from thresher.values import Door

log = logging.getLogger(__name__)

@dataclass
class ShardResult:
    """Rows of one shard and the counts the run manifest adds up."""

    articles: list[dict] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    signatures: list[dict] = field(default_factory=list)
    story_vectors: list[dict] = field(default_factory=list)
    snapshots: list[dict] = field(default_factory=list)
    paragraphs: list[dict] = field(default_factory=list)  # per article: paragraph hashes, lengths
    skipped: int = 0
    files: int = 0
    error: str | None = None  # traceback of a shard that crashed (see crashed_shard)
    removed_per_rule: Counter = field(default_factory=Counter)
    rejects_per_reason: Counter = field(default_factory=Counter)

    @property
    def inputs(self) -> int:
        return len(self.articles) + len(self.rejects) + self.skipped

    def summary(self, shard: int) -> dict:
        """The counts the run manifest adds up, for shard number ``shard``."""
        return {
            "shard": shard,
            "files": self.files,
            "inputs": self.inputs,
            "articles": len(self.articles),
            "rejects": len(self.rejects),
            "skipped": self.skipped,
            "removed_per_rule": dict(self.removed_per_rule),
            "rejects_per_reason": dict(self.rejects_per_reason),
            "error": self.error,
        }

    def tables(self) -> dict[str, pa.Table]:
        """The shard's staged tables: rows, dedup signatures, story vectors and paragraph lists."""
        return {
            "articles": pa.Table.from_pylist(self.articles, schema=ARTICLES_SCHEMA),
            "rejects": pa.Table.from_pylist(self.rejects, schema=REJECTS_SCHEMA),
            "signatures": pa.Table.from_pylist(self.signatures, schema=SIGNATURES_SCHEMA),
            "story_vectors": pa.Table.from_pylist(self.story_vectors, schema=STORY_VECTORS_SCHEMA),
            "snapshots": pa.Table.from_pylist(self.snapshots, schema=SNAPSHOTS_SCHEMA),
            "paragraph_lists": pa.Table.from_pylist(self.paragraphs, schema=PARAGRAPH_LISTS_SCHEMA),
        }


def printable_path(path: str) -> str:
    """A path as text: file names that are not valid UTF-8 keep their bytes as \\x escapes,
    so the row can be written (Parquet strings are UTF-8) and the name is still recognisable."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _provenance(unit: Page | Failed, ctx: RunContext) -> dict:
    item = unit.item
    return {
        "doc_id": make_doc_id(item.source_path, unit.raw_sha256, unit.offset),
        "source_path": printable_path(item.source_path),
        "raw_sha256": unit.raw_sha256,
        "raw_bytes": unit.raw_bytes,
        "context_sha256": None if unit.context is None else sha256_hex(unit.context),
        "input_format": item.input_format,
        "source_offset": unit.offset,
        "warc_record_id": unit.record_id,
        "processed_at": ctx.processed_at,
        "pipeline_version": __version__,
        "config_sha256": ctx.config_sha256,
        "flow_run_id": ctx.flow_run_id,
    }


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def article_row(page: Page, ex: Extracted, ctx: RunContext, html: HtmlMeta | None = None) -> dict:
    """An ``articles`` row: the extracted page, its sidecar and markup facts, its provenance.

    Where sources disagree, what the scraper recorded (sidecar, WARC) wins over what the page
    says about itself, which wins over what the rules found in the text. Every value passes the
    door first (:class:`thresher.values.Door`): what it changes or drops is in ``normalised``.
    """
    side = page.item.sidecar
    html = html or HtmlMeta()
    door = Door(ctx.processed_at)
    canonical = door.url("canonical_url", html.canonical_url)
    url = door.url("source_url", page.url) or canonical
    site = door.name("site", _text(side.get("site"))) or door.name("site", html.site_name) or url_host(url)
    published = (door.time("published_at", parse_timestamp(ex.published_at), ex.published_at)
                 or door.time("published_at", parse_timestamp(side.get("published_at")), side.get("published_at")))
    fetched_original = side.get("fetched_at") if page.fetched_at_source == "sidecar" else None
    fetched = door.time("fetched_at", page.fetched_at, fetched_original)
    return {
        **_provenance(page, ctx),
        "source_url": url,
        "canonical_url": canonical,
        "site": site,
        "title": door.name("title", ex.title) or door.name("title", _text(side.get("title"))),
        "description": door.name("description", html.description),
        "authors": door.names("authors", ex.authors),
        "credits": door.names("credits", ex.credits),
        "source_agency": door.name("source_agency", ex.source_agency),
        "published_at": published,
        "language": ex.language,
        "text": ex.text,
        "word_count": word_count(ex.text),
        "encoding": ex.encoding,
        "encoding_source": ex.encoding_source,
        "fetched_at": fetched,
        "fetched_at_source": page.fetched_at_source if fetched is not None else None,
        "extractor": ex.extractor,
        "removed": [
            {"rule": r.rule, "line": r.line, "start": r.start, "end": r.end, "text": r.text, "score": r.score}
            for r in ex.removed
        ],
        "normalised": door.notes,
    }


def reject_row(unit: Page | Failed, rej: Reject, stage: str, ctx: RunContext) -> dict:
    """A ``rejects`` row: which input (and record), at which stage, and why; with the site when
    the scraper or the WARC said it, so rejects can be counted per site."""
    side = unit.item.sidecar
    door = Door(ctx.processed_at)
    url = door.url("source_url", getattr(unit, "url", None) or _text(side.get("url")))
    site = door.name("site", _text(side.get("site"))) or url_host(url)
    return {**_provenance(unit, ctx), "source_url": url, "site": site, "stage": stage, "reason": rej.reason,
            "detail": rej.detail[:500], "normalised": door.notes}


def process_page(page: Page, ctx: RunContext) -> tuple[str, dict]:
    """Turn one page into ``("articles", row)`` or ``("rejects", row)``; never raises."""
    try:
        outcome = extract_page(page, ctx.config)
    except Exception:  # a bug, not bad input: keep the page accounted for and the run going
        log.exception("internal error on %s (offset %s)", page.item.source_path, page.offset)
        detail = traceback.format_exc(limit=3).strip().splitlines()[-1]
        return "rejects", reject_row(page, Reject("internal_error", detail), "extract", ctx)
    if isinstance(outcome, Reject):
        stage = "decode" if outcome.reason in {"empty", "not_text", "decode_error"} else "extract"
        return "rejects", reject_row(page, outcome, stage, ctx)
    extracted, html = outcome
    return "articles", article_row(page, extracted, ctx, html)


def _failure(exc: BaseException) -> str:
    """The last line of a traceback: what an operator reads in the reject's detail."""
    return (traceback.format_exception_only(type(exc), exc)[-1].strip() or type(exc).__name__)[:300]


def _unit(work: WorkUnit | RawInput) -> WorkUnit:
    return work if isinstance(work, WorkUnit) else WorkUnit(work)


def reject_input(result: ShardResult, raw_dir: str, work: WorkUnit, ctx: RunContext, rej: Reject,
                 read: bool = True, known_snapshots: frozenset[str] = frozenset(), snapped: set[str] | None = None) -> None:
    """One reject row for a whole input (or part of a WARC file) that could not be processed (it
    crashed its worker, timed out, or failed between two pages). A whole file's row has the
    sha256 of its bytes when they can be read within ``max_bytes`` (``read``): then its
    ``doc_id`` is the one a good read gives, and its bytes are kept as a raw snapshot like any
    other input's. A part of a WARC file is named by its offset."""
    from thresher.sources import RawBytes, page_context, read_input

    item, whole = work.item, work.start == 0 and work.stop is None
    raw = read_input(raw_dir, item, ctx.config.max_bytes) if read and whole and not item.refused else None
    if isinstance(raw, RawBytes):
        unit = Failed(item, rej, "clean", raw.raw_sha256, raw.raw_bytes, stored=raw.data, context=page_context(item, raw.mtime))
    else:
        unit = Failed(item, rej, "clean", offset=None if whole else work.start)
    _failed_row(result, unit, rej, ctx, known_snapshots, set() if snapped is None else snapped)


def _failed_row(result: ShardResult, unit: Page | Failed, rej: Reject, ctx: RunContext,
                known_snapshots: frozenset[str], snapped: set[str]) -> None:
    """The reject row of a unit that failed (and its snapshot, which its raw_sha256 points at).
    Its sidecar may be what failed: then the row goes without what the sidecar says."""
    try:
        row = reject_row(unit, rej, "clean", ctx)
    except Exception:
        row = {**_provenance(unit, ctx), "source_url": None, "site": None, "stage": "clean", "reason": rej.reason,
               "detail": rej.detail[:500]}
    _keep_snapshots(result, unit, known_snapshots, snapped)
    result.rejects.append(row)
    result.rejects_per_reason[rej.reason] += 1


def clean_unit(unit: Page | Failed, ctx: RunContext) -> tuple[str, dict]:
    """One unit's row, before the shard's template paragraphs: ``("articles", row)`` or
    ``("rejects", row)``. What a shard does per unit, and what ``verify`` re-derives."""
    if isinstance(unit, Failed):
        return "rejects", reject_row(unit, unit.reject, unit.stage, ctx)
    return process_page(unit, ctx)


def crashed_shard(raw_dir: str, units: list[WorkUnit | RawInput], ctx: RunContext, error: str) -> ShardResult:
    """The outcome of a shard that kept crashing (a bug, after retries): every input (or part of
    a WARC file) in it is an ``internal_error`` reject (retried by the next run), so the run can
    publish with nothing lost or hidden. Each file keeps the sha256 of its bytes, so its
    ``doc_id`` is stable."""
    result = ShardResult(error=error)
    last = error.strip().splitlines()[-1][:300] if error.strip() else "shard failed"
    snapped: set[str] = set()
    for work in map(_unit, units):
        result.files += work.counts_file
        rej = Reject("internal_error", f"shard crashed: {last}")
        try:
            reject_input(result, raw_dir, work, ctx, rej, snapped=snapped)
        except Exception:  # even its bytes cannot be read: the row without them
            reject_input(result, raw_dir, work, ctx, rej, read=False, snapped=snapped)
    return result


def _keep_snapshots(result: ShardResult, unit: Page | Failed, known: frozenset[str], snapped: set[str]) -> None:
    """A unit's raw bytes and its context (sidecar bytes, file mtime, WARC headers) into the
    shard's snapshots, each stored once, whatever path or record repeats it."""
    for content, kind, ctype in ((unit.stored, unit.item.input_format, unit.content_type),
                                 (unit.context, "context", "application/json")):
        if content is None:
            continue
        sha = sha256_hex(content) if kind == "context" else unit.raw_sha256
        if sha not in known and sha not in snapped:
            snapped.add(sha)
            result.snapshots.append({"raw_sha256": sha, "content": content, "raw_bytes": len(content),
                                     "source_path": printable_path(unit.item.source_path), "input_format": kind,
                                     "source_offset": unit.offset, "content_type": ctype})


def clean_shard(
    raw_dir: str,
    units: list[WorkUnit | RawInput],
    ctx: RunContext,
    known_ids: frozenset[str] = frozenset(),
    known_snapshots: frozenset[str] = frozenset(),
    on_input: Callable[[int], None] | None = None,
    poisoned: dict[int, tuple[Reject, bool]] | None = None,
) -> ShardResult:
    """Process a shard of inputs (whole files, or ranges of a WARC file's records); pages whose
    doc_id is in ``known_ids`` are skipped. A file cut into several units counts as one file,
    in the shard that holds its first part.

    Bytes not yet in the archive's raw snapshots (``known_snapshots``) are kept for it. After
    extraction, the shard signs every article for dedup and hashes its paragraphs, so the
    corpus-wide dedup step only compares signatures and counts hashes.

    A failure belongs to its input: an exception while reading or cleaning one input (or one
    record of a WARC) becomes that input's (record's) ``internal_error`` reject, and the shard
    goes on. ``on_input(i)`` is called as input ``i`` starts (a supervising process watches
    it to know which input killed or stalled a worker); ``poisoned`` maps such inputs to the
    reject they get instead of being read again (``(reject, read its bytes?)``).
    """
    result = ShardResult()
    snapped: set[str] = set()  # this shard's, beside the archive's (not copied: it can be huge)
    cfg = ctx.config
    for index, work in enumerate(map(_unit, units)):
        if on_input is not None:
            on_input(index)
        item = work.item
        result.files += work.counts_file
        if poisoned and index in poisoned:
            rej, read = poisoned[index]
            reject_input(result, raw_dir, work, ctx, rej, read, known_snapshots, snapped)
            continue
        unit = None
        try:
            for unit in read_pages(raw_dir, item, cfg.max_bytes, cfg.max_warc_records, work.start, work.stop, work.pages_before):
                _take(result, unit, ctx, known_ids, known_snapshots, snapped)
                unit = None
        except Exception as exc:  # a bug, not bad input: this input's row, and the shard goes on
            log.exception("internal error on %s", item.source_path)
            rej = Reject("internal_error", _failure(exc))
            if unit is None:  # before its first page, or between two records of a WARC
                try:
                    reject_input(result, raw_dir, work, ctx, rej, True, known_snapshots, snapped)
                except Exception:
                    reject_input(result, raw_dir, work, ctx, rej, False, known_snapshots, snapped)
            else:
                _failed_row(result, unit, rej, ctx, known_snapshots, snapped)
    result.removed_per_rule.update(r["rule"] for row in result.articles for r in row["removed"])
    cache: dict[str, int] = {}
    result.signatures = [signature_row(row, cache) for row in result.articles]
    result.paragraphs = [paragraph_row(row) for row in result.articles]
    result.story_vectors = [index_row(row) for row in result.articles]
    return result


def _take(result: ShardResult, unit: Page | Failed, ctx: RunContext, known_ids: frozenset[str],
          known_snapshots: frozenset[str], snapped: set[str]) -> None:
    """One page (or a failed one) into the shard's rows; its snapshot kept if new."""
    if make_doc_id(unit.item.source_path, unit.raw_sha256, unit.offset) in known_ids:
        result.skipped += 1
        return
    kind, row = clean_unit(unit, ctx)
    _keep_snapshots(result, unit, known_snapshots, snapped)
    if kind == "articles":
        result.articles.append(row)
    else:
        result.rejects.append(row)
        result.rejects_per_reason[row["reason"]] += 1
