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


def _tree_value(node: dict, row: dict[str, float]) -> float:
    while "leaf" not in node:
        node = node["left"] if row[node["feature"]] <= node["threshold"] else node["right"]
    return node["leaf"]


def tree_scores(model: LineModel, rows: Sequence[Sequence[float]], names: Sequence[str]) -> list[float]:
    """Stage 1: the trees' raw score (log-odds) of each row; ``names`` label the row's columns."""
    missing = set(model.features) - set(names)
    if missing:
        raise ValueError(f"line model needs features the extractor does not compute: {sorted(missing)}")
    out = []
    for row in rows:
        named = dict(zip(names, row))
        out.append(sum(_tree_value(tree, named) for tree in model.trees))
    return out


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
