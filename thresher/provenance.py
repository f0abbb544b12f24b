"""What every row and manifest of a run says about how it was made: the run, the code, the config.

A run's context (:class:`RunContext`) is created once, when the run begins, and travels with
every shard: rows carry its run id, time, flow run and ``config_sha256``; the manifest carries
the full config record, the git commit and the library versions. ``config_sha256`` covers
everything that shapes a record: the settings, each rule's version, the phrase tables' sha256
and the extraction models' versions, so two records with the same hash were made alike.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from thresher import __version__
from thresher.config import Config
from thresher.extract.dumps import extractor_name
from thresher.extract.linemodel import load_line_model
from thresher.extract.selection import load_model
from thresher.rules import qualified_names, unknown_rules

LIBRARIES = ("pyarrow", "prefect", "trafilatura", "charset-normalizer", "dateparser", "py3langid")


def config_record(config: Config) -> dict:
    """The config as plain data, as it is hashed and recorded: settings, rule versions, and the
    phrase tables' sha256. Raises ValueError for a rule no module registers (a bad config
    stops the run before any work)."""
    unknown = unknown_rules(config.rules)
    if unknown:
        raise ValueError(f"unknown boilerplate rules in config: {unknown}")
    data = config.settings()
    data["rules"] = qualified_names(config.rules)
    data["patterns_sha256"] = config.patterns.sha256
    model = load_line_model()  # a retrained dump line model is another config, even under the same version
    data["models"] = {"dumps": extractor_name(model), "dumps_sha256": model.sha256}
    data["models"]["html"] = f"extract@{load_model().version}"  # a retrained HTML selection model changes records
    return data


def config_sha256(config: Config) -> str:
    """Stable hash of :func:`config_record`: the same pages cleaned with other shard sizes carry
    the same ``config_sha256``."""
    blob = json.dumps(config_record(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RunContext:
    """What every row of one run shares: when, which run, which config (and its hash)."""

    run_id: str
    processed_at: datetime
    config: Config
    config_sha256: str
    flow_run_id: str | None = None


def new_run(config: Config, flow_run_id: str | None = None, now: datetime | None = None) -> RunContext:
    """A fresh run: its id sorts by start time, so manifests and files list in run order."""
    started = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return RunContext(f"{started:%Y%m%dT%H%M%S}Z-{uuid.uuid4().hex[:6]}", started, config, config_sha256(config), flow_run_id)


def git_commit() -> str | None:
    """The commit of the code that runs, when it runs from a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def library_versions() -> dict[str, str | None]:
    """Versions of the libraries whose behaviour shapes records."""
    found: dict[str, str | None] = {}
    for lib in LIBRARIES:
        try:
            found[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            found[lib] = None
    return found


def code_record(ctx: RunContext) -> dict:
    """The manifest's account of the code and config that made a run."""
    return {
        "thresher_version": __version__,
        "git_commit": git_commit(),
        "libraries": library_versions(),
        "config": config_record(ctx.config),
        "config_sha256": ctx.config_sha256,
    }
