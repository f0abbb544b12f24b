"""The shapes of everything thresher writes, defined once.

Each output dataset has one pyarrow schema here, and every field carries a description in
its metadata. The writer uses these schemas, ``verify`` checks files against them, and a test
checks that docs/datasets.md's column tables say the same thing. Identifiers are derived from
content and location only, so two runs over the same input give the same ids.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

REJECT_REASONS: dict[str, str] = {
    "empty": "the input holds no bytes other than whitespace",
    "not_text": "the bytes are binary (NUL or control bytes), not a text page",
    "decode_error": "no encoding decodes the bytes as text",
    "too_large": "the input is larger than the configured max_bytes",
    "truncated_archive": "a compressed input ends early or is corrupt",
    "unreadable": "the file could not be read (permissions, vanished mid-run, I/O error)",
    "no_content": "nothing of the page is left after boilerplate removal",
    "too_short": "the best body found on an HTML page is under the minimum length (the detail gives the figures)",
    "not_html": "a WARC record whose payload is not an HTML page (an image, a PDF, JSON…)",
    "malformed_warc": "a WARC file, or one record of it, does not parse; the records before it, and after it when the next one can be found, are archived",
    "internal_error": "a bug in thresher while processing the page (traceback in the log); retried by the next run",
    "timeout": "processing the input took longer than the configured page_timeout; retried by the next run",
    "worker_crashed": "the worker process died while processing this input (a crash in a C library, killed for memory; the detail gives its exit code or signal), in a fresh process that ran its shard again, input by input; retried by the next run",
    "storage_error": "the input could not be read from its store for a reason that may pass (a store error, a network failure); retried by the next run",
    "changed_since_discovery": "the path was replaced by another file, or became a link, FIFO or folder between discovery and reading (never followed or read); retried by the next run",
}
# Rejects that say nothing about the input itself: the next run processes the input again and
# its new row replaces the reject (the run's manifest lists what it replaces), so an input
# stays in exactly one row.
RETRYABLE = frozenset({"internal_error", "timeout", "storage_error", "changed_since_discovery", "worker_crashed"})


@dataclass(frozen=True)
class Reject:
    """Why a page did not become an article: a value, never ``None`` or a swallowed error."""

    reason: str
    detail: str

    def __post_init__(self) -> None:
        if self.reason not in REJECT_REASONS:
            raise ValueError(f"unknown reject reason {self.reason!r}")


def _f(name: str, type_: pa.DataType, doc: str, nullable: bool = True) -> pa.Field:
    meta = {"description": doc}
    if type_ == TS:
        meta["range"] = TS_RANGE
    return pa.field(name, type_, nullable=nullable, metadata=meta)


TS = pa.timestamp("us", tz="UTC")
# Every timestamp column holds a time in this range: the door (thresher.values) keeps times
# between 1800 and a day after the run, and readers null anything outside it, so a row another
# writer made cannot crash them (a year-10000 time overflows every datetime library).
TS_RANGE = "1800-01-01T00:00:00+00:00/2200-01-01T00:00:00+00:00"

NORMALISED_TYPE = pa.struct(
    [
        _f("field", pa.string(), "the column the value was for"),
        _f("original", pa.string(), "the value as the page or sidecar gave it (at most 2,000 characters)"),
        _f("reason", pa.string(), "what was done and why: dropped (out of range, not http(s), too long), control characters removed"),
    ]
)
_NORMALISED_DOC = ("values of the page or its sidecar changed or dropped at the door (dates out of range, URLs that are not "
                   "http(s), control characters), each with its original")

REMOVAL_TYPE = pa.struct(
    [
        _f("rule", pa.string(), "rule that removed the span, with its version (`teaser_block@1`)"),
        _f("line", pa.int32(), "0-based line number in the normalised input"),
        _f("start", pa.int32(), "start offset (characters) of the span in the normalised input"),
        _f("end", pa.int32(), "end offset (exclusive) of the span in the normalised input"),
        _f("text", pa.string(), "the removed text"),
        _f("score", pa.float32(), "for a model's removal, its probability that the span was article body; null for a named rule"),
    ]
)

OVERLAP_TYPE = pa.struct(
    [
        _f("doc_id", pa.string(), "an earlier canonical article this one shares paragraphs with"),
        _f("relation", pa.string(), "contained_in (this text is inside the other), contains (the other is inside this one) or shares"),
        _f("containment", pa.float64(), "share of the shorter text's words in the paragraphs the two share"),
        _f("paragraphs", pa.list_(pa.int32()), "indices of this article's paragraphs that the other one also has"),
    ]
)

_PROVENANCE = [
    _f("doc_id", pa.string(), "stable id: hash of source_path, record offset and raw_sha256", nullable=False),
    _f("source_path", pa.string(), "path of the input relative to RAW_DIR", nullable=False),
    _f("raw_sha256", pa.string(), "sha256 of the input's raw bytes (null if unreadable)"),
    _f("raw_bytes", pa.int64(), "size of the raw input in bytes (null if unreadable)"),
    _f("context_sha256", pa.string(), "sha256 of the page's context snapshot: its sidecar's bytes, the file's mtime or the WARC record's headers"),
    _f("input_format", pa.string(), "kind of input: txt, txt.gz, html, html.gz, warc, warc.gz"),
    _f("source_offset", pa.int64(), "byte offset of the record in a WARC file (null for other inputs)"),
    _f("warc_record_id", pa.string(), "WARC-Record-ID of the record (null for other inputs)"),
    _f("processed_at", TS, "when this run processed the input", nullable=False),
    _f("pipeline_version", pa.string(), "thresher version that wrote the row", nullable=False),
    _f("config_sha256", pa.string(), "sha256 of the run's config, rule versions and patterns", nullable=False),
    _f("flow_run_id", pa.string(), "Prefect flow run id (null when run without Prefect)"),
]

ARTICLES_SCHEMA = pa.schema(
    _PROVENANCE[:2]
    + [
        _f("source_url", pa.string(), "URL of the page: sidecar, WARC target URI, or the page's canonical URL"),
        _f("canonical_url", pa.string(), "the page's own canonical URL (link rel=canonical, og:url; HTML only)"),
        _f("site", pa.string(), "site name: sidecar, the page's og:site_name, or the URL's host"),
        _f("title", pa.string(), "headline; null when the page has none"),
        _f("description", pa.string(), "the page's summary (meta description, og:description; HTML only)"),
        _f("authors", pa.list_(pa.string()), "authors from bylines and credit lines"),
        _f("credits", pa.list_(pa.string()), "credit lines removed from the text (story, photos, translation)"),
        _f("source_agency", pa.string(), "news agency named as the source (`Source: VNA`, a closing `AFP`)"),
        _f("published_at", TS, "publication time: page metadata, a date line, or the sidecar (null if unknown)"),
        _f("language", pa.string(), "ISO 639-1 code detected from the text (py3langid)"),
        _f("text", pa.string(), "cleaned article body, paragraphs separated by a blank line", nullable=False),
        _f("word_count", pa.int32(), "number of whitespace-separated words in text", nullable=False),
        _f("encoding", pa.string(), "encoding used to decode the raw bytes", nullable=False),
        _f("encoding_source", pa.string(), "how the encoding was chosen: bom, http, xml, meta, utf-8, ascii or detected; `+ftfy` when mojibake was repaired"),
        _f("fetched_at", TS, "when the page was fetched"),
        _f("fetched_at_source", pa.string(), "where fetched_at came from: sidecar, warc or file_mtime"),
        _f("extractor", pa.string(), "what produced the text: textdump@2+line_model@1 (dumps), extract@<model version> (HTML, before the rules; `+trafilatura` when the short-body guard took its blocks)", nullable=False),
        _f("removed", pa.list_(REMOVAL_TYPE), "every span the rules or the dump line model removed (offsets into the dump, or into the extractor's text for HTML) and every HTML block the extractor dropped (`extract@…`: offsets into the page's blocks joined by newlines, text cut at 200 characters)"),
        _f("version", pa.int32(), "version of the page's story: 1, then 2, 3, … each time the same URL or canonical URL is fetched with text changed beyond a near-duplicate (null in duplicates/)"),
        _f("version_of", pa.string(), "doc_id of the previous version of the story (null for a first version and in duplicates/)"),
        _f("normalised", pa.list_(NORMALISED_TYPE), _NORMALISED_DOC),
        _f("story_id", pa.string(), "the news story (event) the article covers, shared with other sites' coverage (see stories/); a duplicate has its canonical's"),
        _f("overlaps", pa.list_(OVERLAP_TYPE), "earlier canonical articles whose text this one contains, is contained in, or shares paragraphs with"),
    ]
    + _PROVENANCE[2:]
)

REJECTS_SCHEMA = pa.schema(
    _PROVENANCE[:2]
    + [
        _f("source_url", pa.string(), "URL of the page when known before extraction: sidecar or WARC target URI"),
        _f("site", pa.string(), "site name from the sidecar, else the URL's host (null when neither is known)"),
        _f("stage", pa.string(), "stage that rejected the input: read, decode, clean", nullable=False),
        _f("reason", pa.string(), "one of the documented reject reasons", nullable=False),
        _f("detail", pa.string(), "a short human-readable explanation"),
        _f("normalised", pa.list_(NORMALISED_TYPE), _NORMALISED_DOC),
    ]
    + _PROVENANCE[2:]
)

DUPLICATES_SCHEMA = pa.schema(
    list(ARTICLES_SCHEMA)
    + [
        _f("duplicate_of", pa.string(), "doc_id of the canonical record in articles/", nullable=False),
        _f("similarity", pa.float64(), "estimated Jaccard similarity to the canonical (1.0 for exact copies)", nullable=False),
        _f("method", pa.string(), "how the duplicate was found: exact, near, or refetch (the same URL or canonical URL fetched again, text exact or near)", nullable=False),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {"articles": ARTICLES_SCHEMA, "duplicates": DUPLICATES_SCHEMA, "rejects": REJECTS_SCHEMA}

SNAPSHOTS_SCHEMA = pa.schema(
    [
        _f("raw_sha256", pa.string(), "sha256 of content: the key records point at", nullable=False),
        _f("content", pa.large_binary(), "the raw bytes exactly as read (a file as stored, or a WARC record's payload)", nullable=False),
        _f("raw_bytes", pa.int64(), "length of content", nullable=False),
        _f("source_path", pa.string(), "where these bytes were first seen, relative to RAW_DIR", nullable=False),
        _f("input_format", pa.string(), "kind of input they came from, or `context`: a page's context (JSON: sidecar bytes, file mtime, WARC headers)", nullable=False),
        _f("source_offset", pa.int64(), "WARC record offset where they were first seen (null for files)"),
        _f("content_type", pa.string(), "HTTP Content-Type of a WARC record (null for files)"),
    ]
)
SCHEMAS["snapshots"] = SNAPSHOTS_SCHEMA

STORIES_SCHEMA = pa.schema(
    [
        _f("story_id", pa.string(), "stable id of the story, derived from the doc_id of its first article", nullable=False),
        _f("headline", pa.string(), "title of the story's first article that has one"),
        _f("first_published", TS, "earliest publication (else fetch) time of its articles"),
        _f("last_published", TS, "latest publication (else fetch) time of its articles"),
        _f("articles", pa.int32(), "canonical articles in the story", nullable=False),
        _f("duplicates", pa.int32(), "copies of those articles (in duplicates/)", nullable=False),
        _f("sites", pa.int32(), "distinct sites covering it", nullable=False),
        _f("site_names", pa.list_(pa.string()), "the sites covering it"),
        _f("languages", pa.list_(pa.string()), "languages of its articles"),
        _f("doc_ids", pa.list_(pa.string()), "its canonical articles, earliest first", nullable=False),
        _f("run_id", pa.string(), "the run that wrote this row: a story's newest row is its current state", nullable=False),
    ]
)
SCHEMAS["stories"] = STORIES_SCHEMA

# The archive-wide dedup index (OUT_DIR/index/): not a user dataset, but defined here too.
SIGNATURES_SCHEMA = pa.schema(
    [
        _f("doc_id", pa.string(), "canonical article", nullable=False),
        _f("site", pa.string(), "site of the article"),
        _f("text_hash", pa.string(), "sha256 of the normalised token stream (exact-duplicate key)", nullable=False),
        _f("signature", pa.list_(pa.uint32()), "MinHash signature; null for texts too short to sign"),
        _f("fetched_at", pa.float64(), "fetch time, seconds since the epoch (canonical choice)"),
        _f("n_chars", pa.int64(), "length of the text (canonical choice)"),
        _f("source_path", pa.string(), "source path (canonical tie-break)", nullable=False),
        _f("urls", pa.list_(pa.string()), "keys of the page's URL and canonical URL (re-fetches and versions)"),
        _f("terms", pa.list_(pa.uint32()), "hashed distinct words of a short text, low bit set for facts; null for long texts"),
        _f("version", pa.int32(), "the article's version of its story (set when published)"),
    ]
)
PARAGRAPHS_SCHEMA = pa.schema(
    [
        _f("site", pa.string(), "site the paragraph was seen on", nullable=False),
        _f("paragraph_hash", pa.int64(), "hash of the normalised paragraph", nullable=False),
        _f("stories", pa.int64(), "distinct new stories of this run it appeared in (copies and versions of one story count once)", nullable=False),
    ]
)
# Staged by each shard for the run-wide template stage, never published.
PARAGRAPH_LISTS_SCHEMA = pa.schema(
    [
        _f("doc_id", pa.string(), "article", nullable=False),
        _f("site", pa.string(), "site of the article"),
        _f("hashes", pa.list_(pa.int64()), "hash of each paragraph of the text, in order", nullable=False),
        _f("lengths", pa.list_(pa.int32()), "length of each paragraph in characters", nullable=False),
    ]
)


# The story index (OUT_DIR/index/story_vectors/): per canonical article, what later runs need
# to place new articles in stories and find what they share with it.
STORY_VECTORS_SCHEMA = pa.schema(
    [
        _f("doc_id", pa.string(), "canonical article", nullable=False),
        _f("story_id", pa.string(), "its story (null while staged, before stories are decided)"),
        _f("time", TS, "publication time, else fetch time, else processing time", nullable=False),
        _f("site", pa.string(), "site of the article"),
        _f("title", pa.string(), "headline"),
        _f("language", pa.string(), "language"),
        _f("terms", pa.list_(pa.uint32()), "feature hashes of its story vector", nullable=False),
        _f("weights", pa.list_(pa.float32()), "weights of its story vector (L2-normalised)", nullable=False),
        _f("facts", pa.list_(pa.uint32()), "hashes of the numbers its title and lead state", nullable=False),
        _f("paragraph_hashes", pa.list_(pa.int64()), "hash of each paragraph (0: too short to compare)", nullable=False),
        _f("paragraph_words", pa.list_(pa.int32()), "words in each paragraph", nullable=False),
    ]
)


def _range(field: pa.Field) -> tuple[pa.Scalar, pa.Scalar] | None:
    text = (field.metadata or {}).get(b"range")
    if not text:
        return None
    low, high = (datetime.fromisoformat(t) for t in text.decode().split("/"))
    return pa.scalar(low, field.type), pa.scalar(high, field.type)


def within_ranges(table: pa.Table, schema: pa.Schema) -> tuple[pa.Table, dict[str, int]]:
    """``table`` with every value outside its field's range (see ``TS_RANGE``) made null, and
    how many were, per column. Readers apply it to what they read: a row another writer made
    must not crash them. ``verify`` reports such values as errors."""
    import pyarrow.compute as pc

    found: dict[str, int] = {}
    for name in table.column_names:
        if name not in schema.names:
            continue
        bounds = _range(schema.field(name))
        column = table.column(name)
        if bounds is None or not pa.types.is_timestamp(column.type):
            continue
        outside = pc.or_kleene(pc.less(column, bounds[0]), pc.greater_equal(column, bounds[1]))
        n = pc.sum(pc.cast(outside, pa.int64())).as_py() or 0
        if n:
            found[name] = n
            table = table.set_column(table.column_names.index(name), schema.field(name).with_nullable(True),
                                     pc.if_else(outside, pa.scalar(None, column.type), column))
    return table, found


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of bytes: the content address of a raw input."""
    return hashlib.sha256(data).hexdigest()


def make_doc_id(source_path: str, raw_sha256: str | None, offset: int | None = None) -> str:
    """A short, stable id for one page: the same file (and WARC record) with the same bytes
    gets the same id in every run.

    20 hex characters (80 bits) keep collisions negligible for billions of pages while staying
    readable in a terminal.
    """
    where = source_path if offset is None else f"{source_path}#{offset}"
    key = f"{where}\0{raw_sha256 or ''}".encode("utf-8", "surrogateescape")
    return hashlib.sha256(key).hexdigest()[:20]


def _type_name(field: pa.Field) -> str:
    if pa.types.is_list(field.type) and pa.types.is_struct(field.type.value_type):
        inner = ", ".join(f.name for f in field.type.value_type)
        return f"list<struct<{inner}>>"
    if pa.types.is_list(field.type):
        return f"list<{field.type.value_type}>"
    return str(field.type)


def schema_markdown(name: str) -> str:
    """The docs/datasets.md table of one dataset, generated from its schema (the page must match)."""
    rows = ["| column | type | description |", "|---|---|---|"]
    for f in SCHEMAS[name]:
        kind = _type_name(f) + ("" if f.nullable else ", not null")
        rows.append(f"| `{f.name}` | {kind} | {f.metadata[b'description'].decode()} |")
    return "\n".join(rows)
