"""Train the HTML block-selection model from the train split of the real dev pages.

    python bench/train_extract.py            # what `make train-extract` runs
    python bench/train_extract.py --cv-only  # cross-validation figures, no file written

Reads only the ``train`` split of ``../shared/extraction-dev`` (:mod:`bench.devsets`). Each
page goes through the same front end as a run (:func:`thresher.extract.html.analyse_page`: decode,
parse, blocks, trafilatura's candidate, features). A block's label is whether most of its
4-word shingles (or, for a block under four words, its whole word sequence) are in the gold
body; its weight is its share of the page's words, so every page weighs the same, as in the
metric.

Choices are made by 5-fold cross-validation over pages inside train (folds by a hash of the
page id): the model family (boosted trees or logistic regression) and the probability
threshold, judged by the benchmark's own metric (shingle F1 over pages) on the held-out
folds. The chosen model is then fitted on all of train and written as readable JSON to
``thresher/data/extract_model.json``. Fixed seeds, sorted inputs, single-threaded fitting:
the same data gives the same file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.devsets import absent_message, devsets_root, load_pages, score_page, score_set  # noqa: E402
from thresher.extract.blocks import FEATURES, tokens  # noqa: E402
from thresher.extract.html import analyse_page  # noqa: E402
from thresher.patterns import load_patterns  # noqa: E402
from thresher.records import Reject  # noqa: E402
from thresher.extract.selection import MODEL_PATH, SelectionModel, model_from_json  # noqa: E402

SEED = 18
FOLDS = 5
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.2, 0.81, 0.05))
# Boosted trees: small enough to read, to evaluate in a few numpy steps per page, and to
# generalise to sites not in train (depth and leaves bound what one tree can memorise).
GBDT = {"max_iter": 120, "learning_rate": 0.1, "max_leaf_nodes": 15, "max_depth": 5, "min_samples_leaf": 200,
        "l2_regularization": 1.0}

ALL_FEATURES = SelectionModel("training", FEATURES, 0.5, 0.0, 1.0, None, None, None, None)


def label(text: str, gold_shingles: set, gold_joined: str) -> float:
    """Share of the block's shingles in the gold body (short blocks: the whole sequence)."""
    toks = tokens(text)
    if len(toks) >= 4:
        sh = list(zip(toks, toks[1:], toks[2:], toks[3:]))
        return sum(s in gold_shingles for s in sh) / len(sh)
    return 1.0 if toks and (" " + " ".join(toks) + " ") in gold_joined else 0.0


def page_rows(page) -> dict | None:
    """Features, labels and block texts of one dev page (None when the page does not parse)."""
    found = analyse_page(page.html(), ALL_FEATURES, load_patterns(), url=page.url)
    if isinstance(found, Reject):
        return None
    gt = tokens(page.gold)
    gsh = set(zip(gt, gt[1:], gt[2:], gt[3:]))
    joined = " " + " ".join(gt) + " "
    return {
        "key": page.key, "dataset": page.dataset, "split": page.split, "gold": page.gold,
        "texts": [b.text for b in found.blocks], "words": [b.words for b in found.blocks],
        "X": found.features, "y": np.array([label(b.text, gsh, joined) for b in found.blocks]),
    }


def build(split: str | None, cache: Path | None) -> list[dict]:
    """Rows of every page of ``split`` (cached in ``cache`` during development)."""
    if cache and cache.is_file():
        rows = pickle.loads(cache.read_bytes())
    else:
        pages = load_pages(split=None if cache else split)  # the dev cache holds both splits
        rows = [r for r in (page_rows(p) for p in pages) if r is not None]
        if cache:
            cache.write_bytes(pickle.dumps(rows))
    return [r for r in rows if split is None or r["split"] == split]


def fold_of(key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"fold/{key}".encode()).digest()[:4], "big") % FOLDS


def stack(rows: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X = np.vstack([r["X"] for r in rows if len(r["X"])])
    y = np.concatenate([r["y"] for r in rows if len(r["X"])]) >= 0.5
    w = np.concatenate([np.asarray(r["words"], float) / max(1, sum(r["words"])) for r in rows if len(r["X"])])
    return X, y.astype(int), w


def fit(kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray):
    if kind == "gbdt":
        from sklearn.ensemble import HistGradientBoostingClassifier

        clf = HistGradientBoostingClassifier(random_state=SEED, early_stopping=False, **GBDT)
        return clf.fit(X, y, sample_weight=w)
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000)).fit(X, y, logisticregression__sample_weight=w)


def page_f1(rows: list[dict], probs: list[np.ndarray], threshold: float):
    scores = []
    for r, p in zip(rows, probs):
        text = "\n".join(t for t, q in zip(r["texts"], p) if q >= threshold)
        scores.append(score_page(r["gold"], text))
    return score_set(scores)


def cross_validate(rows: list[dict], kind: str) -> list[np.ndarray]:
    """Held-out probabilities of every block, each page predicted by a model that never saw it."""
    folds = [fold_of(r["key"]) for r in rows]
    probs: list[np.ndarray | None] = [None] * len(rows)
    for k in range(FOLDS):
        train = [r for r, f in zip(rows, folds) if f != k]
        clf = fit(kind, *stack(train))
        for i, (r, f) in enumerate(zip(rows, folds)):
            if f == k:
                probs[i] = clf.predict_proba(r["X"])[:, 1] if len(r["X"]) else np.zeros(0)
    return probs


def export(kind: str, clf, threshold: float) -> dict:
    """The fitted model as plain JSON (see :mod:`thresher.selection` for how it is read)."""
    out = {"kind": kind, "features": list(FEATURES), "threshold": threshold, "seed": SEED,
           "trained_on": "train split of extraction-dev (bench/devsets.py), labels: gold shingle share >= 0.5"}
    if kind == "gbdt":
        out["base"] = float(np.ravel(clf._baseline_prediction)[0])
        out["learning_rate"] = 1.0  # scikit-learn stores leaf values already shrunk
        out["params"] = GBDT
        trees = []
        for (pred,) in clf._predictors:
            nodes = pred.nodes
            leaf = nodes["is_leaf"].astype(bool)
            trees.append({
                "feature": [int(f) if not lf else -1 for f, lf in zip(nodes["feature_idx"], leaf)],
                "threshold": [float(t) if not lf else 0.0 for t, lf in zip(nodes["num_threshold"], leaf)],  # exact: a rounded threshold flips blocks that sit on it
                "left": [int(v) if not lf else -1 for v, lf in zip(nodes["left"], leaf)],
                "right": [int(v) if not lf else -1 for v, lf in zip(nodes["right"], leaf)],
                "value": [float(v) if lf else 0.0 for v, lf in zip(nodes["value"], leaf)],
                "depth": int(nodes["depth"].max()),
            })
        out["trees"] = trees
    else:
        scaler, lr = clf.steps[0][1], clf.steps[1][1]
        out["base"] = float(lr.intercept_[0])
        out["logistic"] = {"weights": [round(float(v), 6) for v in lr.coef_[0]],
                           "mean": [round(float(v), 6) for v in scaler.mean_],
                           "scale": [round(float(v), 6) if v else 1.0 for v in scaler.scale_]}
    return out


def dump(data: dict) -> str:
    """Readable JSON: the settings one per line, each tree on a line of its own."""
    trees = data.get("trees", [])
    head = {k: v for k, v in data.items() if k != "trees"}
    lines = json.dumps(head, indent=1, ensure_ascii=False)[:-2]
    if trees:
        lines += ',\n "trees": [\n' + ",\n".join("  " + json.dumps(t, separators=(",", ":")) for t in trees) + "\n ]"
    return lines + "\n}\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cv-only", action="store_true", help="print cross-validation figures, write nothing")
    ap.add_argument("--kinds", default="gbdt,logistic", help="model families to compare")
    ap.add_argument("--cache", type=Path, default=None, help="development only: cache page rows in this file")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    args = ap.parse_args()
    if devsets_root() is None:
        print(absent_message())
        return 2
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    rows = build("train", args.cache)
    print(f"train split: {len(rows)} pages, {sum(len(r['texts']) for r in rows)} blocks")
    best = None
    for kind in args.kinds.split(","):
        probs = cross_validate(rows, kind)
        for t in THRESHOLDS:
            s = page_f1(rows, probs, t)
            print(f"  cv {kind:8} threshold {t:.2f}: P {s.precision:.3f} R {s.recall:.3f} F1 {s.f1:.3f}  F1<0.5 {s.under_half:.1%}")
            if best is None or s.f1 > best[0]:
                best = (s.f1, kind, t)
    f1, kind, threshold = best
    print(f"chosen: {kind}, threshold {threshold:.2f} (cross-validated F1 {f1:.3f})")
    if args.cv_only:
        return 0
    X, y, w = stack(rows)
    clf = fit(kind, X, y, w)
    data = export(kind, clf, threshold)
    # The JSON must say what the fitted model says: checked on every training block.
    ours = model_from_json(data, "check").probability(X)
    gap = float(np.max(np.abs(ours - clf.predict_proba(X)[:, 1])))
    if gap > 1e-4:
        raise SystemExit(f"exported model differs from the fitted one by {gap:.2e}: not written")
    args.out.write_text(dump(data), encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
