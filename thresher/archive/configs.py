"""The archive's config store: every config that made a record, kept by its ``config_sha256``.

A record names its config by hash; the manifest of its run carries the config record. That is
enough to say two records were made alike, not to make them again: the phrase tables are
only named by their sha256, and a patterns file changes or disappears. So each run stores its
config once, content-addressed, with the bytes of its patterns file:

    configs/<config_sha256>.json   {"config_sha256", "config": <config record>, "patterns": <TOML text>}

``verify`` checks that every hash a record or manifest names is stored here and hashes to its
name, and re-runs the stored config (:func:`load_config`) to re-derive records.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path

from thresher.archive.chain import canonical_json
from thresher.config import Config
from thresher.patterns import patterns_source
from thresher.provenance import config_record, config_sha256
from thresher.storage import Store

FOLDER = "configs"


def config_path(sha: str) -> str:
    return f"{FOLDER}/{sha}.json"


def store_config(out_dir: str | os.PathLike, config: Config) -> str:
    """Keep ``config`` (with its patterns file's bytes) under its hash; return the hash. Once
    stored, never written again: the content is its name."""
    sha = config_sha256(config)
    store = Store(out_dir)
    if not store.isfile(config_path(sha)):
        data = {"config_sha256": sha, "config": config_record(config),
                "patterns": patterns_source(config.patterns_file).decode("utf-8")}
        store.write_atomic(config_path(sha), json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8") + b"\n")
    return sha


def read_config(out_dir: str | os.PathLike, sha: str) -> tuple[dict | None, str | None]:
    """The stored entry of ``sha`` and None, or None and why it cannot be trusted (missing,
    unreadable, or its content does not hash to its name)."""
    store = Store(out_dir)
    if not isinstance(sha, str) or not sha or not all(c in "0123456789abcdef" for c in sha):
        return None, f"config_sha256 {str(sha)[:20]!r} is not a sha256"
    if not store.isfile(config_path(sha)):
        return None, f"config {sha[:12]}… is not in the archive's config store ({config_path(sha)} missing)"
    try:
        entry = json.loads(store.read_bytes(config_path(sha)).decode("utf-8"))
        record, patterns = entry["config"], entry["patterns"]
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"{config_path(sha)}: unreadable ({type(exc).__name__})"
    if hashlib.sha256(canonical_json(record)).hexdigest() != sha:
        return None, f"{config_path(sha)}: its config does not hash to its name (edited)"
    if hashlib.sha256(patterns.encode("utf-8")).hexdigest() != record.get("patterns_sha256"):
        return None, f"{config_path(sha)}: its patterns do not hash to the config's patterns_sha256 (edited)"
    return entry, None


def _patterns_file(text: str) -> str:
    """The stored patterns as a file (Config names its tables by path), content-addressed in
    the temporary folder so that every verify of the same config shares one."""
    data = text.encode("utf-8")
    folder = Path(tempfile.gettempdir()) / "thresher-patterns"
    folder.mkdir(exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()}.toml"
    if not path.is_file() or path.read_bytes() != data:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return str(path)


def load_config(entry: dict) -> tuple[Config | None, str | None]:
    """A stored config as a :class:`Config` this thresher can run, and None; or None and why
    it cannot (a rule version, a model or a setting this code does not have): records made by
    other code can be checked against their snapshots, not re-derived."""
    record = entry["config"]
    names = {f.name for f in dataclasses.fields(Config)}
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in record.items() if k in names}
    try:
        kwargs["rules"] = tuple(str(r).split("@", 1)[0] for r in record.get("rules", ()))
        kwargs["patterns_file"] = _patterns_file(entry["patterns"])
        cfg = Config(**kwargs)
        now = json.loads(canonical_json(config_record(cfg)))
    except (ValueError, TypeError) as exc:
        return None, f"this thresher cannot run it: {exc}"
    now["patterns_file"] = record.get("patterns_file")
    if now != record:
        differ = sorted(k for k in set(now) | set(record) if now.get(k) != record.get(k))
        detail = "; ".join(_difference(k, record.get(k), now.get(k)) for k in differ[:3])
        return None, f"made by other code ({detail})"
    return cfg, None


def _difference(key: str, there: object, here: object) -> str:
    """One setting that differs, shortly: for lists (rules), only the items that differ."""
    if isinstance(there, list) and isinstance(here, list):
        only_there = [str(x) for x in there if x not in here] or ["(same items, other order)"]
        only_here = [str(x) for x in here if x not in there] or ["(same items, other order)"]
        there, here = ", ".join(only_there), ", ".join(only_here)
    return f"{key}: {str(there)[:80]} in the record, {str(here)[:80]} in this thresher"
