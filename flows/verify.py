"""``verify_archive``: the weekly proof that the archive is what its manifests say.

One task, one library call: ``thresher.audit.verify``. The flow fails (and Prefect reports
it) when any check fails; the report's lines name each file or record at fault.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from thresher import audit


@task(name="verify-archive", cache_policy=NO_CACHE)
def verify_task(out_dir: str, all_records: bool, sample: int, public_key: str | None,
                expect_head: str | None) -> audit.Report:
    return audit.verify(out_dir, all_records=all_records, sample=sample, public_key=public_key, expect_head=expect_head)


@flow(name="verify_archive")
def verify_archive(out_dir: str = "clean", all_records: bool = False, sample: int = 100,
                   public_key: str | None = None, expect_head: str | None = None) -> dict:
    """Verify ``out_dir``; raise (so the flow run fails) when a check fails. ``public_key``
    (hex) and ``expect_head``: see ``thresher verify --key / --expect-head``."""
    logger = get_run_logger()
    report = verify_task(out_dir, all_records, sample, public_key, expect_head)
    for line in report.warnings:
        logger.warning(line)
    for line in report.errors:
        logger.error(line)
    logger.info("checked: %s", report.checked)
    if report.head:  # the auditor's copy belongs outside the archive: the flow run's log is one
        logger.info("chain head: %s (run %s, %d runs)", report.head["manifest_sha256"], report.head["run_id"], report.head["runs"])
    if not report.ok:
        shown = "\n".join(report.errors[:20]) + ("\n…" if len(report.errors) > 20 else "")
        raise RuntimeError(f"{len(report.errors)} archive check(s) failed:\n{shown}")
    return {"ok": True, **report.checked, "head": report.head}
