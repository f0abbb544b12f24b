"""Shared fixtures. The Prefect harness is session-scoped: starting it costs seconds, so all
flow tests share one temporary Prefect database; library tests never touch it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="session")
def prefect_harness():
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def run_local(raw, out, shard_size: int = 500):
    """The flow's steps without Prefect, as a library user would wire them."""
    from thresher import archive, pipeline, sources
    from thresher.config import Config

    ctx = pipeline.new_run(Config(shard_size=shard_size))
    items = sources.discover(raw)
    known, paragraphs = archive.known_doc_ids(out), archive.known_paragraph_counts(out)
    shards = [archive.stage_shard(out, ctx.run_id, i, pipeline.clean_shard(str(raw), b, ctx, known, paragraphs))
              for i, b in enumerate(pipeline.shard(items, shard_size))]
    archive.deduplicate(out, ctx.run_id)
    return archive.publish(out, ctx, str(raw), len(items), shards, "2026-01-01T00:00:00+00:00")
