"""Full-text search over the canonical articles: ``thresher search OUT_DIR "query"``.

Downstream of ``publish``: the index is a derived cache under ``OUT_DIR/search/`` (tantivy,
BM25 ranking, stored fields for snippets), never part of the archive itself. Published runs
only add articles, so the index is kept current by adding the articles of runs it has not
seen (their ids are in ``runs.json`` beside it), and by dropping the versions a new one
supersedes (search shows a story's latest version); deleting the folder just means the next
search rebuilds it. A search that finds the index current reads no Parquet at all, which is
what keeps repeated searches well under a second.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path

import tantivy

from thresher.text import printable

log = logging.getLogger(__name__)

INDEX_DIR = "search"
LAYOUT = 3  # bump when the index's schema or content changes: an index of another layout is rebuilt
TITLE_BOOST = 2.0  # a query word in the headline says more than the same word in paragraph 9
SNIPPET_CHARS = 220


@dataclass(frozen=True)
class Hit:
    """One search result: enough to judge relevance and to ``thresher audit`` it."""

    rank: int
    score: float
    doc_id: str
    title: str | None
    site: str | None
    published_at: str | None
    source_path: str
    snippet: str  # the best matching passage, plain text
    highlights: list[tuple[int, int]]  # character ranges of the query's words in ``snippet``

    def as_dict(self) -> dict:
        return asdict(self)


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("doc_id", stored=True, tokenizer_name="raw")
    sb.add_text_field("title", stored=True)
    sb.add_text_field("text", stored=True)
    sb.add_text_field("site", stored=True, tokenizer_name="raw")
    sb.add_text_field("site_key", tokenizer_name="raw")  # lowercased, for --site filters
    sb.add_date_field("published", stored=True, indexed=True, fast=True)
    sb.add_text_field("source_path", stored=True, tokenizer_name="raw")
    return sb.build()


SCHEMA = _schema()


def _published_runs(out_dir: Path) -> list[str]:
    """Run ids with a published manifest (cheap: a directory listing, no parsing)."""
    runs = out_dir / "runs"
    return sorted(p.name[: -len(".json")] for p in runs.glob("*.json")) if runs.is_dir() else []


def _state(folder: Path) -> dict:
    try:
        state = json.loads((folder / "runs.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if state.get("layout") == LAYOUT else {}


def _add_run(writer: tantivy.IndexWriter, out_dir: Path, manifest: dict) -> int:
    from thresher import archive  # only when there is something to add: keeps searches fast

    cols = ["doc_id", "title", "text", "site", "published_at", "source_path"]
    # A story's newer version replaces the older one in the index (the older stays in the
    # archive, and `thresher audit` shows the chain): search returns the latest version.
    superseded = {v for table in archive.iter_run(out_dir, manifest, "articles", ["version_of"])
                  for v in table.column("version_of").to_pylist() if v}
    for doc_id in sorted(superseded):
        writer.delete_documents_by_term("doc_id", doc_id)
    added = 0
    damaged: list = []
    for table in archive.iter_run(out_dir, manifest, "articles", cols, damaged):
        for row in table.to_pylist():
            if row["doc_id"] in superseded:
                continue
            doc = tantivy.Document(doc_id=row["doc_id"], title=row["title"] or "", text=row["text"],
                                   site=row["site"] or "", site_key=(row["site"] or "").lower(),
                                   source_path=row["source_path"])
            if row["published_at"] is not None:  # within the schema's range, which tantivy's holds
                doc.add_date("published", row["published_at"])
            writer.add_document(doc)
            added += 1
    for problem in damaged:
        log.warning("search index: %s; its articles are not searchable (`thresher verify` for the archive)", problem)
    return added


def _rebuild_needed(out: Path, state: dict) -> bool:
    """True when a run the index holds was removed or its manifest changed: the index would
    serve what the archive no longer says. Cheap while the chain's head is unchanged."""
    from thresher.archive.chain import read_head

    head = read_head(out)
    if head is None or head.get("manifest_sha256") == state.get("head"):
        return False
    from thresher import archive
    from thresher.archive.chain import manifest_sha256

    now = {m["run_id"]: manifest_sha256(m) for m in archive.load_manifests(out)}
    return any(now.get(run) != sha for run, sha in state.get("manifests", {}).items())


def open_index(out_dir: str | os.PathLike) -> tantivy.Index:
    """The search index of ``out_dir``, brought up to date with its published runs."""
    out = Path(out_dir)
    folder = out / INDEX_DIR
    runs = _published_runs(out)
    state = _state(folder)
    if state and (folder / "meta.json").exists() and not _rebuild_needed(out, state):
        index = tantivy.Index.open(str(folder))
    else:  # missing, of another layout, half-written, or of runs since changed: rebuild from the archive
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        index, state = tantivy.Index(SCHEMA, path=str(folder)), {"layout": LAYOUT, "runs": [], "manifests": {}}
    todo = [r for r in runs if r not in set(state["runs"])]
    if todo:
        from thresher import archive
        from thresher.archive.chain import manifest_sha256, read_head

        published = archive.load_manifests(out)  # in publishing order: a later version deletes an earlier one
        manifests = {m["run_id"]: m for m in published}
        order = {m["run_id"]: i for i, m in enumerate(published)}
        todo.sort(key=lambda r: order.get(r, len(order)))  # run ids of one second do not sort by time
        try:
            writer = index.writer(heap_size=64_000_000, num_threads=1)
        except ValueError as exc:  # another search is adding these runs right now
            log.warning("search index busy (%s); searching it without the %d newest run(s)", exc, len(todo))
            return index
        added = sum(_add_run(writer, out, manifests[r]) for r in todo if r in manifests)
        writer.commit()
        writer.wait_merging_threads()
        state["runs"] = sorted(set(state["runs"]) | set(todo))
        state["manifests"] = {**state.get("manifests", {}),
                              **{r: manifest_sha256(manifests[r]) for r in todo if r in manifests}}
        state["head"] = (read_head(out) or {}).get("manifest_sha256")
        tmp = folder / ".runs.json.tmp"
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.replace(tmp, folder / "runs.json")  # after the commit: a crash in between re-adds nothing twice
        log.info("search index: %d articles from %d new run(s) added", added, len(todo))
        index.reload()
    return index


def check_index(out_dir: str | os.PathLike) -> tuple[str, list[str]]:
    """Compare the search index, document by document, with the published articles: what
    ``verify`` reports. Returns how it stands (``absent``, ``verified``, ``differs``) and each
    difference, named by doc_id. An index that differs is a cache gone wrong or tampered
    with: deleting ``search/`` makes the next search rebuild it from the datasets."""
    from thresher import archive

    out = Path(out_dir)
    folder = out / INDEX_DIR
    if not (folder / "meta.json").exists():
        return "absent", []
    index = tantivy.Index.open(str(folder))
    index.reload()
    searcher = index.searcher()
    indexed: dict[str, tuple] = {}
    problems: list[str] = []
    for _, address in searcher.search(tantivy.Query.all_query(), max(searcher.num_docs, 1)).hits:
        doc = searcher.doc(address)
        doc_id = doc.get_first("doc_id")
        if doc_id in indexed:
            problems.append(f"search/: doc {doc_id} is indexed twice")
        published = doc.get_first("published")
        indexed[doc_id] = (doc.get_first("title") or None, doc.get_first("text"), doc.get_first("site") or None,
                           published.date().isoformat() if published else None, doc.get_first("source_path"))
    state = _state(folder)
    cols = ["doc_id", "title", "text", "site", "published_at", "source_path"]
    runs = [m for m in archive.load_manifests(out) if m["run_id"] in set(state.get("runs", []))]  # the rest: not added yet
    superseded = {v for m in runs for table in archive.iter_run(out, m, "articles", ["version_of"], [])
                  for v in table.column("version_of").to_pylist() if v}  # an older version is not searched
    for m in runs:
        for table in archive.iter_run(out, m, "articles", cols, []):
            for row in table.to_pylist():
                if row["doc_id"] in superseded:
                    continue
                want = (row["title"] or None, row["text"], row["site"] or None,
                        row["published_at"].date().isoformat() if row["published_at"] else None, row["source_path"])
                got = indexed.pop(row["doc_id"], None)
                if got is None:
                    problems.append(f"search/: article {row['doc_id']} (run {m['run_id']}) is missing from the index")
                elif got != want:
                    fields = [c for c, a, b in zip(cols[1:], got, want) if a != b]
                    problems.append(f"search/: doc {row['doc_id']}: {', '.join(fields)} differ from the article")
    problems += [f"search/: doc {doc_id} ({got[4]!r}) is no published article (injected or left from a removed run)"
                 for doc_id, got in indexed.items()]
    return ("differs" if problems else "verified"), problems


def rendered(hits: list[Hit]) -> list:
    """Hits as rich Text for a terminal: title, where it is from, the snippet with the query's
    words highlighted. Titles, sites, paths and snippets are scraped: each is made printable,
    so an escape sequence in a title is shown, never run."""
    from rich.text import Text

    out = []
    for h in hits:
        out.append(Text.assemble((f"{h.rank}. ", "bold"), (printable(h.title or "(no title)"), "bold"), f"  [{h.score:.2f}]"))
        out.append(Text(printable(f"   {h.site or '(no site)'} · {h.published_at or 'undated'} · {h.source_path} · doc_id {h.doc_id}"),
                        style="dim"))
        shown = printable(h.snippet)
        snippet = Text(shown)
        for start, end in h.highlights if shown == h.snippet else []:
            snippet.stylize("bold yellow", start, end)
        out.append(Text("   ") + snippet + Text("\n"))
    return out


def _day(value: str, end: bool) -> datetime:
    d = date.fromisoformat(value)
    return datetime.combine(d, time.max if end else time.min, tzinfo=timezone.utc)


def one_line(fragment: str, byte_ranges: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """A snippet on one line (runs of whitespace, paragraph breaks included, become one space)
    with tantivy's highlighted UTF-8 byte ranges turned into character ranges of that line."""
    starts = {a for a, _ in byte_ranges}
    ends = {b for _, b in byte_ranges}
    out: list[str] = []
    where: dict[int, int] = {}  # byte offset in fragment -> character offset in the line
    pos = 0
    for ch in fragment:
        if pos in starts or pos in ends:
            where[pos] = len(out)
        if not ch.isspace():
            out.append(ch)
        elif out and out[-1] != " ":
            out.append(" ")
        pos += len(ch.encode("utf-8"))
    where.setdefault(pos, len(out))
    line = "".join(out).strip()
    lead = len(out) - len("".join(out).lstrip())
    return line, [(where[a] - lead, where[b] - lead) for a, b in byte_ranges if a in where and b in where]


def search(
    out_dir: str | os.PathLike,
    query: str,
    limit: int = 10,
    site: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[Hit]:
    """Canonical articles matching ``query`` (tantivy query syntax: words, "phrases", AND/OR,
    -excluded), best first. ``site`` matches case-insensitively; ``since``/``until`` are
    ISO dates on ``published_at`` (articles without a date are left out when either is given).
    Raises ValueError for a malformed date."""
    index = open_index(out_dir)
    text_query, errors = index.parse_query_lenient(query, ["title", "text"], field_boosts={"title": TITLE_BOOST})
    if errors:
        log.warning("parts of the query were not understood and match nothing: %s", errors)
    parts = [(tantivy.Occur.Must, text_query)]
    if site:
        parts.append((tantivy.Occur.Must, tantivy.Query.term_query(SCHEMA, "site_key", site.lower())))
    if since or until:
        parts.append((tantivy.Occur.Must, tantivy.Query.range_query(
            SCHEMA, "published", tantivy.FieldType.Date,
            _day(since, end=False) if since else None, _day(until, end=True) if until else None)))
    q = tantivy.Query.boolean_query(parts) if len(parts) > 1 else text_query
    searcher = index.searcher()
    snippets = tantivy.SnippetGenerator.create(searcher, text_query, SCHEMA, "text")
    snippets.set_max_num_chars(SNIPPET_CHARS)
    hits = []
    for rank, (score, address) in enumerate(searcher.search(q, limit).hits, 1):
        doc = searcher.doc(address)
        snippet = snippets.snippet_from_doc(doc)
        fragment, marks = one_line(snippet.fragment(), [(r.start, r.end) for r in snippet.highlighted()])
        if not fragment:  # the match is in the title only: show the article's opening
            fragment, marks = one_line(doc.get_first("text")[:SNIPPET_CHARS], [])
        published = doc.get_first("published")
        hits.append(Hit(
            rank=rank, score=round(score, 4), doc_id=doc.get_first("doc_id"),
            title=doc.get_first("title") or None, site=doc.get_first("site") or None,
            published_at=published.date().isoformat() if published else None,
            source_path=doc.get_first("source_path"), snippet=fragment, highlights=marks,
        ))
    return hits
