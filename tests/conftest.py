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


def run_local(raw, out, shard_size: int = 1000):
    """The flow's steps without Prefect, as a library user runs them."""
    from thresher.config import Config
    from thresher.run import archive_serial

    return archive_serial(raw, out, Config(shard_size=shard_size))


def file_sha256(path) -> str:
    """sha256 of a file, computed here, independently of the code under test."""
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
