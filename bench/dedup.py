"""Near-duplicate detection at scale: quality, documents per second and peak memory.

    python bench/dedup.py                 # 10k and 100k documents, thresher and datasketch
    python bench/dedup.py 10000 100000 1000000 --datasketch-max 100000

A generator writes a synthetic corpus of ~300-word documents with known clusters: copies
with word substitutions, dropped or added passages, truncations; and hard negatives that must
stay apart (documents sharing one long quoted passage, short briefs on one template). Every
size runs in its own process, so peak memory (max RSS) is that size's alone.

Printed per size and system: pairwise precision / recall / F1 against the known clusters,
documents per second (signing plus clustering, wall time, 2 worker processes for thresher's
signing as its shards run), and peak memory. datasketch's MinHashLSH (the usual library) runs
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

from thresher import dedup

WORDS = 300


def generate(n: int, seed: int = 7) -> tuple[list[str], list[int]]:
    """``n`` documents and their true cluster ids (documents with the same id are copies)."""
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(50_000)])
    weights = 1.0 / np.arange(1, len(vocab) + 1) ** 1.05  # Zipf-like: real texts share common words
    weights /= weights.sum()
    quotes = [rng.choice(vocab, 60, p=weights) for _ in range(max(1, n // 200))]
    template = rng.choice(vocab, 40, p=weights)
    texts: list[str] = []
    labels: list[int] = []
    cid = 0
    while len(texts) < n:
        kind = rng.random()
        if kind < 0.05:  # a template brief: shared formula, own facts
            words = np.concatenate([template[:20], rng.choice(vocab, 50, p=weights), template[20:]])
            texts.append(" ".join(words))
            labels.append(cid)
            cid += 1
            continue
        base = rng.choice(vocab, WORDS, p=weights)
        if kind < 0.10:  # shares a long quote with other stories, but is its own story
            q = quotes[int(rng.integers(len(quotes)))]
            at = int(rng.integers(0, WORDS - 60))
            base = np.concatenate([base[:at], q, base[at:]])
        copies = [base]
        if rng.random() < 0.3:
            for _ in range(int(rng.integers(1, 5))):
                doc = base.copy()
                edit = rng.random()
                subs = rng.integers(0, len(doc), int(len(doc) * rng.uniform(0.01, 0.04)))
                doc[subs] = rng.choice(vocab, len(subs), p=weights)
                if edit < 0.3:  # truncated copy
                    doc = doc[: int(len(doc) * rng.uniform(0.75, 0.95))]
                elif edit < 0.6:  # partner intro and sign-off added
                    doc = np.concatenate([rng.choice(vocab, 15, p=weights), doc, rng.choice(vocab, 10, p=weights)])
                copies.append(doc)
        for doc in copies:
            texts.append(" ".join(doc))
            labels.append(cid)
        cid += 1
    return texts[:n], labels[:n]


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


def _sign(chunk: list[str]) -> np.ndarray:
    cache: dict[str, int] = {}
    out = np.zeros((len(chunk), dedup.NUM_PERM), dtype=np.uint32)
    for i, text in enumerate(chunk):
        sig = dedup.minhash(dedup.dedup_tokens(text), cache)
        if sig is not None:
            out[i] = sig
    return out


def run_thresher(texts: list[str]) -> list[int]:
    chunk = 2000
    with Pool(2) as pool:  # shards sign in parallel, as the flow's tasks do
        sigs = np.concatenate(pool.map(_sign, [texts[i : i + chunk] for i in range(0, len(texts), chunk)]))
    n = len(texts)
    hashes = [dedup.text_hash(dedup.dedup_tokens(t)) for t in texts]
    decisions = dedup.cluster([str(i) for i in range(n)], hashes, sigs, np.ones(n, dtype=bool), [False] * n,
                              list(range(n)), [len(t) for t in texts], [f"{i:09d}" for i in range(n)])
    pred = list(range(n))
    for d in decisions:
        pred[int(d.doc_id)] = int(d.duplicate_of)
    return pred


def run_datasketch(texts: list[str]) -> list[int]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=dedup.NEAR_THRESHOLD, num_perm=dedup.NUM_PERM)
    sketches = []
    for i, text in enumerate(texts):
        tokens = dedup.dedup_tokens(text)
        m = MinHash(num_perm=dedup.NUM_PERM)
        m.update_batch([" ".join(tokens[j : j + dedup.SHINGLE_WORDS]).encode() for j in range(len(tokens) - dedup.SHINGLE_WORDS + 1)])
        lsh.insert(str(i), m)
        sketches.append(m)
    uf = dedup.UnionFind(len(texts))
    for i, m in enumerate(sketches):
        for j in lsh.query(m):
            if m.jaccard(sketches[int(j)]) >= dedup.NEAR_THRESHOLD:
                uf.union(i, int(j))
    return [uf.find(i) for i in range(len(texts))]


def one(n: int, system: str) -> dict:
    texts, labels = generate(n)
    t0 = time.perf_counter()
    pred = run_thresher(texts) if system == "thresher" else run_datasketch(texts)
    elapsed = time.perf_counter() - t0
    p, r, f = pairwise(pred, labels)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    return {"n": n, "system": system, "precision": p, "recall": r, "f1": f, "docs_per_s": n / elapsed,
            "seconds": elapsed, "peak_mb": peak}


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
