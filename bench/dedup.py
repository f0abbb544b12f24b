"""Near-duplicate detection at scale: quality, documents per second and peak memory.

    python bench/dedup.py                 # 10k and 100k documents, thresher and datasketch
    python bench/dedup.py 10000 100000 1000000 --datasketch-max 100000

A generator writes a synthetic corpus of ~300-word documents with known clusters: copies
with word substitutions, dropped or added passages, truncations; and hard negatives that must
stay apart (documents sharing one long quoted passage, short briefs on one template). Every
size runs in its own process, so peak memory (max RSS) is that size's alone.

Printed per size and system: pairwise precision / recall / F1 against the known clusters,
documents per second (signing plus clustering, wall time; thresher signs in 2 worker
processes as its shards run, and its time includes making the texts there, which datasketch's
does not), and peak memory. Documents are regenerated from their ids where they are signed, so
no process ever holds the whole corpus, as in a real run. datasketch's MinHashLSH (the usual library) runs
on the same documents with the same shingles, permutations and threshold, in one process.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from multiprocessing import Pool

import numpy as np

from thresher.dedup import clusters, signatures

WORDS = 300
SEED = 7
VOCAB = np.array([f"w{i}" for i in range(50_000)])
_W = 1.0 / np.arange(1, len(VOCAB) + 1) ** 1.05  # Zipf-like: real texts share common words
CDF = np.cumsum(_W / _W.sum())


def _words(rng: np.random.Generator, k: int) -> np.ndarray:
    return VOCAB[np.searchsorted(CDF, rng.random(k))]


def _kind(cid: int) -> tuple[str, int]:
    """What cluster ``cid`` is and how many documents it has, from the seed alone."""
    rng = np.random.default_rng([SEED, cid])
    r = rng.random()
    if r < 0.05:
        return "brief", 1
    copies = 1 + (int(rng.integers(1, 5)) if rng.random() < 0.3 else 0)
    return ("quote" if r < 0.10 else "story"), copies


def plan(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(cluster id, variant) of each of ``n`` documents, shuffled so copies land in different
    shards, as re-published stories do. Only small integer arrays: texts are made on demand."""
    cids, variants = [], []
    cid = 0
    while len(cids) < n:
        _, copies = _kind(cid)
        for v in range(copies):
            cids.append(cid)
            variants.append(v)
        cid += 1
    order = np.random.default_rng(SEED).permutation(n)
    return np.array(cids[:n])[order], np.array(variants[:n])[order]


def document(cid: int, variant: int) -> str:
    """The text of one document, regenerated deterministically from its ids."""
    kind, _ = _kind(cid)
    rng = np.random.default_rng([SEED, cid, 1])
    if kind == "brief":  # a template brief: shared formula, own facts
        formula = _words(np.random.default_rng([SEED, 0, 0]), 40)
        return " ".join(np.concatenate([formula[:20], _words(rng, 50), formula[20:]]))
    base = _words(rng, WORDS)
    if kind == "quote":  # shares a long quote with other stories, but is its own story
        quote = _words(np.random.default_rng([SEED, 10**9, int(rng.integers(50))]), 60)
        at = int(rng.integers(0, WORDS - 60))
        base = np.concatenate([base[:at], quote, base[at:]])
    if variant == 0:
        return " ".join(base)
    vr = np.random.default_rng([SEED, cid, 2, variant])
    doc = base.copy()
    subs = vr.integers(0, len(doc), int(len(doc) * vr.uniform(0.01, 0.04)))
    doc[subs] = _words(vr, len(subs))
    edit = vr.random()
    if edit < 0.3:  # truncated copy
        doc = doc[: int(len(doc) * vr.uniform(0.75, 0.95))]
    elif edit < 0.6:  # partner intro and sign-off added
        doc = np.concatenate([_words(vr, 15), doc, _words(vr, 10)])
    return " ".join(doc)


def generate(n: int) -> tuple[list[str], list[int]]:
    """``n`` documents and their true cluster ids (for small runs and the datasketch baseline)."""
    cids, variants = plan(n)
    return [document(int(c), int(v)) for c, v in zip(cids, variants)], cids.tolist()


def pairwise(pred: list[int], truth: list[int]) -> tuple[float, float, float]:
    """Pairwise precision/recall/F1 of a clustering, from contingency counts (no pair lists)."""
    def pairs(counts):
        c = np.asarray(list(counts), dtype=np.int64)
        return int((c * (c - 1) // 2).sum())

    from collections import Counter

    both = pairs(Counter(zip(pred, truth)).values())
    p_pairs = pairs(Counter(pred).values())
    t_pairs = pairs(Counter(truth).values())
    precision = both / p_pairs if p_pairs else 1.0
    recall = both / t_pairs if t_pairs else 1.0
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def _sign(ids: list[tuple[int, int]]) -> tuple[np.ndarray, list[str], list[int]]:
    """A worker's shard: make its documents and sign them (texts never reach the parent)."""
    cache: dict[str, int] = {}
    out = np.zeros((len(ids), signatures.NUM_PERM), dtype=np.uint32)
    hashes, lengths = [], []
    for i, (cid, variant) in enumerate(ids):
        tokens = signatures.dedup_tokens(document(cid, variant))
        sig = signatures.minhash(tokens, cache)
        if sig is not None:
            out[i] = sig
        hashes.append(signatures.text_hash(tokens)[:16])
        lengths.append(len(tokens))
    return out, hashes, lengths


def run_thresher(cids: np.ndarray, variants: np.ndarray) -> list[int]:
    n = len(cids)
    chunk = 5000
    ids = list(zip(cids.tolist(), variants.tolist()))
    with Pool(2) as pool:  # shards sign in parallel, as the flow's tasks do
        parts = pool.map(_sign, [ids[i : i + chunk] for i in range(0, n, chunk)])
    sigs = np.concatenate([p[0] for p in parts])
    hashes = [h for p in parts for h in p[1]]
    lengths = [x for p in parts for x in p[2]]
    del parts
    decisions = clusters.cluster([str(i) for i in range(n)], hashes, sigs, np.ones(n, dtype=bool), [False] * n,
                              list(range(n)), lengths, [f"{i:09d}" for i in range(n)])
    pred = list(range(n))
    for d in decisions:
        pred[int(d.doc_id)] = int(d.duplicate_of)
    return pred


def run_datasketch(texts: list[str]) -> list[int]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=clusters.NEAR_THRESHOLD, num_perm=signatures.NUM_PERM)
    sketches = []
    for i, text in enumerate(texts):
        tokens = signatures.dedup_tokens(text)
        m = MinHash(num_perm=signatures.NUM_PERM)
        m.update_batch([" ".join(tokens[j : j + signatures.SHINGLE_WORDS]).encode() for j in range(len(tokens) - signatures.SHINGLE_WORDS + 1)])
        lsh.insert(str(i), m)
        sketches.append(m)
    uf = clusters.UnionFind(len(texts))
    for i, m in enumerate(sketches):
        for j in lsh.query(m):
            if m.jaccard(sketches[int(j)]) >= clusters.NEAR_THRESHOLD:
                uf.union(i, int(j))
    return [uf.find(i) for i in range(len(texts))]


def one(n: int, system: str) -> dict:
    cids, variants = plan(n)
    labels = cids.tolist()
    if system == "thresher":
        t0 = time.perf_counter()
        pred = run_thresher(cids, variants)
    else:
        texts = [document(int(c), int(v)) for c, v in zip(cids, variants)]
        t0 = time.perf_counter()  # datasketch is timed without making the texts
        pred = run_datasketch(texts)
    elapsed = time.perf_counter() - t0
    p, r, f = pairwise(pred, labels)
    # Max RSS of this process plus, for thresher, twice the largest worker's (both workers run
    # at once): an upper bound of the memory the size needed at its peak.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    if system == "thresher":
        peak += 2 * resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"n": n, "system": system, "precision": p, "recall": r, "f1": f, "docs_per_s": n / elapsed,
            "seconds": elapsed, "peak_mb": peak}


def labelled_pairs(names: list[str], truth: dict[str, str], pred: dict[str, str], kinds: dict[str, str]) -> dict:
    """Pairwise counts of a clustering of ``names``; a false pair between two documents of
    template-kind hard-negative groups is counted apart (``template_false``)."""
    from itertools import combinations

    tp = fp = fn = tfp = 0
    for a, b in combinations(names, 2):
        same_pred, same_true = pred[a] == pred[b], truth[a] == truth[b]
        tp, fp, fn = tp + (same_pred and same_true), fp + (same_pred and not same_true), fn + (same_true and not same_pred)
        tfp += same_pred and not same_true and kinds[a] in TEMPLATE_KINDS and kinds[b] in TEMPLATE_KINDS
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"docs": len(names), "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "false_pairs": fp, "template_false": tfp, "missed_pairs": fn}


TEMPLATE_KINDS = {"template_briefs", "market_report", "sports_template"}


def labelled() -> dict[str, dict]:
    """Pairwise scores on tests/fixtures/dedup: real-prose copies (edits, truncations, new
    intros, re-wrapping) and hard negatives (shared quotes, template briefs, follow-ups), for
    the part tuned on, the held-out part (never tuned on), and all; each part clustered alone."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "dedup"
    labels = json.loads((root / "labels.json").read_text(encoding="utf-8"))
    results = {}
    for part in ("tune", "heldout", "all"):
        groups = [g for g in labels["clusters"] if part == "all" or g.get("part", "tune") == part]
        names = [d for g in groups for d in g["docs"]]
        truth = {d: (g["id"] if g["kind"] == "positive" else d) for g in groups for d in g["docs"]}
        kinds = {d: g.get("subtype", g["kind"]) for g in groups for d in g["docs"]}
        texts = [(root / "docs" / f"{n}.txt").read_text(encoding="utf-8") for n in names]
        tokens = [signatures.dedup_tokens(t) for t in texts]
        sigs = [signatures.minhash(t) for t in tokens]
        mat = np.stack([s if s is not None else np.zeros(signatures.NUM_PERM, np.uint32) for s in sigs])
        decisions = clusters.cluster(names, [signatures.text_hash(t) for t in tokens], mat,
                                     np.array([s is not None for s in sigs]), [False] * len(names),
                                     list(range(len(names))), [len(t) for t in tokens], names,
                                     terms=[signatures.terms(t) for t in texts])
        pred = {n: n for n in names}
        for d in decisions:
            pred[d.doc_id] = d.duplicate_of
        r = labelled_pairs(names, truth, pred, kinds)
        positives = sum(g["kind"] == "positive" for g in groups)
        print(f"labelled set, {part:7} ({r['docs']} documents, {positives} copy clusters, {len(groups) - positives} "
              f"hard-negative groups): pairwise precision {r['precision']:.3f} recall {r['recall']:.3f} F1 {r['f1']:.3f}, "
              f"false pairs {r['false_pairs']} (among template briefs {r['template_false']}), missed pairs {r['missed_pairs']}")
        results[part] = r
    return results


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        print(json.dumps(one(int(argv[1]), argv[2])))
        return
    ds_max = 100_000
    if "--datasketch-max" in argv:
        i = argv.index("--datasketch-max")
        ds_max = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2 :]
    sizes = [int(a) for a in argv] or [10_000, 100_000]
    labelled()
    print(f"{'docs':>9} {'system':11} {'precision':>9} {'recall':>7} {'F1':>6} {'docs/s':>8} {'seconds':>8} {'peak MB':>8}")
    results = {}
    for n in sizes:
        for system in ("thresher", "datasketch"):
            if system == "datasketch" and n > ds_max:
                print(f"{n:>9} {system:11}  skipped (over --datasketch-max {ds_max})")
                continue
            out = subprocess.run([sys.executable, __file__, "--one", str(n), system], capture_output=True, text=True,
                                 env=os.environ, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            results[(n, system)] = r
            print(f"{n:>9} {system:11} {r['precision']:9.3f} {r['recall']:7.3f} {r['f1']:6.3f} {r['docs_per_s']:8.0f} "
                  f"{r['seconds']:8.1f} {r['peak_mb']:8.0f}", flush=True)
    for n in sizes:
        if (n, "datasketch") in results:
            a, b = results[(n, "thresher")], results[(n, "datasketch")]
            print(f"{n:>9} thresher/datasketch: {a['docs_per_s'] / b['docs_per_s']:.1f}x docs/s, "
                  f"{a['peak_mb'] / b['peak_mb']:.2f}x peak memory")
    ts = [results[(n, "thresher")] for n in sizes]
    if len(ts) > 1:
        per_doc = [r["seconds"] / r["n"] * 1e6 for r in ts]
        print("thresher time per document (us): " + ", ".join(f"{r['n']}: {p:.0f}" for r, p in zip(ts, per_doc))
              + f"; largest/smallest {max(per_doc) / min(per_doc):.2f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
