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
from rich.table import Table

from thresher import __version__

app = typer.Typer(
    help="thresher: scraped news pages in, a clean, deduplicated, auditable Parquet archive out.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()


def _version(value: bool) -> None:
    if value:
        console.print(f"thresher {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Exit codes: 0 success; 1 a check failed, nothing new became an article, or (--strict)
    anything was rejected; 2 bad usage."""


@app.command()
def run(
    raw_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="Folder of raw pages (searched recursively)."),
    out_dir: Path = typer.Argument(..., help="Archive folder; created if missing."),
    shard_size: int = typer.Option(500, min=1, help="Pages per task: the unit of parallel work."),
    workers: int = typer.Option(os.cpu_count() or 1, min=1, help="Local worker processes (one per core by default)."),
    dask_address: str = typer.Option(None, "--dask-address", help="Run the tasks on an existing Dask cluster, e.g. tcp://127.0.0.1:8786."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when any input was rejected or a shard crashed."),
    as_json: bool = typer.Option(False, "--json", help="Print the run manifest as JSON."),
) -> None:
    """Archive RAW_DIR into OUT_DIR with the Prefect flow `archive_corpus`.

    Runs on an embedded, temporary Prefect server unless PREFECT_API_URL points at one, with
    one worker process per core (parsing is CPU-bound: threads would not help), or on a Dask
    cluster with --dask-address. Pages already archived (same path, same bytes) are skipped.

    Example: thresher run raw clean
    Example: thresher run raw clean --dask-address tcp://127.0.0.1:8786
    """
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "thresher")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows import server

    temporary = server.start_if_needed()  # starts up while the flow is imported
    from flows.archive import archive_corpus, start_fork_server, task_runner

    if not dask_address:
        start_fork_server()  # workers' imports, also while the server starts
    if temporary:
        server.use(temporary)
    out_dir.mkdir(parents=True, exist_ok=True)
    flow = archive_corpus.with_options(task_runner=task_runner(workers, dask_address))
    manifest = flow(raw_dir=str(raw_dir.resolve()), out_dir=str(out_dir.resolve()), shard_size=shard_size)
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
    console.print(f"manifest: {out_dir / 'runs' / (manifest['run_id'] + '.json')}")
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
    out_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="The archive folder."),
    all_records: bool = typer.Option(False, "--all", help="Re-derive every record's text, not a sample."),
    sample: int = typer.Option(100, min=0, help="How many records to re-derive when --all is not given."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Check the archive: file hashes against run manifests, raw snapshots against their
    sha256, records against snapshots, each run's accounting, and texts re-derived from the
    raw bytes. Exit code 0 only if everything holds; each problem names its file or record.

    Example: thresher verify clean --all
    """
    from thresher.audit import verify as run_verify

    report = run_verify(out_dir, all_records=all_records, sample=sample)
    if as_json:
        sys.stdout.write(json.dumps({"ok": report.ok, **report.__dict__}, indent=2) + "\n")
    else:
        for line in report.errors:
            console.print(f"[red]FAIL[/red] {line}", highlight=False)
        for line in report.warnings:
            console.print(f"[yellow]warn[/yellow] {line}", highlight=False)
        checked = ", ".join(f"{v} {k}" for k, v in report.checked.items())
        console.print(("[green]archive verified[/green]: " if report.ok else f"[red]{len(report.errors)} problem(s)[/red]; checked: ") + checked)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def audit(
    out_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="The archive folder."),
    key: str = typer.Argument(..., help="A doc_id, a source path (relative to RAW_DIR) or a URL."),
    as_json: bool = typer.Option(False, "--json", help="Print the lineage as JSON."),
) -> None:
    """Tell where a record came from: raw file and hash, snapshot, fetch time, run, versions,
    extractor, every removed span with its rule, and its duplicate relations.

    Example: thresher audit clean 001_3c8e0fc09b8af7fa.txt
    """
    from thresher.audit import describe, lineage

    info = lineage(out_dir, key)
    if info is None:
        console.print(f"[red]no record[/red] with doc_id, source path or URL {key!r} in {out_dir}")
        raise typer.Exit(1)
    if as_json:
        sys.stdout.write(json.dumps(info, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(describe(info) + "\n")


@app.command()
def rules() -> None:
    """List the boilerplate rules in the order they run, with what each removes and why it is safe.

    Example: thresher rules
    """
    from thresher.boilerplate import DEFAULT_RULES, REGISTRY

    for name in DEFAULT_RULES:
        rule = REGISTRY[name]
        console.print(f"[bold]{rule.qualified}[/bold]")
        console.print("    " + rule.doc.replace("\n", "\n    ") + "\n")


@app.command()
def schema() -> None:
    """Print the column tables of every dataset, as Markdown (the README's tables come from here).

    Example: thresher schema
    """
    from thresher.records import SCHEMAS, schema_markdown

    for name in SCHEMAS:
        sys.stdout.write(f"### `{name}/`\n\n{schema_markdown(name)}\n\n")


@app.command()
def clean(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A page: .txt, .html (maybe .gz) or a .warc."),
    as_json: bool = typer.Option(False, "--json", help="Print text, metadata and removals as JSON."),
) -> None:
    """Clean one page (or every page of a WARC) and show what each rule removed; writes nothing.

    Example: thresher clean raw/001_3c8e0fc09b8af7fa.txt
    """
    from thresher.config import Config
    from thresher.pipeline import extract_page
    from thresher.records import Reject
    from thresher.sources import Failed, RawInput, input_format, read_pages, read_sidecar

    cfg = Config()
    kind = input_format(path.name)
    if kind is None:
        console.print(f"[red]not an input thresher reads[/red]: {path.name}")
        raise typer.Exit(1)
    item = RawInput(path.name, kind, read_sidecar(path))
    failed = False
    for page in read_pages(path.parent, item, cfg.max_bytes):
        where = f"{path.name}" + (f" @ {page.offset}" if page.offset is not None else "")
        outcome = page.reject if isinstance(page, Failed) else extract_page(page, cfg)
        if isinstance(outcome, Reject):
            console.print(f"[red]rejected[/red] {where}: {outcome.reason}: {outcome.detail}")
            failed = True
            continue
        ex, _ = outcome
        if as_json:
            data = {k: v for k, v in ex.__dict__.items() if k != "removed"}
            data["source"] = where
            data["removed"] = [r.__dict__ for r in ex.removed]
            sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
            continue
        console.print(f"[bold]{where}[/bold]  extractor {ex.extractor}, encoding {ex.encoding}")
        console.print(f"[bold]title[/bold]: {ex.title}")
        console.print(f"[bold]authors[/bold]: {list(ex.authors)}  [bold]agency[/bold]: {ex.source_agency}")
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
