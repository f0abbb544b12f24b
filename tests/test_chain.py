"""The manifests as one chain: an edited, removed or rewritten run is named by ``verify``, and
what a writer could still rewrite (the whole chain and its head) is caught by what it cannot
reach: the head an auditor kept, and the operator's signature."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from conftest import ROOT, run_local
from thresher import archive, audit
from thresher.archive import chain
from thresher.cli import app


def _new_page(raw, i):
    (raw / f"extra_{i}.txt").write_text(f"Flood {i} closes the coastal road\n" +
                                        f"The coastal road number {i} closed after the flood, officials said on day {i}. " * 6)


@pytest.fixture
def three_runs(tmp_path):
    """An archive of three chained runs (the seeds, then one page, then another)."""
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    out = tmp_path / "clean"
    run_local(raw, out)
    for i in (1, 2):
        _new_page(raw, i)
        run_local(raw, out)
    return raw, out


def _manifest_files(out):
    return sorted((out / "runs").glob("*.json"))


def _edit(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))
    return data


def test_runs_are_chained_and_the_head_names_the_newest(three_runs):
    _, out = three_runs
    manifests = archive.load_manifests(out)
    assert [m["chain"]["previous"] for m in manifests] == [None] + [chain.manifest_sha256(m) for m in manifests[:-1]]
    assert chain.read_head(out)["manifest_sha256"] == chain.manifest_sha256(manifests[-1])
    report = audit.verify(out)
    assert report.ok, report.errors
    assert report.head == {"run_id": manifests[-1]["run_id"], "manifest_sha256": chain.manifest_sha256(manifests[-1]), "runs": 3}


@pytest.mark.parametrize("field,value", [
    ("git_commit", "deadbeefdead"), ("thresher_version", "9.9.9"), ("flow_run_id", "forged"), ("raw_dir", "/elsewhere"),
])
def test_forged_provenance_of_any_run_is_named(three_runs, field, value):
    _, out = three_runs
    for path in _manifest_files(out):  # each run in turn: the oldest, the middle, the newest
        original = path.read_text()
        edited = _edit(path, lambda m: m.__setitem__(field, value))
        report = audit.verify(out)
        assert not report.ok and any(edited["run_id"] in e for e in report.errors), report.errors
        path.write_text(original)
    assert audit.verify(out).ok


def test_forged_config_record_is_named(three_runs):
    _, out = three_runs
    path = _manifest_files(out)[0]
    edited = _edit(path, lambda m: m["config"].__setitem__("min_words", 99))
    errors = audit.verify(out).errors
    assert any(edited["run_id"] in e and "config" in e for e in errors), errors


def test_removed_newest_run_is_named(three_runs):
    _, out = three_runs
    newest = archive.load_manifests(out)[-1]
    for f in newest["files"]:
        (out / f["path"]).unlink()
    (out / "runs" / f"{newest['run_id']}.json").unlink()
    report = audit.verify(out)
    assert not report.ok and any(newest["run_id"] in e and "head" in e for e in report.errors), report.errors
    (out / chain.HEAD).unlink()  # the head removed as well
    assert any("HEAD is missing" in e for e in audit.verify(out).errors)


def test_removed_middle_run_is_named(three_runs):
    _, out = three_runs
    middle = archive.load_manifests(out)[1]
    (out / "runs" / f"{middle['run_id']}.json").unlink()
    errors = audit.verify(out).errors
    assert any(middle["run_id"] in e and "not in the archive" in e for e in errors), errors


def _rewrite_history(out, change):
    """What a writer with full access can do: edit a run, then re-link every later run and the
    head, so the chain is consistent again."""
    manifests = archive.load_manifests(out)
    change(manifests[0])
    previous = None
    for m in manifests:
        if previous is not None:
            m["chain"]["previous"] = chain.manifest_sha256(previous)
        m.pop("signature", None)
        (out / "runs" / f"{m['run_id']}.json").write_text(json.dumps(m, indent=2))
        previous = m
    chain.write_head(out, previous, len(manifests))


def test_a_rewritten_chain_is_caught_by_the_head_the_auditor_kept(three_runs):
    _, out = three_runs
    kept = audit.verify(out).head["manifest_sha256"]
    _rewrite_history(out, lambda m: m.__setitem__("git_commit", "deadbeefdead"))
    assert audit.verify(out).ok  # consistent: only something outside the archive can tell
    report = audit.verify(out, expect_head=kept)
    assert not report.ok and any("head you kept" in e for e in report.errors)
    res = CliRunner().invoke(app, ["verify", str(out), "--expect-head", kept], terminal_width=200)
    assert res.exit_code == 1 and "head you kept" in res.stdout


def test_a_truncated_chain_is_caught_by_the_head_the_auditor_kept(three_runs):
    _, out = three_runs
    kept = audit.verify(out).head["manifest_sha256"]
    manifests = archive.load_manifests(out)
    newest = manifests[-1]
    for f in newest["files"]:
        (out / f["path"]).unlink()
    (out / "runs" / f"{newest['run_id']}.json").unlink()
    chain.write_head(out, manifests[-2], 2)
    assert audit.verify(out).ok
    assert any("head you kept" in e for e in audit.verify(out, expect_head=kept).errors)
    older = chain.manifest_sha256(manifests[0])
    assert audit.verify(out, expect_head=older).ok  # a head kept before the removed run still holds


def test_signed_runs_and_a_forger_without_the_key(tmp_path, monkeypatch):
    key_path = tmp_path / "keys" / "op.pem"
    res = CliRunner().invoke(app, ["keygen", str(key_path)])
    assert res.exit_code == 0
    public = res.stdout.strip()
    assert (tmp_path / "keys" / "op.pem.pub").read_text().strip() == public
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    out = tmp_path / "clean"
    monkeypatch.setenv(chain.SIGNING_KEY_ENV, str(key_path))
    run_local(raw, out)
    _new_page(raw, 1)
    run_local(raw, out)
    assert audit.verify(out, public_key=public).ok
    res = CliRunner().invoke(app, ["verify", str(out), "--key", str(key_path) + ".pub"], terminal_width=200)
    assert res.exit_code == 0, res.stdout
    # the forger rewrites a run and the whole chain after it, but cannot sign
    _rewrite_history(out, lambda m: m.__setitem__("git_commit", "deadbeefdead"))
    report = audit.verify(out, public_key=public)
    first = archive.load_manifests(out)[0]["run_id"]
    assert any(first in e and "not signed with the operator's key" in e for e in report.errors)
    # nor sign with another key: it is not the operator's
    other = tmp_path / "other.pem"
    CliRunner().invoke(app, ["keygen", str(other)])
    manifests = archive.load_manifests(out)
    previous = None
    for m in manifests:
        relinked = chain.link({k: v for k, v in m.items() if k not in ("chain", "signature")}, previous,
                              chain.load_signing_key(other))
        (out / "runs" / f"{m['run_id']}.json").write_text(json.dumps(relinked))
        previous = relinked
    chain.write_head(out, previous, len(manifests))
    assert audit.verify(out).ok  # signed, consistently, by someone
    assert not audit.verify(out, public_key=public).ok


def test_an_edited_signed_manifest_fails_its_own_signature(tmp_path, monkeypatch):
    key_path = tmp_path / "op.pem"
    CliRunner().invoke(app, ["keygen", str(key_path)])
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    out = tmp_path / "clean"
    monkeypatch.setenv(chain.SIGNING_KEY_ENV, str(key_path))
    manifest = run_local(raw, out)
    path = out / "runs" / f"{manifest['run_id']}.json"
    _edit(path, lambda m: m.__setitem__("raw_dir", "/elsewhere"))
    chain.write_head(out, json.loads(path.read_text()), 1)
    assert any("signature does not match" in e for e in audit.verify(out).errors)


def test_a_publish_killed_before_the_head_moved_is_a_warning_and_the_next_run_fixes_it(three_runs):
    raw, out = three_runs
    manifests = archive.load_manifests(out)
    chain.write_head(out, manifests[-2], 2)  # as if killed between the manifest and the head
    report = audit.verify(out)
    assert report.ok and any(manifests[-1]["run_id"] in w and "interrupted" in w for w in report.warnings)
    run_local(raw, out)  # nothing new; recovery moves the head, the new run extends it
    report = audit.verify(out)
    assert report.ok and not any("interrupted" in w for w in report.warnings)
    assert report.head["runs"] == 4


def test_a_config_that_points_at_nothing_fails(three_runs):
    _, out = three_runs
    sha = archive.load_manifests(out)[0]["config_sha256"]
    (out / "configs" / f"{sha}.json").unlink()
    errors = audit.verify(out).errors
    assert any("not in the archive's config store" in e for e in errors), errors


def test_a_stored_config_is_re_run_from_its_own_patterns(three_runs, tmp_path):
    from thresher.archive.configs import load_config, read_config

    _, out = three_runs
    sha = archive.load_manifests(out)[0]["config_sha256"]
    entry, problem = read_config(out, sha)
    assert problem is None
    cfg, why = load_config(entry)
    assert why is None and cfg.patterns.sha256 == entry["config"]["patterns_sha256"]
    name = entry["config"]["rules"][0]
    entry["config"]["rules"][0] = name[: name.rindex("@")] + "@0"  # a version no code has
    assert load_config(entry)[0] is None and "@0" in load_config(entry)[1]
