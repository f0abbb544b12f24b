"""Train the dump line model on the train split of the real dev pages (``make train-dumps``).

    python -m bench.train_dumps            # writes thresher/data/line_model.json
    python -m bench.train_dumps --cv-only  # only the cross-validation report

Every page of the train split (``bench.devsets.split_of``) is flattened and labelled
(:mod:`bench.dumpdata`), the named rules run on it as the cleaner runs them, and each line gets
the features of :mod:`thresher.extract.linefeatures`. Then:

1. how often each rule's removed lines are chaff on train dumps (printed). Every rule stays a
   hard cut except :data:`RESTORABLE`: the rules that guess from a page's structure where the
   article starts (``leading_chrome``, ``byline_block``) or what a link row is (``breadcrumb``,
   ``repeated_line``), which on real dumps remove prose; the model may bring such a line back
   when it is sure. The other rules remove by convention what some golds keep (captions,
   bylines, date lines, credits, "Read more:" links: Dragnet's gold has captions and bylines):
   letting the model restore them would teach thresher another gold's scope;
2. 5-fold cross-validation inside train, folds by page: line scores from boosted trees,
   out-of-fold, then the smoothing stage trained on those out-of-fold scores (stacking), and
   the shingle F1 of independent and smoothed decisions printed per set;
3. the final trees on all of train, the smoothing stage on the out-of-fold scores, written as
   JSON that :mod:`thresher.extract.linemodel` reads (checked to give the trees' own scores).

Weights: each page weighs the same and, within a page, a line weighs by its words, as the
metric does (scrapinghub's shingle metric normalises per page). Seeds are fixed; LightGBM runs
on one thread, so the file is the same on every run on the same data.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

import numpy as np

from bench.devsets import SETS, absent_message, devsets_root, score_page, score_set
from bench.dumpdata import DumpPage, load_dumps
from thresher.config import DEFAULT_RULES
from thresher.extract.dumps import dump_lines
from thresher.extract.linefeatures import FEATURES, line_features
from thresher.extract.linemodel import MODEL_PATH, WINDOW_FEATURES, load_line_model, tree_scores, window_rows
from thresher.rules import strip_boilerplate

VERSION = 1
SEED = 0
FOLDS = 5
TREES, LEAVES, LEARNING_RATE, MIN_LEAF = 100, 15, 0.1, 50  # 5-fold CV on train: 100x15 within 0.01 F1 of 300x31
RESTORABLE = ("breadcrumb", "repeated_line", "leading_chrome", "byline_block")
KEEP_THRESHOLD = 0.5  # a line the rules keep goes when the model's body probability is below this
RESTORE_THRESHOLD = 0.7  # a line a RESTORABLE rule removed comes back only above this (train CV, see docs/dumps.md)


def page_rows(page: DumpPage) -> tuple[list[list[float]], list[str | None]]:
    """Features and the rule that would remove each line, exactly as the cleaner computes them."""
    text = page.text
    view = dump_lines(text, strip_boilerplate(text, DEFAULT_RULES))
    if view.lines != page.lines:
        raise AssertionError(f"{page.key}: the cleaner reads other lines than the flattener wrote")
    return line_features(view.lines, view.rule_of, view.language), list(view.rule_of)


def build(pages: list[DumpPage]) -> dict:
    X, Y, G, W, R = [], [], [], [], []
    for g, page in enumerate(pages):
        rows, rules = page_rows(page)
        words = np.expm1(np.array([r[FEATURES.index("words")] for r in rows])) + 1
        X.extend(rows)
        Y.extend(page.labels)
        G.extend([g] * len(rows))
        W.extend(words / words.sum())
        R.extend(r or "" for r in rules)
    return {"X": np.array(X, dtype=np.float64), "Y": np.array(Y), "G": np.array(G), "W": np.array(W), "R": np.array(R)}


def rule_table(data: dict) -> None:
    print("rules on train dumps: share of the lines each removes that are chaff (by the gold)")
    for rule in DEFAULT_RULES:
        m = data["R"] == rule
        if m.any():
            share = float((data["Y"][m] == 0).mean())
            kind = "the model may restore" if rule in RESTORABLE else "a hard cut"
            print(f"  {rule:16} {int(m.sum()):6} lines  chaff {share:.3f}  {kind}")


def _trees(X: np.ndarray, Y: np.ndarray, W: np.ndarray):
    import lightgbm as lgb

    model = lgb.LGBMClassifier(n_estimators=TREES, num_leaves=LEAVES, learning_rate=LEARNING_RATE,
                               min_child_samples=MIN_LEAF, subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
                               random_state=SEED, n_jobs=1, deterministic=True, verbose=-1)
    return model.fit(X, Y, sample_weight=W * len(W) / W.sum())


def _smooth_rows(probs: np.ndarray, G: np.ndarray) -> np.ndarray:
    out = np.zeros((len(probs), len(WINDOW_FEATURES)))
    for g in np.unique(G):
        rows = np.where(G == g)[0]
        out[rows] = window_rows(list(probs[rows]))
    return out


def _smoother(S: np.ndarray, Y: np.ndarray, W: np.ndarray):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=3000).fit(S, Y, sample_weight=W * len(W) / W.sum())


def _folds(G: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import GroupKFold

    return list(GroupKFold(FOLDS).split(G, G, G))


def cross_validate(pages: list[DumpPage], data: dict) -> np.ndarray:
    """Out-of-fold stage-1 probabilities; prints independent vs smoothed decisions per set."""
    X, Y, G, W = data["X"], data["Y"], data["G"], data["W"]
    stage1 = np.zeros(len(Y))
    for a, b in _folds(G):
        stage1[b] = _trees(X[a], Y[a], W[a]).predict_proba(X[b])[:, 1]
    S = _smooth_rows(stage1, G)
    stage2 = np.zeros(len(Y))
    for a, b in _folds(G):
        stage2[b] = _smoother(S[a], Y[a], W[a]).predict_proba(S[b])[:, 1]
    print(f"\n{FOLDS}-fold cross-validation inside train (folds by page), shingle P/R/F1, text lines only:")
    for label, probs in (("independent lines", stage1), ("smoothed (window)", stage2)):
        scores = defaultdict(list)
        for g, page in enumerate(pages):
            keep = probs[G == g] >= KEEP_THRESHOLD
            scores[page.dataset].append(score_page(page.gold, "\n".join(t for t, k in zip(page.lines, keep) if k)))
        cells = [f"{name[:14]} {s.precision:.3f}/{s.recall:.3f}/{s.f1:.3f}" for name in SETS if name in scores
                 for s in [score_set(scores[name])]]
        print(f"  {label:18} " + "  ".join(cells))
    return stage1


def _tree_json(node: dict, names: list[str]) -> dict:
    if "leaf_value" in node:
        return {"leaf": node["leaf_value"]}
    if node["decision_type"] != "<=":
        raise ValueError(f"unexpected split {node['decision_type']}")
    return {"feature": names[node["split_feature"]], "threshold": node["threshold"],
            "left": _tree_json(node["left_child"], names), "right": _tree_json(node["right_child"], names)}


def train(pages: list[DumpPage]) -> dict:
    data = build(pages)
    print(f"{len(pages)} train pages, {len(data['Y'])} lines, {data['Y'].mean():.3f} body")
    rule_table(data)
    stage1 = cross_validate(pages, data)
    trees = _trees(data["X"], data["Y"], data["W"])
    dumped = trees.booster_.dump_model()
    smoother = _smoother(_smooth_rows(stage1, data["G"]), data["Y"], data["W"])
    model = {
        "kind": "thresher-dump-line-model",
        "version": VERSION,
        "trained_on": "train split (bench.devsets.split_of) of the dev sets: " + ", ".join(sorted({p.dataset for p in pages})),
        "pages": len(pages),
        "lines": int(len(data["Y"])),
        "training": {"trees": TREES, "leaves": LEAVES, "learning_rate": LEARNING_RATE, "min_leaf": MIN_LEAF,
                     "seed": SEED, "folds": FOLDS},
        "restorable_rules": list(RESTORABLE),
        "keep_threshold": KEEP_THRESHOLD,
        "restore_threshold": RESTORE_THRESHOLD,
        "features": list(FEATURES),
        "smoothing": {"features": list(WINDOW_FEATURES), "weights": [round(float(w), 6) for w in smoother.coef_[0]],
                      "bias": round(float(smoother.intercept_[0]), 6)},
        "trees": [_tree_json(t["tree_structure"], list(FEATURES)) for t in dumped["tree_info"]],
    }
    return {"model": model, "check": (trees, data["X"][:2000])}


def model_json(model: dict) -> str:
    """The model as text: settings and weights indented, one tree per line (diffs stay readable)."""
    head = {k: v for k, v in model.items() if k != "trees"}
    text = json.dumps(head, indent=1, ensure_ascii=False)[:-2]
    trees = ",\n".join("  " + json.dumps(t, separators=(",", ":")) for t in model["trees"])
    return text + ',\n "trees": [\n' + trees + "\n ]\n}\n"


def main(argv: list[str]) -> int:
    if devsets_root() is None:
        print(absent_message())
        return 1
    pages = load_dumps(split="train")
    result = train(pages)
    if "--cv-only" in argv:
        return 0
    MODEL_PATH.write_text(model_json(result["model"]), encoding="utf-8")
    load_line_model.cache_clear()
    trees, sample = result["check"]
    ours = np.array(tree_scores(load_line_model(), sample.tolist(), FEATURES))
    theirs = trees.predict_proba(sample, raw_score=True)
    if not np.allclose(ours, theirs, atol=1e-9):
        raise AssertionError(f"the JSON trees disagree with LightGBM: max diff {np.abs(ours - theirs).max()}")
    print(f"\nwrote {MODEL_PATH.relative_to(MODEL_PATH.parents[2])} ({MODEL_PATH.stat().st_size // 1024} KiB); "
          "its trees give LightGBM's scores on 2,000 lines")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
