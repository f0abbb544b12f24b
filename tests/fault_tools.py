"""What the fault tests check after every fault, and the corpora they run on.

After any fault (a kill, a full disk, a crashing input, a store that fails), the archive must
verify, hold every input in exactly one row, and keep nothing a later run or dedup could read
by mistake: no staging folder, no data file that no manifest lists.
"""

from __future__ import annotations

import random
import shutil
from collections import Counter
from pathlib import Path

from conftest import ROOT
from thresher import archive, audit, sources
from thresher.archive import chain
from thresher.storage import Store

WORDS = ("river town council harbour market school bridge storm rain farmers minister election court "
         "festival museum railway factory hospital police weather budget village coast mountain").split()


def make_corpus(raw: Path, extra: int = 40, seed: int = 0, words: int = 120, noisy: bool = False) -> Path:
    """The seed dumps, ``extra`` distinct text pages, a copy of a seed (a duplicate) and an empty
    file (a reject): every kind of row, and every kind of file a run writes."""
    shutil.copytree(ROOT / "raw", raw)
    shutil.copy(raw / "001_3c8e0fc09b8af7fa.txt", raw / "copy_of_001.txt")
    (raw / "empty.txt").write_bytes(b"")
    rng = random.Random(seed)
    for i in range(extra):
        if noisy:  # words of random letters: text that compresses little, to fill a disk
            body = " ".join("".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 10))) for _ in range(words))
        else:
            body = " ".join(rng.choice(WORDS) for _ in range(words))
        (raw / f"page_{i:03d}.txt").write_text(f"Headline number {i} from the coast\n\n{body}. Story {i} ends here.\n")
    return raw


def record_keys(out) -> list[tuple[str, int | None]]:
    """(source_path, source_offset) of every row of articles, duplicates and rejects: a file
    is one input, a WARC one per record (and a row for the file itself when its reading broke)."""
    keys = []
    for name in archive.RECORDS:
        table = archive.read_dataset(out, name, ["source_path", "source_offset"])
        keys += zip(table.column("source_path").to_pylist(), table.column("source_offset").to_pylist())
    return keys


def record_paths(out) -> list[str]:
    """source_path of every row of articles, duplicates and rejects."""
    return [path for path, _ in record_keys(out)]


def assert_one_row_per_input(raw, out) -> None:
    """Every input in exactly one row: each file (each WARC record) once, and every discovered
    file there."""
    counts = Counter(record_keys(out))
    twice = {k: n for k, n in counts.items() if n > 1}
    assert not twice, f"inputs in more than one row: {twice}"
    discovered = {i.source_path: i.input_format for i in sources.discover(raw)}
    per_path = Counter(path for path, _ in counts)
    assert set(per_path) == {printable(p) for p in discovered}
    several = {p: n for p, n in per_path.items() if n > 1 and not p.lower().endswith((".warc", ".warc.gz"))}
    assert not several, f"files in more than one row: {several}"


def printable(path: str) -> str:
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def leftovers(out) -> list[str]:
    """What is under OUT_DIR that is not the archive: staging, unlisted data files, temporaries."""
    store = Store(out)
    listed = set(archive.published(out))
    left = list(store.entries("_staging"))
    for folder in [*archive.DATASETS, *(f"index/{n}" for n in archive.INDEX)]:
        left += [f for f in store.files(folder) if f not in listed]
    left += [f for f in store.files("runs") if not f.endswith(".json") and f != chain.HEAD]  # the chain's head is the archive's
    return left


def assert_intact(out) -> None:
    """The archive as readers see it is sound, and nothing else is left lying in it."""
    if archive.published_runs(out):
        report = audit.verify(out, all_records=True)
        assert report.ok, report.errors
    assert leftovers(out) == []


def assert_clean_archive(raw, out) -> None:
    assert_intact(out)
    assert_one_row_per_input(raw, out)


def rows(out) -> dict[str, tuple[str, str, str | None]]:
    """source_path -> (dataset, doc_id, text or reject reason): what a user reads of each input."""
    found = {}
    for name in archive.RECORDS:
        for r in archive.read_dataset(out, name).to_pylist():
            found[r["source_path"]] = (name, r["doc_id"], r.get("text") or r.get("reason"))
    return found


def fail_on(monkeypatch, module, name, paths):
    """``module.name`` raises for inputs whose source_path is in ``paths``."""
    real = getattr(module, name)

    def failing(*args, **kwargs):
        where = next((a for a in args if hasattr(a, "source_path") or hasattr(a, "item")), None)
        path = getattr(where, "source_path", None) or getattr(getattr(where, "item", None), "source_path", None)
        if path in paths:
            raise RuntimeError(f"injected fault on {path}")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, failing)
