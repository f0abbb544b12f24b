"""Dedup: signatures, candidates, clusters and canonical choice, on unit cases, on the labelled
set of syndicated copies and hard negatives, and archive-wide across runs."""

from __future__ import annotations

import json
import shutil
from itertools import combinations

import numpy as np
import pytest

from conftest import FIXTURES, ROOT, run_local
from thresher import archive
from thresher.dedup import clusters, signatures, templates

STORY = ("The regional council approved a new flood defence plan on Tuesday after two years of consultation. "
         "Engineers will raise the river wall by 1.2 metres along a four-kilometre stretch of the town centre, "
         "and a new pumping station will be built near the old mill. Work is due to begin in March and will cost "
         "an estimated 48 million euros, most of it from national funds, the council leader said at a public "
         "meeting attended by about 300 residents, many of whom lost furniture and cars in the floods last winter.")
OTHER = ("Shares in the country's largest airline fell sharply on Wednesday after it cut its profit forecast for the "
         "second time this year, blaming higher fuel costs, a strike by baggage handlers and weaker demand for "
         "business travel. The chief executive told analysts the company would delay the delivery of six aircraft "
         "and freeze hiring at its head office until the end of the year to protect its cash position.")


def sig(text):
    return signatures.minhash(signatures.dedup_tokens(text))


def test_signatures_are_the_same_in_every_process_and_estimate_jaccard():
    """Signatures are kept in the archive's index and compared with those of later runs, in
    other processes: they must not depend on hash randomisation."""
    import os
    import subprocess
    import sys

    code = ("import sys; from thresher.dedup import signatures as s; "
            "print(s.minhash(s.dedup_tokens(sys.stdin.read())).tolist())")
    runs = {subprocess.run([sys.executable, "-c", code], input=STORY, capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert runs == {f"{sig(STORY).tolist()}\n"}
    edited = STORY.replace("Tuesday", "Monday").replace("300", "250")
    assert signatures.similarity(sig(STORY), sig(edited)) > 0.6
    assert signatures.similarity(sig(STORY), sig(OTHER)) < 0.1


def test_short_texts_get_no_signature():
    assert sig("Police said on Monday that a man was arrested.") is None


def test_candidate_pairs_share_a_band():
    sigs = np.stack([sig(STORY), sig(STORY.replace("Tuesday", "Monday")), sig(OTHER)])
    pairs = clusters.candidate_pairs(signatures.band_keys(sigs))
    assert [tuple(p) for p in pairs] == [(0, 1)]


def cluster_of(texts, archived=None, fetched=None):
    n = len(texts)
    sigs = [sig(t) for t in texts]
    mat = np.stack([s if s is not None else np.zeros(signatures.NUM_PERM, np.uint32) for s in sigs])
    return clusters.cluster([f"d{i}" for i in range(n)], [signatures.text_hash(signatures.dedup_tokens(t)) for t in texts], mat,
                         np.array([s is not None for s in sigs]), archived or [False] * n, fetched or list(range(n)),
                         [len(t) for t in texts], [f"p{i}" for i in range(n)])


def test_exact_and_near_copies_point_at_the_earliest():
    decisions = cluster_of([STORY, OTHER, STORY, "PARIS - " + STORY.replace("Tuesday", "Monday")])
    assert [(d.doc_id, d.duplicate_of, d.method) for d in decisions] == [("d2", "d0", "exact"), ("d3", "d0", "near")]


def test_archived_canonical_is_never_replaced():
    longer = STORY + " The council will publish the full plan online next week."
    decisions = cluster_of([STORY, longer], archived=[True, False], fetched=[10.0, 1.0])
    assert [(d.doc_id, d.duplicate_of) for d in decisions] == [("d1", "d0")]


def test_canonical_rule_earliest_then_longest_then_path():
    assert clusters.pick_canonical([0, 1, 2], [False] * 3, [5.0, 1.0, 1.0], [10, 10, 20], ["c", "b", "a"]) == 2
    assert clusters.pick_canonical([0, 1], [False] * 2, [1.0, 1.0], [10, 10], ["b", "a"]) == 1


def test_repeated_paragraphs_are_per_site():
    """A paragraph on many pages of one site is template text; the same paragraph on many
    sites is a quote or syndication and stays."""
    appeal = "Our journalism is funded by readers like you: please consider a donation today."
    n = templates.REPEAT_MIN_PAGES
    rows = [{"site": "ledger", "text": f"{appeal}\n\nStory number {i} about the council.", "removed": [], "word_count": 0}
            for i in range(n)]
    rows += [{"site": f"site{i}", "text": f"{appeal}\n\n{STORY}", "removed": [], "word_count": 0} for i in range(n)]
    counts = templates.strip_repeated_paragraphs(rows, {})
    assert all(r["text"].startswith("Story number") for r in rows[:n])
    assert all(r["text"].startswith(appeal) for r in rows[n:])
    assert rows[0]["removed"] == [{"rule": templates.REPEAT_RULE, "line": 0, "start": 0, "end": len(appeal), "text": appeal}]
    assert counts[("ledger", signatures.paragraph_hash(appeal))] == n


# ----------------------------------------------------------------------- labelled set

LABELS = FIXTURES / "dedup" / "labels.json"


@pytest.mark.skipif(not LABELS.exists(), reason="labelled dedup set not present")
def test_labelled_set_pairwise_f1_and_no_false_merges():
    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    names, truth = [], {}
    for group in labels["clusters"]:
        for doc in group["docs"]:
            names.append(doc)
            truth[doc] = group["id"] if group["kind"] == "positive" else doc
    texts = [(FIXTURES / "dedup" / "docs" / f"{n}.txt").read_text(encoding="utf-8") for n in names]
    decisions = cluster_of(texts)
    pred = {f"d{i}": f"d{i}" for i in range(len(names))}
    for d in decisions:
        pred[d.doc_id] = d.duplicate_of
    pred_by_name = {names[i]: pred[f"d{i}"] for i in range(len(names))}
    tp = fp = fn = 0
    for a, b in combinations(names, 2):
        same_pred = pred_by_name[a] == pred_by_name[b]
        same_true = truth[a] == truth[b]
        tp += same_pred and same_true
        fp += same_pred and not same_true
        fn += same_true and not same_pred
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert fp == 0, "a hard negative was merged"
    assert 2 * precision * recall / (precision + recall) >= 0.97


# ----------------------------------------------------------------------- archive-wide


@pytest.fixture
def raw(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    return raw


def test_refetched_copy_next_run_is_one_new_duplicate(raw, tmp_path):
    out = tmp_path / "out"
    run_local(raw, out)
    (raw / "week2").mkdir()
    text = (raw / "001_3c8e0fc09b8af7fa.txt").read_text(encoding="utf-8")
    (raw / "week2" / "refetch.txt").write_text("Breaking: " + text.replace("October 25", "Oct. 25"), encoding="utf-8")
    second = run_local(raw, out)
    dups = archive.read_dataset(out, "duplicates").to_pylist()
    canon = {r["source_path"]: r["doc_id"] for r in archive.read_dataset(out, "articles").to_pylist()}
    assert second["counts"] == {"articles": 0, "duplicates": 1, "rejects": 0}
    assert [(d["source_path"], d["duplicate_of"], d["method"]) for d in dups] == [
        ("week2/refetch.txt", canon["001_3c8e0fc09b8af7fa.txt"], "near")]
    assert dups[0]["similarity"] > 0.8


def test_two_runs_over_the_same_raw_give_identical_contents(raw, tmp_path):
    shutil.copy(raw / "002_c3bde9851478618a.txt", raw / "copy_of_002.txt")
    volatile = {"processed_at", "flow_run_id", "fetched_at"}
    results = []
    for name in ("a", "b"):
        run_local(raw, tmp_path / name)
        results.append({ds: sorted((tuple((k, str(v)) for k, v in sorted(r.items()) if k not in volatile)
                                    for r in archive.read_dataset(tmp_path / name, ds).to_pylist()))
                        for ds in ("articles", "duplicates")})
    assert results[0] == results[1]
    assert len(results[0]["duplicates"]) == 1
