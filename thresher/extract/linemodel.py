"""The dump line model: for each line of a text dump, the probability that it is article body.

Two stages, both stored in one readable JSON file in the repository
(``thresher/data/line_model.json``, rebuilt by ``make train-dumps`` from the train split of the
real dev pages; see docs/dumps.md):

1. **Line scores.** Boosted decision trees (trained with LightGBM, stored as nested
   ``{"feature", "threshold", "left", "right"}`` / ``{"leaf"}`` objects and evaluated here in
   plain Python, so no library version is needed to read them) over the features of
   :mod:`.linefeatures`: the line's own shape, its neighbours, where it sits, and which named
   rule would remove it.
2. **Sequence smoothing.** A logistic model over each line's score and its neighbours' scores
   in a window (and the page's best score), so one prose-looking line in a menu, or one short
   line inside the article, follows its surroundings. Measured on train (5-fold by page) it
   beats deciding each line alone; the figures are in docs/dumps.md.

Pure: the same rows always give the same probabilities. The model is loaded once per process.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "line_model.json"
WINDOW_FEATURES = ("z", "z-1", "z+1", "z-2", "z+2", "mean3", "mean8", "max3", "page_max", "page_mean",
                   "gap_to_page_max", "page_kept_share")
_CLIP = 1e-4
_PAD = -5.0  # the score of a line beyond the page's edge: surely not body


@dataclass(frozen=True)
class LineModel:
    """A loaded model: the feature names it was trained on, its trees, the smoothing weights
    and the thresholds that turn probabilities into decisions."""

    version: int
    features: tuple[str, ...]
    trees: tuple[dict, ...]
    smooth_weights: tuple[float, ...]
    smooth_bias: float
    keep_threshold: float
    restore_threshold: float
    restorable_rules: frozenset[str]
    sha256: str  # of the file: a retrained model under the same version is still told apart

    @property
    def name(self) -> str:
        return f"line_model@{self.version}"


@lru_cache(maxsize=4)
def load_line_model(path: Path = MODEL_PATH) -> LineModel:
    """The model in ``path`` (the packaged one by default). Raises ValueError on a file that is
    not a line model, so a bad model stops a run at start rather than page by page."""
    blob = path.read_bytes()
    data = json.loads(blob.decode("utf-8"))
    if data.get("kind") != "thresher-dump-line-model":
        raise ValueError(f"{path} is not a dump line model")
    smooth = data["smoothing"]
    if tuple(smooth["features"]) != WINDOW_FEATURES:
        raise ValueError(f"{path}: smoothing features {smooth['features']} differ from {WINDOW_FEATURES}")
    return LineModel(
        version=int(data["version"]),
        features=tuple(data["features"]),
        trees=tuple(data["trees"]),
        smooth_weights=tuple(float(w) for w in smooth["weights"]),
        smooth_bias=float(smooth["bias"]),
        keep_threshold=float(data["keep_threshold"]),
        restore_threshold=float(data["restore_threshold"]),
        restorable_rules=frozenset(data["restorable_rules"]),
        sha256=hashlib.sha256(blob).hexdigest(),
    )


@dataclass(frozen=True)
class _Forest:
    """The trees as flat arrays, so every line of a page walks every tree in one numpy step per
    level (walking the nested objects in Python cost about 9 ms for a dump of 180 lines, this 2 ms)."""

    feature: np.ndarray  # per node: the column it tests, -1 for a leaf
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray  # per node: the leaf's value (0 for a split)
    roots: np.ndarray  # per tree: its root node


def _pack(trees: Sequence[dict], features: Sequence[str]) -> _Forest:
    column = {name: i for i, name in enumerate(features)}
    feature, threshold, left, right, leaf, roots = [], [], [], [], [], []

    def add(node: dict) -> int:
        idx = len(feature)
        feature.append(-1)
        threshold.append(0.0)
        left.append(idx)
        right.append(idx)
        leaf.append(0.0)
        if "leaf" in node:
            leaf[idx] = float(node["leaf"])
        else:
            feature[idx], threshold[idx] = column[node["feature"]], float(node["threshold"])
            left[idx] = add(node["left"])
            right[idx] = add(node["right"])
        return idx

    for tree in trees:
        roots.append(add(tree))
    return _Forest(np.array(feature, np.intp), np.array(threshold), np.array(left, np.intp),
                   np.array(right, np.intp), np.array(leaf), np.array(roots, np.intp))


_FORESTS: dict[int, tuple[tuple[dict, ...], _Forest]] = {}  # id(model.trees) -> (the trees, packed)


def _forest(model: LineModel) -> _Forest:
    held = _FORESTS.get(id(model.trees))
    if held is None or held[0] is not model.trees:
        held = (model.trees, _pack(model.trees, model.features))
        _FORESTS[id(model.trees)] = held
    return held[1]


def tree_scores(model: LineModel, rows: Sequence[Sequence[float]], names: Sequence[str]) -> list[float]:
    """Stage 1: the trees' raw score (log-odds) of each row; ``names`` label the row's columns.
    A row goes left where its value is <= the split's threshold (NaN goes right), and the trees'
    values are added in the file's order, so the sums are the same floats as a walk of the
    nested objects would give."""
    missing = set(model.features) - set(names)
    if missing:
        raise ValueError(f"line model needs features the extractor does not compute: {sorted(missing)}")
    if not rows:
        return []
    forest = _forest(model)
    at = {name: i for i, name in enumerate(names)}
    x = np.asarray(rows, dtype=np.float64)[:, [at[name] for name in model.features]]
    width = x.shape[1]
    x = x.ravel()
    trees = len(forest.roots)
    node = np.tile(forest.roots, len(rows))  # row-major: element k walks tree k % trees for row k // trees
    base = np.repeat(np.arange(len(rows)) * width, trees)  # where each element's row starts in x
    walking = np.flatnonzero(forest.feature[node] >= 0)
    while walking.size:  # one level of every tree still walking, for every row at once
        at_node = node[walking]
        feature = forest.feature[at_node]
        goes_left = x[base[walking] + feature] <= forest.threshold[at_node]
        at_node = np.where(goes_left, forest.left[at_node], forest.right[at_node])
        node[walking] = at_node
        walking = walking[forest.feature[at_node] >= 0]
    values = forest.leaf[node].reshape(len(rows), trees)
    total = np.zeros(len(rows))
    for t in range(values.shape[1]):  # in order, one tree at a time: the same sums as Python's sum()
        total += values[:, t]
    return total.tolist()


def _logit(p: float) -> float:
    p = min(1 - _CLIP, max(_CLIP, p))
    return math.log(p / (1 - p))


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def window_rows(probs: Sequence[float]) -> list[list[float]]:
    """Stage 2 inputs (:data:`WINDOW_FEATURES`) of each line from the stage-1 probabilities."""
    z = [_logit(p) for p in probs]
    n = len(z)
    if not n:
        return []

    def at(i: int) -> float:
        return z[i] if 0 <= i < n else _PAD

    def mean_around(i: int, k: int) -> float:
        lo, hi = max(0, i - k), min(n, i + k + 1)
        return (sum(z[lo:hi]) - z[i]) / max(1, hi - lo - 1)

    top, mean = max(z), sum(z) / n
    kept_share = sum(1 for p in probs if p > 0.5) / n
    return [
        [z[i], at(i - 1), at(i + 1), at(i - 2), at(i + 2), mean_around(i, 3), mean_around(i, 8),
         max(at(i + o) for o in (-3, -2, -1, 1, 2, 3)), top, mean, z[i] - top, kept_share]
        for i in range(n)
    ]


def body_probabilities(model: LineModel, rows: Sequence[Sequence[float]], names: Sequence[str]) -> list[float]:
    """The probability that each line is article body, after smoothing over its neighbours."""
    stage1 = [_sigmoid(s) for s in tree_scores(model, rows, names)]
    return [
        _sigmoid(model.smooth_bias + sum(w * x for w, x in zip(model.smooth_weights, feats)))
        for feats in window_rows(stage1)
    ]
