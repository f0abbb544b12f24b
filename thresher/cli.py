"""The ``thresher`` command: run the archive flow, and look inside what it does.

Commands are thin: they parse arguments, call the flow or a library function, and print.
Prefect is imported only by ``thresher run`` (inside the command), so ``thresher rules`` or
``thresher clean`` start instantly and ``import thresher`` never loads Prefect.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from thresher import __version__
from thresher.storylist import print_hits, print_largest, stories
from thresher.text import printable

app = typer.Typer(
    help="thresher: scraped news pages in, a clean, deduplicated, auditable Parquet archive out.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
app.command(name="stories")(stories)  # thresher stories OUT_DIR: the command lives with its face


def _location(value: str, what: str, must_exist: bool = True) -> str:
    """A folder argument: a local path (made absolute, checked like typer's ``exists=True``)
    or a URL on object storage (``s3://bucket/prefix``), passed on as given."""
    from thresher.storage import is_remote

    if is_remote(value):
        if must_exist:
            from thresher.storage import Store

            store = Store(value)
            if not store.fs.isdir(store.root):  # a mistyped prefix would archive nothing, quietly
                raise typer.BadParameter(f"{value!r}: no such bucket, or nothing under that prefix.", param_hint=what)
        return value.rstrip("/")
    path = Path(value)
    if must_exist and not path.is_dir():
        raise typer.BadParameter(f"Directory {value!r} does not exist." if not path.exists() else f"{value!r} is not a directory.",
                                 param_hint=what)
    return str(path.resolve())


def _version(value: bool) -> None:
    if value:
        console.print(f"thresher {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Exit codes: 0 success; 1 a check failed (verify), nothing new became an article or the
    run failed writing OUT_DIR (run), anything was rejected (run --strict), no match (search),
    no such record or run (audit, report); 2 bad usage (run: also folders that cannot be used
    together, an unwritable or full OUT_DIR, an empty RAW_DIR); 75 another run is writing the
    archive (run; try again later)."""


@app.command()
def run(
    raw_dir: str = typer.Argument(..., help="Folder of raw pages (searched recursively), or a URL such as s3://bucket/raw."),
    out_dir: str = typer.Argument(..., help="Archive folder, created if missing, or a URL such as s3://bucket/clean."),
    shard_size: int = typer.Option(1000, min=1, help="Most pages per task, the unit of parallel work: files are grouped, a WARC file is split between its records (small runs are still split into up to 8 tasks)."),
    shard_bytes: int = typer.Option(16 << 20, min=1, help="About the most bytes of pages per task (default 16 MiB): a worker holds one task's pages in memory."),
    workers: int = typer.Option(os.cpu_count() or 1, min=1, help="Local worker processes (one per core by default)."),
    dask_address: str = typer.Option(None, "--dask-address", help="Run the tasks on an existing Dask cluster, e.g. tcp://127.0.0.1:8786."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when any input was rejected or a shard crashed."),
    as_json: bool = typer.Option(False, "--json", help="Print the run manifest as JSON."),
) -> None:
    """Archive RAW_DIR into OUT_DIR with the Prefect flow `archive_corpus`.

    Runs on an embedded, temporary Prefect server unless PREFECT_API_URL points at one, with
    one worker process per core (parsing is CPU-bound: threads would not help), or on a Dask
    cluster with --dask-address. Pages already archived (same path, same bytes) are skipped.
    Either folder may be on object storage; credentials and endpoint come from the
    environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...) or fsspec's configuration.

    Shows a progress bar on a terminal (plain progress lines every 10 s otherwise) and writes
    the run's HTML report to OUT_DIR/reports/RUN_ID.html.

    Example: thresher run raw clean
    Example: thresher run s3://news/raw s3://news/clean
    Example: thresher run raw clean --dask-address tcp://127.0.0.1:8786
    """
    from thresher.cli_run import checked_locations, guarded

    raw_dir, out_dir = checked_locations(raw_dir, out_dir)  # an operator's error costs nothing
    from flows import launch  # then: it starts the workers' fork server and Prefect's server

    early = launch.prepare(dask_address)
    manifest = guarded(lambda: launch.run_archive(early, raw_dir, out_dir, shard_size, shard_bytes, workers, dask_address,
                                                  sys.stderr))
    failed = _run_failed(manifest, strict)
    if as_json:
        sys.stdout.write(json.dumps(manifest, indent=2) + "\n")
        if failed:
            raise typer.Exit(1)
        return
    table = Table(title=f"run {manifest['run_id']}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in manifest["inputs"].items():
        table.add_row(f"inputs {key}", str(value))
    for key, value in manifest["counts"].items():
        table.add_row(key, str(value))
    for key, value in manifest["rejects_per_reason"].items():
        table.add_row(f"  rejected: {key}", str(value))
    console.print(table)
    print_largest(manifest, console)  # the run's largest stories
    console.print(f"manifest: {out_dir}/runs/{manifest['run_id']}.json")
    from thresher.report import REPORTS, report_path
    from thresher.storage import Store

    if Store(out_dir).isfile(f"{REPORTS}/{manifest['run_id']}.html"):
        console.print(f"report:   {report_path(out_dir, manifest['run_id'])}")
    for err in manifest.get("shard_errors", []):
        console.print(f"[red]shard {err['shard']} crashed[/red]; its inputs are internal_error rejects (traceback in the manifest)")
    if failed:
        console.print(f"[red]{failed}[/red]")
        raise typer.Exit(1)


def _run_failed(manifest: dict, strict: bool) -> str | None:
    """Why the run should exit non-zero: nothing of what was new succeeded, or (with
    --strict) anything was rejected or crashed. Rejects alone are bad input, not failure."""
    counts, new = manifest["counts"], manifest["inputs"]["new"]
    if new and counts["articles"] + counts["duplicates"] == 0:
        return "no input became an article"
    if strict and (counts["rejects"] or manifest.get("shard_errors")):
        return f"--strict: {counts['rejects']} rejected, {len(manifest.get('shard_errors', []))} shard(s) crashed"
    return None


@app.command()
def verify(
    out_dir: str = typer.Argument(..., help="The archive folder, or its URL (s3://bucket/clean)."),
    all_records: bool = typer.Option(False, "--all", help="Re-derive every record's text, not a sample."),
    sample: int = typer.Option(100, min=0, help="How many records to re-derive when --all is not given."),
    key: str = typer.Option(None, "--key", help="The operator's ed25519 public key (64 hex characters, or a file): every run must be signed with it."),
    expect_head: str = typer.Option(None, "--expect-head", help="A chain head printed by an earlier verify: it must still be on the chain."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Check runs chained to the head (signed: --key), files, configs, snapshots, records and
    their runs, and records re-derived from the raw bytes; exit 0 only if all holds, each problem
    named. Keep the printed chain head outside the archive (--expect-head). See docs/verify.md.

    Example: thresher verify clean --all
    Example: thresher verify clean --key operator.pub --expect-head 5f1c…
    Example: thresher verify s3://news/clean
    """
    from thresher.archive.chain import read_public_key
    from thresher.audit import verify as run_verify

    out_dir = _location(out_dir, "'OUT_DIR'")
    try:  # a key that does not read is a usage error (exit 2), not a failed check
        public_key = read_public_key(key) if key else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--key'")
    report = run_verify(out_dir, all_records=all_records, sample=sample, public_key=public_key, expect_head=expect_head)
    if as_json:
        sys.stdout.write(json.dumps({"ok": report.ok, **report.__dict__}, indent=2) + "\n")
    else:
        for line, style in report.lines():  # every line printable: records hold scraped values
            console.print(line, style=style, highlight=False, markup=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def keygen(
    path: Path = typer.Argument(..., help="Where to write the private key (PEM); the public key goes to PATH.pub."),
) -> None:
    """An ed25519 key pair to sign run manifests: PATH for runs (THRESHER_SIGNING_KEY=PATH), the
    public key (printed, PATH.pub) for auditors (`verify --key`). Whoever holds PATH can sign anything.

    Example: thresher keygen ~/.config/thresher/signing.pem
    """
    from thresher.archive.chain import write_key_pair
    try:
        sys.stdout.write(write_key_pair(path) + "\n")
    except FileExistsError:
        console.print(f"[red]{escape(str(path))} exists[/red]: not overwriting a key")
        raise typer.Exit(1)


@app.command()
def audit(
    out_dir: str = typer.Argument(..., help="The archive folder, or its URL (s3://bucket/clean)."),
    key: str = typer.Argument(..., help="A doc_id, a source path (relative to RAW_DIR) or a URL."),
    as_json: bool = typer.Option(False, "--json", help="Print the lineage as JSON."),
) -> None:
    """Tell where a record came from: raw file and hash, snapshot, fetch time, run, versions,
    extractor, every removed span with its rule, and its duplicate relations.

    Example: thresher audit clean 001_3c8e0fc09b8af7fa.txt
    """
    from thresher.audit import describe, lineage

    out_dir = _location(out_dir, "'OUT_DIR'")
    info = lineage(out_dir, key)
    if info is None:
        console.print(f"[red]no record[/red] with doc_id, source path or URL {escape(printable(repr(key)))} in {escape(printable(out_dir))}")
        raise typer.Exit(1)
    if as_json:
        sys.stdout.write(json.dumps(info, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(describe(info) + "\n")


@app.command()
def report(
    out_dir: str = typer.Argument(..., help="The archive folder, or its URL (s3://bucket/clean)."),
    run_id: str = typer.Option(None, "--run", help="Which run (default: the latest published run)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report's data as JSON instead of a summary."),
) -> None:
    """Write the HTML report of a run to OUT_DIR/reports/RUN_ID.html and print its summary.

    The page is self-contained (inline charts, no network): pages per outcome, characters
    removed per rule with examples and the reason each rule exists, top sites by rejects and
    by duplicates, the largest duplicate clusters, and every removed line, page by page.
    `thresher run` writes it after each run; this regenerates it for any run.

    Example: thresher report clean
    Example: thresher report clean --run 20261123T031829Z-5cec6b --json
    """
    from thresher.report import render_markdown, write_report

    out_dir = _location(out_dir, "'OUT_DIR'")
    try:
        path, data = write_report(out_dir, run_id)
    except LookupError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1)
    if as_json:
        sys.stdout.write(json.dumps({**data, "html": str(path)}, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(render_markdown(data, str(path)))


@app.command()
def search(
    out_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="The archive folder (local: the index is a local folder)."),
    query: str = typer.Argument(..., help='Words, "a phrase", AND / OR, -excluded (tantivy query syntax).'),
    limit: int = typer.Option(10, "--limit", "-n", min=1, help="How many results."),
    site: str = typer.Option(None, "--site", help="Only this site (as in the articles' site column, any case)."),
    since: str = typer.Option(None, "--since", help="Only articles published on or after this date (YYYY-MM-DD)."),
    until: str = typer.Option(None, "--until", help="Only articles published on or before this date (YYYY-MM-DD)."),
    by_story: bool = typer.Option(False, "--by-story", help="Group the hits by story (the event they cover)."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Full-text search over the canonical articles, best match first (BM25; headline words
    count double), each with its title, site, date, a snippet and its doc_id.

    The first search builds an index in OUT_DIR/search/ (a cache: delete it any time); later
    searches add only what new runs published. Exit code 1 when nothing matches.

    Example: thresher search clean "Hanoi Convention"
    Example: thresher search clean '"cybercrime convention" -Russia' --site vietnamplus.vn --since 2025-10-01 --json
    """
    try:
        from thresher.search import search as run_search
    except ImportError as exc:  # tantivy is the [search] extra
        console.print(f"[red]search needs the search extra: pip install 'thresher[search]' ({exc})[/red]")
        raise typer.Exit(2)

    try:
        hits = run_search(out_dir, query, limit=limit, site=site, since=since, until=until)
    except ValueError as exc:  # a malformed date
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2)
    if not print_hits(out_dir, query, hits, as_json, by_story, console):  # flat, or grouped by story
        raise typer.Exit(1)


@app.command()
def export(
    out_dir: str = typer.Argument(..., help="The archive folder, or its URL (s3://bucket/clean)."),
    fmt: str = typer.Option("jsonl", "--format", "-f", help="jsonl or parquet."),
    output: Path = typer.Option(None, "--output", "-o", help="File to write (JSONL goes to stdout without it)."),
    dataset: str = typer.Option("articles", "--dataset", help="articles, duplicates, rejects or snapshots."),
    columns: str = typer.Option(None, "--columns", help="Comma-separated columns (default: all)."),
) -> None:
    """Export one dataset's published rows as a single JSONL or Parquet file, streamed.

    Only rows of published runs are exported (a run's manifest lists its files). JSONL has one
    object per row, timestamps in ISO 8601; Parquet keeps the schema and column descriptions.
    A missing or changed file is named on stderr and skipped (exit code 1); the rest is exported.

    Example: thresher export clean --format jsonl -o articles.jsonl
    Example: thresher export clean --format parquet -o articles.parquet --columns doc_id,title,text
    Example: thresher export clean --columns doc_id,title | head
    """
    from thresher.export import export as run_export

    cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    out_dir = _location(out_dir, "'OUT_DIR'")
    try:
        rows = run_export(out_dir, fmt, output, dataset, cols, damaged := [])
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2)
    if output is not None:
        Console(stderr=True).print(f"{rows:,} {dataset} rows written to {output}", markup=False)
    for problem in damaged:  # the rest was exported; `thresher verify` checks the whole archive
        Console(stderr=True).print(f"DAMAGED: {printable(problem)}", markup=False, highlight=False, style="red")
    if damaged:
        raise typer.Exit(1)


@app.command()
def rules() -> None:
    """List the boilerplate rules in the order they run, with what each removes and why it is safe.

    Example: thresher rules
    """
    from thresher.config import DEFAULT_RULES
    from thresher.rules import REGISTRY

    for name in DEFAULT_RULES:
        rule = REGISTRY[name]
        console.print(f"[bold]{rule.qualified}[/bold]")
        console.print("    " + rule.doc.replace("\n", "\n    ") + "\n")


@app.command()
def schema() -> None:
    """Print the column tables of every dataset, as Markdown (docs/datasets.md's tables come from here).

    Example: thresher schema
    """
    from thresher.records import SCHEMAS, schema_markdown

    for name in SCHEMAS:
        sys.stdout.write(f"## `{name}/`\n\n{schema_markdown(name)}\n\n")


@app.command()
def clean(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A page: .txt, .html (maybe .gz) or a .warc."),
    as_json: bool = typer.Option(False, "--json", help="Print text, metadata and removals as JSON."),
) -> None:
    """Clean one page (or every page of a WARC) and show what each rule removed; writes nothing.

    Example: thresher clean raw/001_3c8e0fc09b8af7fa.txt
    """
    from thresher.config import Config
    from thresher.extract import extract_page
    from thresher.records import Reject
    from thresher.sources import Failed, RawInput, input_format, read_pages, read_sidecar

    cfg = Config()
    kind = input_format(path.name)
    if kind is None:
        console.print(f"[red]not an input thresher reads[/red]: {path.name}")
        raise typer.Exit(1)
    item = RawInput(path.name, kind, read_sidecar(path), link=path.is_symlink())  # named by the user: followed
    failed = False
    for page in read_pages(path.parent, item, cfg.max_bytes):
        where = f"{path.name}" + (f" @ {page.offset}" if page.offset is not None else "")
        outcome = page.reject if isinstance(page, Failed) else extract_page(page, cfg)
        if isinstance(outcome, Reject):
            console.print(f"[red]rejected[/red] {escape(printable(where))}: {outcome.reason}: {escape(printable(outcome.detail))}")
            failed = True
            continue
        ex, _ = outcome
        if as_json:
            data = {k: v for k, v in ex.__dict__.items() if k != "removed"}
            data["source"] = where
            data["removed"] = [r.__dict__ for r in ex.removed]
            sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
            continue
        safe = lambda v: escape(printable(v))  # noqa: E731 - page values must not act on the terminal or as markup
        console.print(f"[bold]{safe(where)}[/bold]  extractor {ex.extractor}, encoding {ex.encoding}\n[bold]title[/bold]: {safe(ex.title)}")
        console.print(f"[bold]authors[/bold]: {safe(list(ex.authors))}  [bold]agency[/bold]: {safe(ex.source_agency)}")
        console.print(f"[bold]published_at[/bold]: {ex.published_at}  [bold]language[/bold]: {ex.language}")
        console.print("\n[bold]text[/bold]:")
        console.print(ex.text, markup=False, highlight=False)
        console.print("\n[bold]removed[/bold]:")
        for r in ex.removed:
            console.print(f"  line {r.line:>4}  {r.rule:<22} {r.text[:100]}", markup=False, highlight=False)
    if failed:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
